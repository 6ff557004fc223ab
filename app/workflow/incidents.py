"""Incidents: a step of a diagram that failed, recorded where administrators see it.

A step (a user's submission, a timer, an administrator's retry, the start of an instance) that
fails inside the diagram — a script error, a condition or assignment that reads missing data, a
refused expression — is rolled back with the rest of its transaction: the instance keeps the state
it had before, so it stays recoverable.  The adapter (``engine._step``) turns the error into a
:class:`Failure` and raises ``engine.StepFailed``, whose message is for the user.

The incident is written in a transaction of its OWN, after the failed one was rolled back (a second
connection while the step still holds the instance's row lock would wait for itself on PostgreSQL):

* in a request, :func:`record_after_rollback` registers :func:`record` with the request wrapper's
  ``on_rollback`` (``app/core/transaction.py``), which runs it once the request's work is undone;
* in a job or a command, the caller catches ``StepFailed`` after its ``unit_of_work`` rolled back
  and calls :func:`record` (``app/jobs/timers.py``).

:func:`record` is idempotent per failure; while an incident of the same instance, element and error
is open, a repetition counts ``occurrences`` instead of adding a row.  Each new incident notifies
every administrator in the app.  An incident is resolved by the next successful step over the same
work (the same human task completed, or the engine advanced without error), or by an administrator
with a note.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select, update
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.core import audit
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.core.i18n import N_, _, stored
from app.core.timeutil import now
from app.core.transaction import on_rollback, unit_of_work
from app.notifications.operations import notify, users_of_kind
from app.workflow.models import Incident, ProcessInstance

SUBJECT = "process_instance"      # audit subject of instance-level events
MAX_MESSAGE = 4000


@dataclass
class Failure:
    """What failed, where and for whom; taken from the exception before the rollback."""
    source: str                    # start | task | timer | retry | migrate
    process_id: str
    error_type: str
    message: str
    spec_id: int | None = None
    instance_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    bpmn_id: str | None = None
    task_name: str | None = None
    human_task_id: int | None = None
    user_id: int | None = None
    incident_id: int | None = field(default=None, compare=False)


def describe(exc: BaseException) -> tuple[str | None, str | None, str, str]:
    """(element id, element name, error type, message) of an error raised by a diagram step.

    The adapter re-raises the sandbox's own error (``DiagramExpressionError``) from SpiffWorkflow's
    wrapper; the wrapper knows the task, the inner error says what went wrong.
    """
    outer, inner = exc, exc
    if not isinstance(exc, SpiffWorkflowException) and isinstance(exc.__cause__, SpiffWorkflowException):
        outer = exc.__cause__
    elif isinstance(exc, SpiffWorkflowException) and isinstance(getattr(exc, "exception", None), BaseException):
        inner = exc.exception
    task = getattr(outer, "task", None)
    spec = task.task_spec if task is not None else getattr(outer, "task_spec", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    name = getattr(spec, "bpmn_name", None)
    if inner is not outer:
        error_type = type(inner).__name__
        message = str(inner)
        notes = [n for n in getattr(outer, "notes", []) if n]
        if notes:
            message += " " + " ".join(notes)
    else:
        error_type = getattr(outer, "error_type", None)
        error_type = error_type if error_type and error_type != "unknown" else type(outer).__name__
        message = str(outer)
    return bpmn_id, name, error_type[:100], message[:MAX_MESSAGE]


def failure_from(exc: BaseException, *, source: str, process_id: str, spec_id=None, instance=None,
                 subject_type=None, subject_id=None, user=None, human_task_id=None) -> Failure:
    bpmn_id, name, error_type, message = describe(exc)
    if instance is not None:
        spec_id, subject_type, subject_id = instance.spec_id, instance.subject_type, instance.subject_id
    return Failure(source=source, process_id=process_id, error_type=error_type, message=message, spec_id=spec_id,
                   instance_id=instance.id if instance is not None else None, subject_type=subject_type,
                   subject_id=subject_id, bpmn_id=(bpmn_id or "")[:100] or None, task_name=(name or "")[:200] or None,
                   human_task_id=human_task_id, user_id=getattr(user, "id", None))


def record_after_rollback(failure: Failure) -> None:
    """In a request: record ``failure`` once the request's transaction has been rolled back."""
    def _record():
        try:
            record(failure)
        except Exception:   # never turn the user's clear message into a 500; the log keeps the failure
            db.session.rollback()
            current_app.logger.exception("could not record the incident of %s", failure)
    on_rollback(_record)


def record(failure: Failure) -> Incident:
    """Write the incident in a transaction of its own (commits); call it after the failed step's
    transaction was rolled back.  Idempotent per failure."""
    if failure.incident_id is not None:
        return db.session.get(Incident, failure.incident_id)
    with unit_of_work():
        inc = db.session.scalar(select(Incident).where(
            Incident.status == "open", Incident.process_id == failure.process_id,
            Incident.instance_id.is_(None) if failure.instance_id is None
            else Incident.instance_id == failure.instance_id,
            Incident.bpmn_id.is_(None) if failure.bpmn_id is None else Incident.bpmn_id == failure.bpmn_id,
            Incident.error_type == failure.error_type).order_by(Incident.id).limit(1))
        at = now()
        if inc is not None:
            inc.occurrences += 1
            inc.last_seen_at = at
            inc.message = failure.message
            inc.user_id = failure.user_id
            inc.human_task_id = failure.human_task_id
        else:
            inc = Incident(instance_id=failure.instance_id, spec_id=failure.spec_id, process_id=failure.process_id,
                           subject_type=failure.subject_type, subject_id=failure.subject_id, source=failure.source,
                           bpmn_id=failure.bpmn_id, task_name=failure.task_name,
                           human_task_id=failure.human_task_id, error_type=failure.error_type,
                           message=failure.message, user_id=failure.user_id, occurred_at=at, last_seen_at=at,
                           occurrences=1, status="open")
            db.session.add(inc)
            db.session.flush()
            where = failure.task_name or failure.bpmn_id or "—"
            notify(users_of_kind("admin"), f"incident:{inc.id}", "incident",
                   stored(N_("流程事件：{process} 的“{task}”出错"), process=failure.process_id,
                          task={"msgid": where} if failure.task_name else where),
                   f"{failure.error_type}: {failure.message}"[:1000], f"/admin/workflow/incidents/{inc.id}")
        if failure.instance_id is not None:
            # a Core UPDATE: no version bump, so a step in flight on the instance is not refused for it
            db.session.execute(update(ProcessInstance).where(ProcessInstance.id == failure.instance_id)
                               .values(has_incident=True).execution_options(synchronize_session=False))
            audit.record(SUBJECT, failure.instance_id, "incident", None,
                         details={"incident": inc.id, "task": failure.bpmn_id, "error": failure.error_type,
                                  "source": failure.source}, visible_to_enterprise=False)
    failure.incident_id = inc.id
    return inc


# ---------------------------------------------------------------------------- resolving

def _refresh_flag(instance_id: int) -> None:
    still = db.session.scalar(select(func.count()).select_from(Incident).where(
        Incident.instance_id == instance_id, Incident.status == "open"))
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                       .values(has_incident=bool(still)).execution_options(synchronize_session=False))


def resolve_after_step(instance: ProcessInstance, user=None, *, human_task_id: int | None = None) -> int:
    """A step over the instance succeeded (in the caller's transaction): resolve the incidents it
    answers — those of the same human task when one was completed, else those of the engine's own
    steps (timers, retries, migrations).  Called only when ``instance.has_incident``."""
    q = select(Incident).where(Incident.instance_id == instance.id, Incident.status == "open")
    q = q.where(Incident.human_task_id == human_task_id) if human_task_id is not None \
        else q.where(Incident.human_task_id.is_(None))
    rows = list(db.session.scalars(q))
    for inc in rows:
        inc.status, inc.resolved_at, inc.resolved_by_id = "resolved", now(), getattr(user, "id", None)
        inc.resolution = _("后续步骤已成功执行")
    if rows:
        db.session.flush()
        _refresh_flag(instance.id)
        instance.has_incident = bool(db.session.scalar(select(func.count()).select_from(Incident).where(
            Incident.instance_id == instance.id, Incident.status == "open")))
    return len(rows)


def resolve(incident_id: int, user, note: str) -> Incident:
    """An administrator marks an incident resolved (e.g. a start failure, or one fixed by hand)."""
    inc = db.session.get(Incident, incident_id)
    if inc is None:
        raise NotFound(_("流程事件不存在"))
    if inc.status != "open":
        raise Conflict(_("该流程事件已处理"))
    inc.status, inc.resolved_at, inc.resolved_by_id, inc.resolution = "resolved", now(), user.id, note
    db.session.flush()
    if inc.instance_id is not None:
        _refresh_flag(inc.instance_id)
        audit.record(SUBJECT, inc.instance_id, "incident_resolved", user, opinion=note,
                     details={"incident": inc.id}, visible_to_enterprise=False)
    return inc


# ---------------------------------------------------------------------------- reading

def open_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open")) or 0


def page_of(status: str = "open", page: int = 1, per_page: int = 50) -> tuple[list[Incident], int]:
    """One page of incidents (newest first) and the true total."""
    q = select(Incident)
    if status in ("open", "resolved"):
        q = q.where(Incident.status == status)
    total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = list(db.session.scalars(q.order_by(Incident.last_seen_at.desc(), Incident.id.desc())
                                   .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    return rows, total


def of_instance(instance_id: int) -> list[Incident]:
    return list(db.session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                   .order_by(Incident.id.desc())))
