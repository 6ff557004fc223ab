"""Task pages of the compensation process (form keys named in bpmn/compensation.bpmn)."""
from __future__ import annotations

from flask import request

from app.compensation import operations as ops
from app.compensation.models import MATERIAL_KINDS, SUBJECT, CompensationClaim
from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _
from app.core.timeutil import local, now, today
from app.core.workdays import calendar
from app.fund import operations as fund_ops
from app.loans.models import CLASSIFICATIONS
from app.tasks.registry import TaskHandler, register
from forms.compensation import (AdvanceDecisionForm, AdvancePayForm, ClaimForm, DisburseForm, JointReviewForm,
                                PayoutLetterForm, RecoveryCloseForm)


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
register(TaskHandler("comp_disburse", DisburseForm, N_("拨付补偿资金"),
                     "compensation/task_disburse.html", _noop, _disburse_context, _disburse_submit))
