"""Task pages of the duty processes (form keys in bpmn/monthly_filing.bpmn, bpmn/credit_data_collection.bpmn)."""
from __future__ import annotations

from app.core import audit
from app.core.i18n import N_, _
from app.credit import sources as credit_sources
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
    ctx["book"] = ops.book_coverage(ctx["duty"])
    return ctx


def _filing_submit(form, ht, user, written):
    duty = ops.submit_monthly_filing(ht.id, user, ops.MonthlyFilingInput(
        form.confirmed.data, form.firm_count.data, form.loan_count.data, form.total_amount.data, form.note.data or ""))
    return _("{period} 月度项目备案与统计已报送").format(period=duty.period)


def _upload_context(ht, user):
    ctx = _context(ht, user)
    ctx["category"] = credit_sources.unit_category(ctx["duty"].org_id)
    return ctx


def _upload_submit(form, ht, user, written):
    f = form.file.data
    duty = ops.submit_credit_data(ht.id, user, f.filename or "", f.read(), form.note.data or "")
    return _("{period} 信用信息已载入 {n} 条").format(period=duty.period, n=duty.result["record_count"])


register(TaskHandler("monthly_filing", MonthlyFilingForm, N_("月度项目备案与统计"),
                     "duties/monthly_filing.html", _filing_prepare, _filing_context, _filing_submit))
register(TaskHandler("credit_data_upload", CreditDataUploadForm, N_("季度信用信息采集"),
                     "duties/credit_data_upload.html", lambda f, h, u: None, _upload_context, _upload_submit))
