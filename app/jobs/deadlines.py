"""Deadlines of human tasks: a reminder one working day before, an escalation when passed.

Escalation flags the task overdue (the queue and the dashboard count it) and notifies the
assigned organisation and the scheme's financial office.  Each happens once per task: the
``task_deadline_events`` row (unique per task and kind) is written in the same transaction as
the flag and the notifications, so a second run -- or a concurrent one -- finds it and does nothing.
"""
from __future__ import annotations

from datetime import datetime, time
from typing import Callable

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Organisation, User
from app.applications.models import LoanApplication
from app.compensation.models import CompensationClaim
from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import SHANGHAI, local, now
from app.core.workdays import calendar
from app.notifications.messages import named, pack
from app.notifications.operations import notify, users_of_kind, users_of_org
from app.policies.models import SchemeMember
from app.jobs.runner import interval, job
from app.jobs.models import TaskDeadlineEvent
from app.workflow.engine import workflow_data
from app.workflow.models import HumanTask


# subject type -> fn(subject_id) -> scheme id (to find the scheme's financial office)
_SCHEME_OF: dict[str, Callable[[int], int | None]] = {}


def register_scheme_resolver(subject_type: str, fn: Callable[[int], int | None]) -> None:
    _SCHEME_OF[subject_type] = fn


def _loan_application_scheme(subject_id: int) -> int | None:
    a = db.session.get(LoanApplication, subject_id)
    return a.scheme_id if a else None


def _compensation_claim_scheme(subject_id: int) -> int | None:
    c = db.session.get(CompensationClaim, subject_id)
    return c.scheme_id if c else None


register_scheme_resolver("loan_application", _loan_application_scheme)
register_scheme_resolver("compensation_claim", _compensation_claim_scheme)


def financial_office_users(ht: HumanTask):
    scheme_id = None
    resolver = _SCHEME_OF.get(ht.subject_type)
    if resolver:
        scheme_id = resolver(ht.subject_id)
    if scheme_id is None:
        data = workflow_data(ht.instance)
        if data.get("finoffice_org_id"):
            return users_of_org(int(data["finoffice_org_id"]))
        scheme_id = data.get("scheme_id")
    if scheme_id is not None:
        org_ids = list(db.session.scalars(select(SchemeMember.organisation_id).where(
            SchemeMember.scheme_id == scheme_id, SchemeMember.role == "financial_office")))
        if org_ids:
            return [u for oid in org_ids for u in users_of_org(oid)]
    return users_of_kind("financial_office")


def _mark(ht_id: int, kind: str) -> bool:
    """Record the event; False if it was already recorded (by this or a concurrent run)."""
    try:
        with db.session.begin_nested():
            db.session.add(TaskDeadlineEvent(human_task_id=ht_id, kind=kind, at=now()))
            db.session.flush()
        return True
    except IntegrityError:
        return False


def _not_done(kind: str):
    return ~exists().where(TaskDeadlineEvent.human_task_id == HumanTask.id, TaskDeadlineEvent.kind == kind)


def _assignees(ht: HumanTask):
    if ht.claimed_by_id:
        return [db.session.get(User, ht.claimed_by_id)]
    return users_of_org(ht.org_id) if ht.org_id else []


def reminder_cutoff(at: datetime) -> datetime:
    """Tasks due up to the end of the next working day get their reminder at ``at``."""
    day = local(at).date()
    nxt = calendar().add_working_days(day, 1)
    return datetime.combine(nxt, time(23, 59, 59), tzinfo=SHANGHAI)


def _due(ht: HumanTask) -> str:
    return local(ht.due_at).strftime("%Y-%m-%d %H:%M")


def _item(ht: HumanTask) -> dict:
    org = db.session.get(Organisation, ht.org_id) if ht.org_id else None
    return {"task_id": ht.id, "name": {"msgid": ht.name}, "due": _due(ht), "title": ht.title or "",
            "org": named(org) if org else ""}


def _by_recipient(tasks: list[HumanTask], recipients: Callable[[HumanTask], list]) -> list[tuple[User, list]]:
    """Each recipient once, with every task of ``tasks`` it is told about (in deadline order)."""
    groups: dict[int, tuple[User, list]] = {}
    for ht in tasks:
        for u in recipients(ht):
            if u is not None:
                groups.setdefault(u.id, (u, []))[1].append(ht)
    return list(groups.values())


def _tell(user: User, tasks: list[HumanTask], key: str, kind: str, one: tuple[str, str], many: str, item: str,
          to_queue: bool) -> None:
    """One message to ``user`` about ``tasks``: naming the task when there is one, else listing them all
    (one message listing 19 overdue steps, not 19 messages).  Stored as msgids, translated when shown."""
    if len(tasks) == 1:
        ht = tasks[0]
        notify([user], key, kind, one[0], one[1], f"/tasks/{ht.id}" if to_queue else None, pack(_item(ht)))
        return
    orgs = []
    for ht in tasks:
        org = db.session.get(Organisation, ht.org_id) if ht.org_id else None
        if org is not None and org.name not in [o["name"] for o in orgs]:
            orgs.append(named(org))
    args = {"n": len(tasks), "orgs": {"name": "、".join(o["name"] for o in orgs[:3]) + ("等" if len(orgs) > 3 else ""),
                                      "name_en": ", ".join(o["name_en"] or o["name"] for o in orgs[:3])
                                      + (" and others" if len(orgs) > 3 else "")}}
    notify([user], key, kind, many, "", "/tasks/?sort=due" if to_queue else None,
           pack(args, item, [_item(ht) for ht in tasks]))


def send_reminders(at: datetime, limit: int = 1000) -> int:
    """Remind each assignee once of every task due by the end of the next working day: one message per
    person, whatever the number of tasks.  One transaction (the events and the messages together)."""
    cutoff = reminder_cutoff(at)
    ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at > at,
        HumanTask.due_at <= cutoff, _not_done("reminder")).order_by(HumanTask.due_at, HumanTask.id).limit(limit)))
    tasks = [db.session.get(HumanTask, i) for i in ids if _mark(i, "reminder")]
    for user, hts in _by_recipient(tasks, _assignees):
        _tell(user, hts, f"reminder:t{hts[0].id}", "reminder",
              (N_("待办即将到期：{name}（{due}前）"), N_("{title}")), N_("{n} 项待办即将到期"),
              N_("{name}（{due}前）：{title}"), True)
    db.session.commit()
    return len(tasks)


def escalate_overdue(at: datetime, limit: int = 1000) -> int:
    """Flag every open task past its deadline overdue, once, and tell its assignees and the scheme's
    financial office: one message per recipient listing all the steps that became overdue in this run."""
    ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at < at,
        _not_done("escalation")).order_by(HumanTask.due_at, HumanTask.id).limit(limit)))
    tasks = []
    for ht_id in ids:
        if not _mark(ht_id, "escalation"):
            continue
        db.session.execute(update(HumanTask).where(HumanTask.id == ht_id).values(overdue=True))
        tasks.append(db.session.get(HumanTask, ht_id))
    for user, hts in _by_recipient(tasks, _assignees):
        _tell(user, hts, f"escalation:t{hts[0].id}", "escalation",
              (N_("待办已逾期：{name}（期限 {due}）"), N_("{title}")), N_("{n} 项待办已逾期"),
              N_("{name}（期限 {due}）：{title}"), True)

    def office(ht):   # the financial office, less those already told as the task's assignees
        told = {u.id for u in _assignees(ht) if u is not None}
        return [u for u in financial_office_users(ht) if u.id not in told]

    for user, hts in _by_recipient(tasks, office):
        _tell(user, hts, f"escalation:t{hts[0].id}:office", "escalation",
              (N_("逾期督办：{org}的“{name}”已超过期限 {due}"), N_("{title}")),
              N_("逾期督办：{orgs}共 {n} 项待办已超过期限"), N_("{org}：{name}（期限 {due}）{title}"),
              False)
    db.session.commit()
    return len(tasks)


@job("deadlines", N_("期限提醒与逾期督办"), interval("DEADLINE_SCAN_SECONDS", 900),
     N_("到期前一个工作日提醒经办单位；逾期后标记逾期并通知金融办"))
def deadlines_job(at: datetime) -> str:
    r = send_reminders(at)
    e = escalate_overdue(at)
    return f"reminders {r}, escalations {e}"
