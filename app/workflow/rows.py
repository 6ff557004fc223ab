"""The adapter's own rows written for one step: the instance, its completed, cancelled and new human tasks.

Written with Core statements built once instead of the unit-of-work flush (whose bookkeeping cost as
much as the step's SQL), and on PostgreSQL as **one** statement — each write a data-modifying ``WITH``
part, the instance's row count and the new tasks' ids read back together — so a step's engine writes
cost one round trip whatever they are.  SQLite, which has no data-modifying ``WITH``, runs the same
statements one after the other (in process: no round trips to save).

The caller flushes what the operation changed (its subject, the timeline) first, so the instance's version
is checked as stored.  The ORM objects then hold the written values as their stored state and the new
tasks join the session as rows that exist: nothing of the step is left pending.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, func, insert, select, union_all, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.core.db import db
from app.workflow import forms
from app.workflow.models import HumanTask, ProcessInstance

_INSTANCES, _TASKS = ProcessInstance.__table__, HumanTask.__table__

#: the columns of a new task's row that come from the engine (the rest are the defaults of an open task)
TASK_COLUMNS = ("instance_id", "task_uuid", "subject_type", "subject_id", "created_at", "bpmn_id", "name",
                "lane", "org_kind", "org_id", "form_key", "title", "due_at")
OPEN_TASK_DEFAULTS = {"status": "open", "overdue": False, "claimed_by_id": None, "claimed_at": None,
                      "completed_by_id": None, "completed_at": None}

_UPDATE_INSTANCE = (update(_INSTANCES)
                    .where(_INSTANCES.c.id == bindparam("b_id"), _INSTANCES.c.version == bindparam("b_version"))
                    .values(state=bindparam("b_state"), completed=bindparam("b_completed"),
                            updated_at=bindparam("b_updated_at"), version=bindparam("b_new_version")))
_COMPLETE_TASK = (update(_TASKS).where(_TASKS.c.id == bindparam("b_done_id"))
                  .values(status="completed", completed_by_id=bindparam("b_done_by"),
                          completed_at=bindparam("b_done_at")))
_CANCEL_TASKS = (update(_TASKS).where(_TASKS.c.id.in_(bindparam("b_cancel_ids", expanding=True)))
                 .values(status="cancelled"))


class InstanceChanged(Exception):
    """The instance's row was not at the version read (another transaction changed it first)."""


@dataclass
class StepRows:
    """What one step writes of the adapter's rows."""
    instance: ProcessInstance
    state: str
    completed: bool
    updated_at: datetime
    done: HumanTask | None = None         # the task the step completed ...
    done_by: int | None = None            # ... by this user
    done_at: datetime | None = None
    cancelled: tuple[HumanTask, ...] = ()  # open tasks whose task is no longer ready
    new: tuple[HumanTask, ...] = ()        # transient: not in the session


@lru_cache(maxsize=64)
def _insert_task(i: int):
    """``INSERT`` of the ``i``-th new open task of a step (parameters ``b_<i>_<column>``), looking up its form
    version itself (the current one of its form key; NULL without a deployed form).  One row per
    statement: a multi-row ``VALUES`` has no cache key, and would be compiled again on every step."""
    return (insert(_TASKS)
            .values(**{c: bindparam(f"b_{i}_{c}") for c in TASK_COLUMNS},
                    **{k: v for k, v in OPEN_TASK_DEFAULTS.items() if v is not None},
                    form_artifact_id=forms.version_subquery(bindparam(f"b_{i}_form_key")))
            .returning(_TASKS.c.id, _TASKS.c.form_artifact_id, _TASKS.c.task_uuid))


@lru_cache(maxsize=64)
def _one_statement(done: bool, cancel: bool, n_new: int):
    """PostgreSQL: every write of a step as a ``WITH`` part of one statement, which answers the instance's
    updated row count (on each row) and the new tasks' ids and form versions (a row each)."""
    instance = _UPDATE_INSTANCE.returning(_INSTANCES.c.id).cte("zx_instance")
    parts = [instance]
    if done:
        parts.append(_COMPLETE_TASK.returning(_TASKS.c.id).cte("zx_done"))
    if cancel:
        parts.append(_CANCEL_TASKS.returning(_TASKS.c.id).cte("zx_cancelled"))
    instance_rows = select(func.count()).select_from(instance).scalar_subquery().label("instance_rows")
    if not n_new:
        return select(instance_rows).add_cte(*parts)
    new = [_insert_task(i).cte(f"zx_new_{i}") for i in range(n_new)]
    created = union_all(*(select(c.c.id, c.c.form_artifact_id, c.c.task_uuid) for c in new)).subquery("zx_new")
    return select(instance_rows, created.c.id, created.c.form_artifact_id, created.c.task_uuid).add_cte(*parts)


def write(rows: StepRows) -> None:
    """Write ``rows``; raises :class:`InstanceChanged` (nothing to keep: the caller rolls back) when the
    instance's row was not at the version this transaction read."""
    inst = rows.instance
    params = {"b_id": inst.id, "b_version": inst.version, "b_new_version": inst.version + 1,
              "b_state": rows.state, "b_completed": rows.completed, "b_updated_at": rows.updated_at}
    if rows.done is not None:
        params.update(b_done_id=rows.done.id, b_done_by=rows.done_by, b_done_at=rows.done_at)
    if rows.cancelled:
        params["b_cancel_ids"] = [ht.id for ht in rows.cancelled]
    for i, ht in enumerate(rows.new):
        params.update({f"b_{i}_{c}": getattr(ht, c) for c in TASK_COLUMNS})
    if db.session.get_bind().dialect.name == "postgresql":
        result = db.session.execute(_one_statement(rows.done is not None, bool(rows.cancelled), len(rows.new)),
                                    params).all()
        if result[0].instance_rows != 1:
            raise InstanceChanged(inst.id)
        created = {r.task_uuid: (r.id, r.form_artifact_id) for r in result} if rows.new else {}
    else:
        if db.session.execute(_UPDATE_INSTANCE, params).rowcount != 1:
            raise InstanceChanged(inst.id)
        if rows.done is not None:
            db.session.execute(_COMPLETE_TASK, params)
        if rows.cancelled:
            db.session.execute(_CANCEL_TASKS, params)
        created = {}
        for i in range(len(rows.new)):
            r = db.session.execute(_insert_task(i), params).one()
            created[r.task_uuid] = (r.id, r.form_artifact_id)
    _stored(rows, created)


def _stored(rows: StepRows, created: dict[str, tuple[int, int | None]]) -> None:
    """The ORM objects take what was written as their stored state (no change left for the flush)."""
    inst = rows.instance
    for key, value in (("state", rows.state), ("completed", rows.completed), ("updated_at", rows.updated_at),
                       ("version", inst.version + 1)):
        set_committed_value(inst, key, value)
    if rows.done is not None:
        for key, value in (("status", "completed"), ("completed_by_id", rows.done_by),
                           ("completed_at", rows.done_at)):
            set_committed_value(rows.done, key, value)
    for ht in rows.cancelled:
        set_committed_value(ht, "status", "cancelled")
    for ht in rows.new:
        ht.id, ht.form_artifact_id = created[ht.task_uuid]
        make_transient_to_detached(ht)      # a row that exists: the session holds it, the flush skips it
        db.session.add(ht)
