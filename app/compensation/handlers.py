"""Task pages of the compensation process (form keys named in bpmn/compensation.bpmn)."""
from __future__ import annotations

from flask import request

from app.compensation import batches, operations as ops
from app.compensation.models import BATCH_SUBJECT, MATERIAL_KINDS, SUBJECT, CompensationBatch, CompensationClaim
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _
from app.core.timeutil import local, now, today
from app.core.workdays import calendar
from app.fund import operations as fund_ops
from app.loans.models import CLASSIFICATIONS
from app.tasks.registry import TaskHandler, register
from forms.compensation import (AdvanceDecisionForm, AdvancePayForm, BatchApproveForm, BatchDisburseForm, ClaimForm,
                                DeptOpinionForm, DisburseForm, JointReviewForm, OfficeReviewForm, PayoutLetterForm,
                                PublicityCloseForm, PublicityForm, RecoveryCloseForm, VerifyForm)


def _claim(ht) -> CompensationClaim:
    return db.session.get(CompensationClaim, ht.subject_id)


def days_left(due_at) -> int | None:
    """Working days from today to the due date (negative when late)."""
    if due_at is None:
        return None
    return calendar().working_days_between(today(), local(due_at).date())


def _context(ht, user):
    claim = _claim(ht)
    return {"claim": claim, "loan": claim.loan, "attachments": ops.attachments_of(claim.id),
            "events": audit.timeline(SUBJECT, claim.id), "classifications": CLASSIFICATIONS,
            "material_kinds": MATERIAL_KINDS, "recovered": ops.recovered_total(claim),
            "costs": ops.costs_total(claim), "cost_documents": ops.cost_documents(claim),
            "days_left": days_left(ht.due_at), "now": now(),
            "preview": None}


def _noop(form, ht, user):
    return None


# ---- advance: finance bureau accepts, the district government (acted for by the financial office) approves
def _adv_review_submit(form, ht, user, written):
    ops.advance_review(ht.id, user, form.decision.data, form.opinion.data)
    return _("已受理，转区政府审批") if form.decision.data == "approve" else _("已不予受理先行代偿")


def _adv_approve_submit(form, ht, user, written):
    ops.advance_approve(ht.id, user, form.decision.data, form.opinion.data)
    return _("已同意先行代偿，转担保公司拨付") if form.decision.data == "approve" else _("已不同意先行代偿")


def _adv_pay_submit(form, ht, user, written):
    claim = ops.advance_pay(ht.id, user, form.note.data)
    return _("已从风险补偿资金先行代偿 {amount} 元").format(amount=f"{claim.advance_amount:,}")


register(TaskHandler("comp_advance_review", AdvanceDecisionForm, N_("先行代偿申请受理"),
                     "compensation/task_advance.html", _noop, _context, _adv_review_submit))
register(TaskHandler("comp_advance_approve", AdvanceDecisionForm, N_("先行代偿审批（区政府）"),
                     "compensation/task_advance.html", _noop, _context, _adv_approve_submit))
register(TaskHandler("comp_advance_pay", AdvancePayForm, N_("先行代偿拨付"),
                     "compensation/task_advance_pay.html", _noop, _context, _adv_pay_submit))


# ---- recovery ends
def _close_prepare(form, ht, user):
    if not form.is_submitted():
        form.ended_on.data = today()


def _close_submit(form, ht, user, written):
    ops.close_recovery(ht.id, user, form.ended_on.data, form.note.data)
    return _("已结束追偿，请提交风险补偿申请")


register(TaskHandler("comp_recovery_close", RecoveryCloseForm, N_("结束追偿"),
                     "compensation/task_recovery_close.html", _close_prepare, _context, _close_submit))


# ---- claim
def _claim_prepare(form, ht, user):
    claim = _claim(ht)
    if not form.is_submitted():
        form.classification.data = claim.loan.classification
        form.amount_recovered.data = ops.recovered_total(claim)
        # the loss the page computes below: the bank confirms it rather than typing it again
        try:
            form.final_loss.data = ops.compute_claim(claim).result_of("final_loss")
        except (KeyError, DomainError):
            pass


def _claim_context(ht, user):
    ctx = _context(ht, user)
    ctx["preview"] = ops.compute_claim(ctx["claim"]).to_dict()
    return ctx


def _claim_submit(form, ht, user, written):
    files = {kind: [(f.filename, f.read()) for f in request.files.getlist(kind) if f and f.filename]
             for kind in MATERIAL_KINDS}
    claim = ops.submit_claim(ht.id, user, ops.ClaimInput(
        classification=form.classification.data, amount_recovered=form.amount_recovered.data,
        final_loss=form.final_loss.data, note=form.note.data), files, written)
    if claim.status == "ineligible":
        return _("补偿申请已提交，但不符合补偿条件：{why}").format(why="；".join(claim.ineligible_reasons))
    return _("补偿申请 {no} 已提交联席会议审核").format(no=claim.no)


register(TaskHandler("comp_claim", ClaimForm, N_("提交风险补偿申请"),
                     "compensation/task_claim.html", _claim_prepare, _claim_context, _claim_submit))


# ---- joint-meeting review
def _review_submit(form, ht, user, written):
    claim = ops.joint_review(ht.id, user, form.decision.data, form.opinion.data, bool(form.violation.data))
    return _("已签署意见（{status}）").format(status=claim.status_label)


register(TaskHandler("comp_joint_review", JointReviewForm, N_("联席会议审核"),
                     "compensation/task_review.html", _noop, _context, _review_submit))


# ---- 江津: settlement with 区财政 (据实清算, art.9), one signer, the same rule as a review round
def _settlement_submit(form, ht, user, written):
    claim = ops.joint_review(ht.id, user, form.decision.data, form.opinion.data, bool(form.violation.data),
                             form_key="comp_settlement")
    return _("已签署清算意见（{status}）").format(status=claim.status_label)


register(TaskHandler("comp_settlement", JointReviewForm, N_("据实清算（区财政）"),
                     "compensation/task_review.html", _noop, _context, _settlement_submit))


# ---- payout letter and disbursement
def _letter_submit(form, ht, user, written):
    claim = ops.issue_letter(ht.id, user, form.letter_no.data, form.note.data)
    return _("拨付函 {no} 已出具，财政局应于 {due} 前拨付").format(no=claim.letter_no,
                                                           due=claim.payout_due_at.strftime("%Y-%m-%d"))


def _disburse_submit(form, ht, user, written):
    claim = ops.disburse(ht.id, user, form.note.data)
    return _("已拨付 {amount} 元").format(amount=f"{claim.payout_amount:,}")


def _disburse_context(ht, user):
    ctx = _context(ht, user)
    ctx["queue"] = ops.payout_queue(ctx["claim"].scheme_id)
    ctx["balance"] = fund_ops.balance(ctx["claim"].scheme_id)
    return ctx


register(TaskHandler("comp_payout_letter", PayoutLetterForm, N_("出具拨付函"),
                     "compensation/task_letter.html", _noop, _context, _letter_submit))


# ---- 江津: 区政府 approves the withdrawal from the pool (art.8), its approval number in place of a letter
def _withdrawal_submit(form, ht, user, written):
    claim = ops.issue_letter(ht.id, user, form.letter_no.data, form.note.data, form_key="comp_withdrawal_approve")
    return _("区政府已批准支用资金池（{no}），应于 {due} 前拨付").format(no=claim.letter_no,
                                                              due=claim.payout_due_at.strftime("%Y-%m-%d"))


register(TaskHandler("comp_withdrawal_approve", PayoutLetterForm, N_("区政府审批资金池支用"),
                     "compensation/task_letter.html", _noop, _context, _withdrawal_submit))
register(TaskHandler("comp_disburse", DisburseForm, N_("拨付补偿资金"),
                     "compensation/task_disburse.html", _noop, _disburse_context, _disburse_submit))


# ---- 凌源: the department signs the bank's application form; the yearly batch (办法 art.17)
def _dept_submit(form, ht, user, written):
    batches.dept_opinion(ht.id, user, form.decision.data, form.opinion.data)
    return _("已签署意见，申请纳入年度批次") if form.decision.data == "agree" else _("已退回银行")


register(TaskHandler("comp_dept_opinion", DeptOpinionForm, N_("相关部门签署意见"),
                     "compensation/task_dept_opinion.html", _noop, _context, _dept_submit))


def _batch(ht) -> CompensationBatch:
    return db.session.get(CompensationBatch, ht.subject_id)


def _claim_choices(claims):
    return [(c.id, f"{c.no} · {c.bank.name} · {c.loan.enterprise.name}") for c in claims]


def _batch_context(ht, user):
    batch = _batch(ht)
    return {"batch": batch, "claims": batch.claims, "included": batches.included(batch),
            "events": audit.timeline(BATCH_SUBJECT, batch.id), "days_left": days_left(ht.due_at), "now": now(),
            "params": batch.scheme.params}


def _office_prepare(form, ht, user):
    choices = _claim_choices(batches.included(_batch(ht)))
    form.doubtful.choices = choices
    form.rejected.choices = choices


def _office_submit(form, ht, user, written):
    batches.office_review(ht.id, user, form.doubtful.data, form.rejected.data, form.opinion.data)
    return _("初审完成")


def _verify_prepare(form, ht, user):
    form.failed.choices = _claim_choices([c for c in batches.included(_batch(ht)) if c.batch_outcome == "doubt"])


def _verify_submit(form, ht, user, written):
    batches.verify(ht.id, user, form.failed.data, form.opinion.data)
    return _("已提交核查意见")


def _approve_prepare(form, ht, user):
    form.excluded.choices = _claim_choices(batches.included(_batch(ht)))


def _approve_submit(form, ht, user, written):
    batches.approve(ht.id, user, form.excluded.data, form.opinion.data)
    return _("已签署审批意见")


def _publicity_prepare(form, ht, user):
    if not form.is_submitted():
        form.published_on.data = today()


def _publicity_submit(form, ht, user, written):
    batch = batches.publish(ht.id, user, form.published_on.data, form.where.data)
    return _("已公示，公示期至 {d}").format(d=batch.publicity_until)


def _publicity_close_submit(form, ht, user, written):
    batches.close_publicity(ht.id, user, form.note.data)
    return _("公示期满，转财政局补偿")


def _batch_disburse_submit(form, ht, user, written):
    batch = batches.disburse(ht.id, user, form.fund_manager.data, form.note.data)
    return _("已补偿 {n} 笔").format(n=len(batches.included(batch)))


for _key, _form, _label, _prepare, _submit in (
        ("batch_office_review", OfficeReviewForm, N_("领导小组办公室初审"), _office_prepare, _office_submit),
        ("batch_verify", VerifyForm, N_("核查申报项目"), _verify_prepare, _verify_submit),
        ("batch_approve", BatchApproveForm, N_("领导小组审批"), _approve_prepare, _approve_submit),
        ("batch_publicity", PublicityForm, N_("向社会公示"), _publicity_prepare, _publicity_submit),
        ("batch_publicity_close", PublicityCloseForm, N_("结束公示"), _noop, _publicity_close_submit),
        ("batch_disburse", BatchDisburseForm, N_("拨付风险缓释资金"), _noop, _batch_disburse_submit)):
    register(TaskHandler(_key, _form, _label, "compensation/batch_task.html", _prepare, _batch_context, _submit))
