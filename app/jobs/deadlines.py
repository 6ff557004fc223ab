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
from app.core.i18n import N_, _
from app.core.timeutil import SHANGHAI, local, now
from app.core.workdays import calendar
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


def send_reminders(at: datetime, limit: int = 1000) -> int:
    cutoff = reminder_cutoff(at)
    ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at > at,
        HumanTask.due_at <= cutoff, _not_done("reminder")).order_by(HumanTask.due_at).limit(limit)))
    sent = 0
    for ht_id in ids:
        ht = db.session.get(HumanTask, ht_id)
        if not _mark(ht_id, "reminder"):
            continue
        title = _("待办即将到期：{name}（{due}前）").format(name=ht.name, due=local(ht.due_at).strftime("%Y-%m-%d %H:%M"))
        notify(_assignees(ht), f"reminder:t{ht_id}", "reminder", title, ht.title, f"/tasks/{ht_id}")
        db.session.commit()
        sent += 1
    return sent


def escalate_overdue(at: datetime, limit: int = 1000) -> int:
    ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.due_at < at,
        _not_done("escalation")).order_by(HumanTask.due_at).limit(limit)))
    done = 0
    for ht_id in ids:
        if not _mark(ht_id, "escalation"):
            continue
        db.session.execute(update(HumanTask).where(HumanTask.id == ht_id).values(overdue=True))
        ht = db.session.get(HumanTask, ht_id)
        due = local(ht.due_at).strftime("%Y-%m-%d %H:%M")
        org = db.session.get(Organisation, ht.org_id) if ht.org_id else None
        who = org.name if org else ""
        notify(_assignees(ht), f"escalation:t{ht_id}", "escalation",
               _("待办已逾期：{name}（期限 {due}）").format(name=ht.name, due=due), ht.title, f"/tasks/{ht_id}")
        notify(financial_office_users(ht), f"escalation:t{ht_id}", "escalation",
               _("逾期督办：{org}的“{name}”已超过期限 {due}").format(org=who, name=ht.name, due=due),
               ht.title, None)
        db.session.commit()
        done += 1
    return done


@job("deadlines", N_("期限提醒与逾期督办"), interval("DEADLINE_SCAN_SECONDS", 900),
     N_("到期前一个工作日提醒经办单位；逾期后标记逾期并通知金融办"))
def deadlines_job(at: datetime) -> str:
    r = send_reminders(at)
    e = escalate_overdue(at)
    return f"reminders {r}, escalations {e}"
