"""Task pages of the interest-subsidy process (form keys named in bpmn/interest_subsidy.bpmn)."""
from __future__ import annotations

from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _
from app.core.money import fmt_yuan
from app.subsidies import operations as ops
from app.subsidies.models import SubsidyApplication
from app.tasks.registry import TaskHandler, register
from forms.subsidies import SubsidyBankConfirmForm, SubsidyFinanceForm, SubsidyReviewForm


def _context(ht, user):
    a = db.session.get(SubsidyApplication, ht.subject_id)
    b = ops.budget(a.scheme_id, a.programme)
    return {"a": a, "prog": a.scheme.params.programme(a.programme), "events": audit.timeline(ops.SUBJECT, a.id),
            "budget_balance": ops.balance(b.id) if ht.form_key == "subsidy_finance_review" else None}


def _noop(form, ht, user):
    return None


def _prefill(form, ht, user):
    a = db.session.get(SubsidyApplication, ht.subject_id)
    if form.interest_paid.data is None:
        form.interest_paid.data = a.interest_declared
    if form.principal.data is None:
        form.principal.data = a.principal_declared


def _bank(form, ht, user, written):
    a = ops.bank_confirm(ht.id, user, form.decision.data, form.interest_paid.data, form.principal.data,
                         form.opinion.data)
    if a.status == "rejected":
        return _("已不予确认")
    return _("已确认，本期应贴息 {amount} 元").format(amount=fmt_yuan(a.amount))


def _department(form, ht, user, written):
    a = ops.department_review(ht.id, user, form.decision.data, form.opinion.data)
    return _("已转财政局审核") if a.status == "finance_review" else _("贴息申请未通过")


def _finance(form, ht, user, written):
    a = ops.finance_review(ht.id, user, form.decision.data, form.opinion.data)
    if a.status == "paid":
        return _("已从贴息预算拨付 {amount} 元").format(amount=fmt_yuan(a.amount))
    return _("贴息申请未通过")


register(TaskHandler("subsidy_bank_confirm", SubsidyBankConfirmForm, N_("确认贴息申请的实付利息"),
                     "subsidies/task.html", _prefill, _context, _bank, prepare_post=_noop))
register(TaskHandler("subsidy_department_review", SubsidyReviewForm, N_("审核贴息申请"),
                     "subsidies/task.html", _noop, _context, _department))
register(TaskHandler("subsidy_finance_review", SubsidyFinanceForm, N_("审核并拨付贴息"),
                     "subsidies/task.html", _noop, _context, _finance))
