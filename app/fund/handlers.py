"""Task pages of the rectification process (form keys named in bpmn/rectification.bpmn)."""
from __future__ import annotations

from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _, localname
from app.fund import rectification, thresholds
from app.fund.models import Suspension
from app.tasks.registry import TaskHandler, register
from forms.fund import RectificationReportForm, RectificationReviewForm


def _context(ht, user):
    s = db.session.get(Suspension, ht.subject_id)
    return {"s": s, "events": audit.timeline(rectification.SUBJECT, s.id),
            "attachments": rectification.attachments_of(s.id),
            "npl_now": thresholds.bank_npl(s.scheme_id, s.bank_id)}


def _noop(form, ht, user):
    return None


def _report_submit(form, ht, user, written):
    from flask import request
    files = [(f.filename, f.read()) for f in request.files.getlist(form.files.name) if f and f.filename]
    rectification.submit_report(ht.id, user, form.report.data, files, written)
    return _("整改报告已提交，等待金融办审核")


def _review_submit(form, ht, user, written):
    s = rectification.review(ht.id, user, form.decision.data, form.opinion.data)
    if form.decision.data == "approve":
        return _("已认可整改，{bank} 恢复开展业务").format(bank=localname(s.bank))
    return _("已退回银行继续整改")


register(TaskHandler("rectification_report", RectificationReportForm, N_("提交整改报告"),
                     "fund/task_rectification_report.html", _noop, _context, _report_submit))
register(TaskHandler("rectification_review", RectificationReviewForm, N_("审核整改报告"),
                     "fund/task_rectification_review.html", _noop, _context, _review_submit))
