"""Task queues: one indexed query on the human-task table per list."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import paging
from app.core.db import db
from app.workflow.models import HumanTask

SORTS = {
    "due": (HumanTask.due_at.asc().nulls_last(), HumanTask.created_at.asc()),
    "age": (HumanTask.created_at.asc(),),
    "newest": (HumanTask.created_at.desc(),),
}


def open_tasks_query(org_id: int, form_key: str | None = None, sort: str = "due", mine_user_id: int | None = None):
    q = select(HumanTask).where(HumanTask.org_id == org_id, HumanTask.status == "open")
    if form_key:
        q = q.where(HumanTask.form_key == form_key)
    if mine_user_id:
        q = q.where(HumanTask.claimed_by_id == mine_user_id)
    return q.order_by(*SORTS.get(sort, SORTS["due"]))


def open_tasks(org_id: int, form_key: str | None = None, sort: str = "due", limit: int = 200,
               offset: int = 0, mine_user_id: int | None = None) -> list[HumanTask]:
    return list(db.session.scalars(open_tasks_query(org_id, form_key, sort, mine_user_id).limit(limit).offset(offset)))


def open_tasks_page(org_id: int, form_key: str | None = None, sort: str = "due", args=None, per_page: int = 100,
                    mine_user_id: int | None = None) -> paging.Page:
    """One page of the queue (``args``: the request's, for the page number) with the true count."""
    return paging.paginate(open_tasks_query(org_id, form_key, sort, mine_user_id), args or {}, per_page)


def counts(org_id: int) -> dict[str, int]:
    rows = db.session.execute(select(HumanTask.form_key, func.count()).where(
        HumanTask.org_id == org_id, HumanTask.status == "open").group_by(HumanTask.form_key))
    return {k: n for k, n in rows}


def overdue_count(org_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.status == "open", HumanTask.overdue.is_(True))) or 0
