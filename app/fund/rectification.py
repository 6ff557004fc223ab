"""Rectification of a suspended bank (bpmn/rectification.bpmn).

A bank suspended by the NPL rule submits a rectification report (text, optional PDF/JPG/PNG
files); the scheme's financial office approves it — which lifts the suspension — or returns it
for further rectification.  Both steps are user tasks, so they show in the two task queues.
"""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Organisation
from app.applications.models import Attachment
from app.core import audit, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, name_param, stored
from app.core.timeutil import now
from app.fund.models import Suspension
from app.policies.models import Scheme
from app.policies import bindings
from app.workflow import engine

PROCESS = "rectification"     # the process kind (app/policies/bindings.py)
SUBJECT = "bank_suspension"


class RectificationError(DomainError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def start(s: Suspension):
    """Open the rectification process for a new suspension (called by the NPL threshold)."""
    scheme = db.session.get(Scheme, s.scheme_id)
    offices = scheme.member_orgs("financial_office")
    if not offices:
        raise RectificationError(_("该政策未配置金融办，无法开展整改审核，请联系管理员"))
    bank = db.session.get(Organisation, s.bank_id)
    instance = bindings.start_for(scheme, PROCESS, SUBJECT, s.id, {
        "title": stored(N_("{bank} · {scheme} · 暂停业务整改"), bank=name_param(bank), scheme=name_param(scheme)),
        "suspension_id": s.id, "scheme_id": s.scheme_id, "bank_org_id": s.bank_id,
        "finoffice_org_id": offices[0].id,
    })
    s.instance_id = instance.id
    db.session.flush()
    return instance


def _task_and_suspension(task_id: int, user, form_key: str):
    ht = engine.task_for_update(task_id, user, form_key, SUBJECT)
    return ht, db.session.get(Suspension, ht.subject_id)


def attachments_of(suspension_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(
        Attachment.subject_type == SUBJECT, Attachment.subject_id == suspension_id).order_by(Attachment.id)))


def submit_report(task_id: int, user, text: str, files, written: list[str]) -> Suspension:
    """The bank submits its rectification report.  ``files``: [(name, bytes)], all checked first."""
    ht, s = _task_and_suspension(task_id, user, "rectification_report")
    text = (text or "").strip()
    if not text:
        raise RectificationError(_("请填写整改报告（原因分析、整改措施、不良贷款处置进展）"), "report")
    for name, data in files:
        uploads.inspect(data, name)
    for name, data in files:
        sf = uploads.store(data, name)
        written.append(sf.stored_name)
        db.session.add(Attachment(subject_type=SUBJECT, subject_id=s.id, kind="rectification_report",
                                  original_name=sf.original_name, content_type=sf.content_type, size=sf.size,
                                  sha256=sf.sha256, stored_name=sf.stored_name, uploaded_by_id=user.id))
    s.report_text = text
    s.report_by_id = user.id
    s.report_at = now()
    s.status = "submitted"
    audit.record(SUBJECT, s.id, "rectification_submitted", user, text, details={"files": len(files)},
                 visible_to_enterprise=False)
    engine.complete(ht.id, user, {"review_decision": None})
    return s


def review(task_id: int, user, decision: str, opinion: str) -> Suspension:
    """The financial office approves the rectification (the suspension is lifted) or returns it."""
    ht, s = _task_and_suspension(task_id, user, "rectification_review")
    opinion = (opinion or "").strip()
    if decision not in ("approve", "return"):
        raise RectificationError(_("请选择审核结论"), "decision")
    if not opinion:
        raise RectificationError(_("请填写审核意见"), "opinion")
    s.review_opinion = opinion
    if decision == "approve":
        scheme = db.session.get(Scheme, s.scheme_id)
        member = scheme.member(s.bank_id, "bank")
        member.suspended = False
        member.suspended_reason = None
        s.status = "lifted"
        s.lifted_at = now()
        s.lifted_by_id = user.id
        audit.record(SUBJECT, s.id, "rectification_approved", user, opinion, visible_to_enterprise=False)
    else:
        s.status = "suspended"
        audit.record(SUBJECT, s.id, "rectification_returned", user, opinion, visible_to_enterprise=False)
    engine.complete(ht.id, user, {"review_decision": decision})
    return s
