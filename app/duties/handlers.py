"""Task pages of the duty processes (form keys in bpmn/monthly_filing.bpmn, bpmn/credit_data_collection.bpmn)."""
from __future__ import annotations

from app.core import audit
from app.core.i18n import N_, _
from app.duties import operations as ops
from app.tasks.registry import TaskHandler, register
from forms.duties import CreditDataUploadForm, MonthlyFilingForm


def _context(ht, user):
    duty = ops.duty_of(ht)
    return {"duty": duty, "events": audit.timeline(ops.SUBJECT, duty.id)}


def _filing_prepare(form, ht, user):
    if not form.is_submitted():
        firms, count, amount = ops.loan_totals(ops.period_loans(ops.duty_of(ht)))
        form.firm_count.data, form.loan_count.data, form.total_amount.data = firms, count, amount


def _filing_context(ht, user):
    ctx = _context(ht, user)
    ctx["loans"] = ops.period_loans(ctx["duty"])
    return ctx


def _filing_submit(form, ht, user, written):
    duty = ops.submit_monthly_filing(ht.id, user, ops.MonthlyFilingInput(
        form.confirmed.data, form.firm_count.data, form.loan_count.data, form.total_amount.data, form.note.data or ""))
    return _("{period} 月度项目备案与统计已报送").format(period=duty.period)


def _upload_submit(form, ht, user, written):
    from flask import request
    files = [(f.filename, f.read()) for f in request.files.getlist(form.files.name) if f and f.filename]
    duty = ops.submit_credit_data(ht.id, user, ops.CreditDataInput(form.record_count.data, form.note.data or ""),
                                  files, written)
    return _("{period} 信用信息已上传").format(period=duty.period)


register(TaskHandler("monthly_filing", MonthlyFilingForm, N_("月度项目备案与统计"),
                     "duties/monthly_filing.html", _filing_prepare, _filing_context, _filing_submit))
register(TaskHandler("credit_data_upload", CreditDataUploadForm, N_("季度信用信息采集"),
                     "duties/credit_data_upload.html", lambda f, h, u: None, _context, _upload_submit))
