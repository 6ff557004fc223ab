"""Task pages of the loan-application process (form keys named in bpmn/loan_application.bpmn)."""
from __future__ import annotations


from sqlalchemy import select

from app.applications import operations as ops
from app.applications.models import LoanApplication
from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _, localname
from app.core.timeutil import today
from app.loans.models import Loan
from app.policies.gates import ACTIVITY_LABELS
from app.tasks.registry import TaskHandler, register
from forms.tasks import BankDueDiligenceForm, DepartmentReviewForm, EnterpriseSupplementForm, FilingAckForm


def _app(ht) -> LoanApplication:
    return db.session.get(LoanApplication, ht.subject_id)


def _files(request_files, name):
    return [(f.filename, f.read()) for f in request_files if f and f.filename]


def _common(ht, user):
    a = _app(ht)
    return {"application": a, "attachments": ops.attachments_of(ops.SUBJECT, a.id),
            "events": audit.timeline(ops.SUBJECT, a.id), "activity_labels": ACTIVITY_LABELS}


# ---- department review
def _dept_prepare(form, ht, user):
    a = _app(ht)
    held = {m.organisation_id: m for m in ops.held_banks(a.scheme)}
    form.bank_id.choices = [(0, "—")] + ops.bank_choices(a.scheme)
    if not form.is_submitted() and a.preferred_bank_id and a.preferred_bank_id not in held:
        form.bank_id.data = a.preferred_bank_id


def _dept_context(ht, user):
    ctx = _common(ht, user)
    ctx["held_banks"] = ops.held_banks(ctx["application"].scheme)   # shown before the choice
    return ctx


def _dept_prepare_post(form, ht, user):
    # the bank is checked by department_review against the scheme's cooperating banks (one query),
    # not against choices loaded for a page that a valid POST never shows
    form.bank_id.validate_choice = False


def _dept_submit(form, ht, user, written):
    a = ops.department_review(ht.id, user, form.decision.data, form.opinion.data, form.bank_id.data or None)
    return {"recommend": _("已推荐至 {bank}").format(bank=localname(a.recommended_bank)),
            "return": _("已退回企业补充材料"), "reject": _("已作出不予推荐决定")}[form.decision.data]


register(TaskHandler("department_review", DepartmentReviewForm, N_("部门审核推荐"),
                     "tasks/department_review.html", _dept_prepare, _dept_context, _dept_submit,
                     prepare_post=_dept_prepare_post))


# ---- enterprise supplement
def _supp_submit(form, ht, user, written):
    from flask import request
    files = _files(request.files.getlist(form.files.name), "files")
    ops.enterprise_supplement(ht.id, user, form.note.data, files, written)
    return _("补充材料已提交，等待部门重新审核")


register(TaskHandler("enterprise_supplement", EnterpriseSupplementForm, N_("企业补充材料"),
                     "tasks/enterprise_supplement.html", lambda f, h, u: None, _common, _supp_submit))


# ---- bank due diligence
def _bank_prepare(form, ht, user):
    a = _app(ht)
    products = a.scheme.params.products
    form.product.choices = [("", "—")] + [(p.code, localname(p)) for p in products]
    if not form.is_submitted():
        form.amount.data = a.amount
        form.term_months.data = a.term_months
        form.disbursed_on.data = today()
        if len(products) == 1:
            form.product.data = products[0].code


def _bank_context(ht, user):
    ctx = _common(ht, user)
    a = ctx["application"]
    ctx["consent_ok"] = ops.consent_for(a, user.organisation_id) is not None
    ctx["params"] = a.scheme.params
    # a suspended bank learns it before filling the approval form (the gate refuses the approval)
    ctx["held"] = next((m for m in ops.held_banks(a.scheme) if m.organisation_id == user.organisation_id), None)
    return ctx


def _bank_submit(form, ht, user, written):
    if form.decision.data == "decline":
        ops.bank_decide(ht.id, user, "decline", reason=form.reason.data, opinion=form.opinion.data)
        return _("已作出不予贷款决定，原因已告知企业")
    approval = ops.Approval(contract_no=form.contract_no.data, amount=form.amount.data,
                            annual_rate=form.annual_rate.data, term_months=form.term_months.data,
                            disbursed_on=form.disbursed_on.data, product=form.product.data,
                            outside_scheme=form.outside_scheme.data,
                            joint_guarantee=form.joint_guarantee.data, pure_credit=not form.secured.data,
                            term_reason=form.term_reason.data or "")
    _app_, loan = ops.bank_decide(ht.id, user, "approve", approval=approval, opinion=form.opinion.data)
    return _("贷款 {no} 已批准，已提交备案").format(no=loan.no)


register(TaskHandler("bank_due_diligence", BankDueDiligenceForm, N_("银行贷前调查与审批"),
                     "tasks/bank_due_diligence.html", _bank_prepare, _bank_context, _bank_submit, needs_claim=True))


# ---- filing acknowledgement
def _filing_context(ht, user):
    ctx = _common(ht, user)
    ctx["loan"] = db.session.scalar(select(Loan).where(Loan.application_id == ctx["application"].id))
    return ctx


def _filing_submit(form, ht, user, written):
    _app_, loan = ops.acknowledge_filing(ht.id, user, form.note.data)
    return _("贷款 {no} 备案已确认").format(no=loan.no)


register(TaskHandler("filing_ack", FilingAckForm, N_("贷款备案确认"),
                     "tasks/filing_ack.html", lambda f, h, u: None, _filing_context, _filing_submit))
