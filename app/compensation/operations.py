"""Compensation rules: overdue report, advance, recovery, claim, joint review, payout letter, payout.

Each operation checks access and the rule, changes the domain rows, posts to the fund ledger
(app/fund/operations.py, idempotent keys per duty), advances the workflow through the adapter and
flushes.  The caller commits once; any exception rolls back ledger, rows and workflow together.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Sector
from app.applications.models import Attachment
from app.compensation import rules
from app.compensation.models import (MATERIAL_KINDS, OPEN_STATUSES, RECOVERY_KINDS, SUBJECT, CompensationClaim,
                                     LitigationCost, Recovery, ReviewOpinion)
from app.core import audit, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, in_source_language, name_param, stored
from app.core.money import fmt_yuan, yuan
from app.core.sequences import reference_no
from app.core.timeutil import now, today
from app.core.workdays import calendar
from app.credit import sources as credit_sources
from app.fund import operations as fund_ops, thresholds
from app.loans.models import CLASSIFICATIONS, Loan
from app.notifications.messages import pack
from app.notifications.operations import notify_org
from app.policies import bindings
from app.policies.models import SchemeMember
from app.workflow import engine
from app.workflow.models import HumanTask

ZERO = Decimal("0.00")
FUND_OUT_STATUSES = ("in_review", "letter_pending", "disbursing", "settled", "publicity")


class OperationError(DomainError):
    """A business rule refused the action; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ fund (app/fund, another package)

def _post(claim: CompensationClaim, kind: str, amount: Decimal, key: str, actor, memo: str):
    try:
        return fund_ops.post(claim.scheme_id, kind, amount, key=key, actor=actor, memo=memo,
                             ref_type=SUBJECT, ref_id=claim.id)
    except fund_ops.InsufficientFunds as exc:
        raise OperationError(str(exc)) from exc


def _after_payout(scheme_id: int) -> None:
    thresholds.after_payout(scheme_id)


def _after_classified(loan: Loan) -> None:
    thresholds.after_loan_classified(loan)


# ------------------------------------------------------------------ helpers

def _money(value, field: str) -> Decimal:
    try:
        v = yuan(value)
    except (ValueError, TypeError) as exc:
        raise OperationError(_("金额格式不正确（元，最多两位小数）"), field) from exc
    return v


def recovered_total(claim: CompensationClaim, after_payout: bool | None = None) -> Decimal:
    return sum((r.amount for r in claim.recoveries if after_payout is None or r.after_payout == after_payout),
               ZERO)


def costs_total(claim: CompensationClaim, after_payout: bool | None = None) -> Decimal:
    return sum((c.amount for c in claim.costs if after_payout is None or c.after_payout == after_payout), ZERO)


def returned_total(claim: CompensationClaim) -> Decimal:
    return sum((r.fund_return or ZERO for r in claim.recoveries), ZERO)


def fund_money_out(claim: CompensationClaim) -> bool:
    """The fund has paid something on this claim (advance or payout)."""
    return claim.advance_paid_at is not None or (claim.paid_at is not None and (claim.payout_amount or 0) > 0)


def loan_params(loan: Loan):
    """The parameters the loan was approved under (``Loan.policy_version``), never the scheme's
    current ones: an edit of the scheme after approval does not change what the loan gets."""
    return loan.scheme.params_of_version(loan.policy_version)


def existing_claim(loan_id: int) -> CompensationClaim | None:
    return db.session.scalar(select(CompensationClaim).where(CompensationClaim.active_loan_id == loan_id))


def eligibility_problems(claim: CompensationClaim, loan: Loan) -> list[str]:
    """Why a loan gets no compensation under its policy (empty: eligible)."""
    params = loan_params(loan)
    reasons = []
    if not loan.eligible:
        failed = [g.get("message", "") for g in loan.eligibility if not g.get("passed", True)]
        reasons.append("贷款发放时不符合政策条件（政策外发放）" + ("：" + "；".join(failed) if failed else ""))
    app_ = loan.application
    if params.first_loan_only and app_ is not None and not app_.first_loan:
        reasons.append("政策仅补偿首贷，该笔贷款不是企业首贷")
    required = params.require_credit_rating
    if required:    # the rating loaded from the source units on the day the loan was made, not the firm's form
        rating = credit_sources.facts_of(loan.enterprise, loan.disbursed_on).rating
        if not rules.rating_at_least(rating, required):
            reasons.append(f"企业信用等级 {rating or '无'} 低于政策要求的 {required} 级")
    for o in claim.opinions:
        if o.violation:
            reasons.append("联席会议认定银行或其从业人员违反法律法规或内部管理制度（不属于补偿范围）")
            break
    return reasons


def _open_task(claim: CompensationClaim, bpmn_id: str) -> HumanTask | None:
    return db.session.scalar(select(HumanTask).where(
        HumanTask.subject_type == SUBJECT, HumanTask.subject_id == claim.id, HumanTask.bpmn_id == bpmn_id,
        HumanTask.status == "open").order_by(HumanTask.id.desc()).limit(1))


def _task_and_claim(task_id: int, user, form_key: str) -> tuple[HumanTask, CompensationClaim]:
    ht = engine.task_for_update(task_id, user, form_key, SUBJECT)
    claim = db.session.get(CompensationClaim, ht.subject_id)
    db.session.refresh(claim)
    return ht, claim


def tell_bank(claim: CompensationClaim, event, kind: str, title: str, body: str = "", **args) -> None:
    """Notify the claiming bank (inbox and e-mail) in this transaction, once per timeline event."""
    db.session.flush()
    notify_org(claim.bank_id, f"event:{event.id}", kind, title, body, f"/compensation/{claim.id}",
               pack({"no": claim.no, "loan": claim.loan.no, **args}))


def tell_bank_paid(claim: CompensationClaim, event, amount: Decimal) -> None:
    tell_bank(claim, event, "payout", N_("补偿案件 {no} 已拨付 {amount} 元"),
              N_("风险补偿基金已就贷款 {loan} 拨付 {amount} 元"), amount=f"{amount:,}")


def _touch(claim: CompensationClaim, status: str | None = None) -> None:
    if status:
        claim.status = status
    claim.updated_at = now()


# ------------------------------------------------------------------ 1. overdue report

@dataclass
class OverdueReport:
    overdue_on: date
    overdue_principal: Decimal
    classification: str
    note: str = ""


def report_overdue(user, loan_id: int, data: OverdueReport) -> CompensationClaim:
    loan = db.session.scalar(select(Loan).where(Loan.id == loan_id).with_for_update())
    if loan is None or loan.bank_id != user.organisation_id:
        raise OperationError(_("只有放款银行可以报告该笔贷款逾期"))
    prior = existing_claim(loan.id)
    if prior is not None:
        raise OperationError(_("该笔贷款已有补偿案件 {no}（{status}），一笔贷款只能补偿一次").format(no=prior.no, status=prior.status_label))
    if loan.status not in ("active", "overdue"):
        raise OperationError(_("只有已备案、未结清的贷款可以报告逾期"))
    if data.classification not in CLASSIFICATIONS:
        raise OperationError(_("请选择五级分类"), "classification")
    if data.overdue_on > today():
        raise OperationError(_("逾期日期不能晚于今天"), "overdue_on")
    if data.overdue_on < loan.disbursed_on:
        raise OperationError(_("逾期日期不能早于放款日期"), "overdue_on")
    principal = _money(data.overdue_principal, "overdue_principal")
    if principal <= 0:
        raise OperationError(_("逾期本金必须大于零"), "overdue_principal")
    if principal > loan.outstanding_principal:
        raise OperationError(_("逾期本金不能超过贷款余额 {amount} 元").format(amount=loan.outstanding_principal), "overdue_principal")
    scheme = loan.scheme
    params = loan_params(loan)
    claim = CompensationClaim(
        no=reference_no("BC"), loan_id=loan.id, active_loan_id=loan.id, scheme_id=scheme.id, bank_id=loan.bank_id,
        status="recovering", overdue_on=data.overdue_on, overdue_principal=principal,
        classification=data.classification, report_note=(data.note or "").strip(), reported_by_id=user.id,
        created_at=now(), updated_at=now())
    db.session.add(claim)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise OperationError(_("该笔贷款已有补偿案件，一笔贷款只能补偿一次")) from exc
    previous_class = loan.classification
    loan.status = "overdue"
    loan.classification = data.classification

    problems = eligibility_problems(claim, loan)
    if params.advance_at_overdue:
        if problems:
            claim.advance_refused_reason = "不符合政策条件，不予先行代偿：" + "；".join(problems)
        else:
            comp = rules.advance_amount(params, loan.product, principal)
            claim.advance_requested = True
            claim.advance_amount = comp.result_of("advance")
            claim.advance_computation_json = json.dumps(comp.to_dict(), ensure_ascii=False)
            claim.status = "advance_review"
    audit.record(SUBJECT, claim.id, "overdue_reported", user, claim.report_note, details={
        "loan_no": loan.no, "overdue_on": str(claim.overdue_on), "overdue_principal": str(principal),
        "classification": CLASSIFICATIONS[data.classification],
        "advance_amount": str(claim.advance_amount) if claim.advance_amount is not None else None})

    finance = scheme.member_orgs("finance_bureau")
    finoffice = scheme.member_orgs("financial_office")
    payer = scheme.member_orgs(params.advance_payer_role or "guarantee") or finance
    gov = scheme.member_orgs(params.advance_approver_role or "financial_office")
    members = scheme.member_orgs(*params.joint_meeting_roles)
    if not finance or not finoffice or (not members and params.batch is None):   # a batch names its own units
        raise OperationError(_("该政策未配置财政局、金融办或联席会议成员单位，请联系管理员"))
    instance = bindings.start_for(scheme, "compensation", SUBJECT, claim.id, {
        "title": stored(N_("{no} · {firm} · 逾期本金 {amount} 元"), no=claim.no, firm=name_param(loan.enterprise),
                        amount=fmt_yuan(principal)),
        "claim_id": claim.id, "scheme_id": scheme.id, "bank_org_id": loan.bank_id,
        "advance_requested": claim.advance_requested,
        "finance_org_id": finance[0].id, "finoffice_org_id": finoffice[0].id,
        "gov_org_id": (gov or finoffice)[0].id, "payer_org_id": payer[0].id if payer else finance[0].id,
        "joint_members": [o.id for o in members], "joint_meeting_rule": params.joint_meeting_rule,
        # the relevant department (凌源 art.17(1)) and the step deadlines the preset gives (defaults)
        "dept_org_id": _department_of(loan),
        "reviewer_org_id": (scheme.member_orgs(params.advance_reviewer_role or "finance_bureau") or finance)[0].id,
        **{f"due_{k}": v for k, v in (params.batch.step_working_days if params.batch else {}).items()},
    })
    claim.instance_id = instance.id
    db.session.flush()
    if previous_class != loan.classification:
        _after_classified(loan)
    return claim


def _department_of(loan: Loan) -> int | None:
    """The department of the firm's sector, which signs the bank's application form (凌源 art.17(1))."""
    app_ = loan.application
    if app_ is not None and app_.department_id:
        return app_.department_id
    sector = db.session.get(Sector, loan.sector_id) if loan.sector_id else None
    return sector.department_id if sector is not None else None


# ------------------------------------------------------------------ 2. advance (江津; 凌源 实施方案)

def advance_review(task_id: int, user, decision: str, opinion: str) -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_advance_review")
    return _advance_decision(ht, claim, user, decision, opinion, "advance_approval", "advance_reviewed")


def advance_approve(task_id: int, user, decision: str, opinion: str) -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_advance_approve")
    return _advance_decision(ht, claim, user, decision, opinion, "advance_payment", "advance_approved")


def _advance_decision(ht, claim, user, decision, opinion, next_status, action):
    opinion = (opinion or "").strip()
    if decision not in ("approve", "refuse"):
        raise OperationError(_("请选择意见"), "decision")
    if decision == "refuse" and not opinion:
        raise OperationError(_("不同意先行代偿须说明理由"), "opinion")
    if decision == "approve":
        _touch(claim, next_status)
    else:
        claim.advance_refused_reason = opinion
        _touch(claim, "recovering")
    audit.record(SUBJECT, claim.id, f"{action}_{decision}", user, opinion)
    engine.complete(ht.id, user, {"advance_decision": decision})
    return claim


def advance_pay(task_id: int, user, note: str) -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_advance_pay")
    amount = claim.advance_amount or ZERO
    if amount <= 0:
        raise OperationError(_("先行代偿金额为零，无需拨付"))
    _post(claim, "advance", amount, f"comp-{claim.id}-advance", user,
          stored(N_("{no} 先行代偿 {loan}"), no=claim.no, loan=claim.loan.no))
    claim.advance_paid_at = now()
    _touch(claim, "recovering")
    ev = audit.record(SUBJECT, claim.id, "advance_paid", user, (note or "").strip(), details={"amount": str(amount)})
    tell_bank(claim, ev, "payout", N_("补偿案件 {no} 已先行代偿 {amount} 元"),
              N_("风险补偿资金已就贷款 {loan} 先行代偿 {amount} 元"), amount=f"{amount:,}")
    engine.complete(ht.id, user, {"advance_paid": str(amount)})
    _after_payout(claim.scheme_id)
    return claim


# ------------------------------------------------------------------ 3. recovery

RECOVERY_OPEN = ("advance_review", "advance_approval", "advance_payment", "recovering", "claim_pending",
                 "returned", "settled")


def _claim_for_bank(user, claim_id: int) -> CompensationClaim:
    claim = db.session.scalar(select(CompensationClaim).where(CompensationClaim.id == claim_id).with_for_update())
    if claim is None or not claim.can_record_recovery(user):
        raise OperationError(_("只有放款银行可以登记追偿情况"))
    if claim.instance_id:
        engine.locked_instance(claim.instance_id)  # serialise with workflow steps on this claim
        db.session.refresh(claim)
    return claim


def record_recovery(user, claim_id: int, kind: str, received_on: date, amount, note: str = "") -> Recovery:
    claim = _claim_for_bank(user, claim_id)
    if claim.status not in RECOVERY_OPEN:
        raise OperationError(_("补偿申请审核、拨付期间不能登记追偿款；请在拨付完成后登记，系统将按政策计算返还基金的金额"))
    if kind not in RECOVERY_KINDS:
        raise OperationError(_("请选择追偿方式"), "kind")
    if received_on > today():
        raise OperationError(_("入账日期不能晚于今天"), "received_on")
    if received_on < claim.overdue_on:
        raise OperationError(_("入账日期不能早于逾期日期"), "received_on")
    amount = _money(amount, "amount")
    if amount <= 0:
        raise OperationError(_("金额必须大于零"), "amount")
    left = claim.overdue_principal - recovered_total(claim)
    if amount > left:
        raise OperationError(_("累计收回本金不能超过逾期本金（尚余 {left} 元）").format(left=left), "amount")
    rec = Recovery(claim_id=claim.id, kind=kind, received_on=received_on, amount=amount,
                   note=(note or "").strip(), after_payout=fund_money_out(claim), recorded_by_id=user.id,
                   created_at=now())
    db.session.add(rec)
    db.session.flush()
    db.session.refresh(claim)
    details = {"amount": str(amount), "kind": in_source_language(RECOVERY_KINDS[kind])}
    if rec.after_payout:
        params = loan_params(claim.loan)
        share, _src = rules.fund_share(params, claim.loan.product)
        comp = rules.recovery_return(params, share, recovered_total(claim, True), costs_total(claim, True),
                                     returned_total(claim), amount)
        if comp is None:
            details["fund_return"] = N_("政策未规定追回款返还基金")
        else:
            ret = Decimal(comp.result)
            rec.fund_return = ret
            rec.fund_return_computation_json = json.dumps(comp.to_dict(), ensure_ascii=False)
            if ret > 0:
                _post(claim, "recovery_return", ret, f"comp-{claim.id}-recovery-{rec.id}", user,
                      stored(N_("{no} 代偿后追回款返还基金"), no=claim.no))
            details["fund_return"] = str(ret)
    claim.updated_at = now()
    audit.record(SUBJECT, claim.id, "recovery_recorded", user, rec.note, details=details)
    db.session.flush()
    return rec


# Litigation costs reduce what a recovery after the payout returns to the fund (凌源 art.15), so an
# inflated cost takes money from the fund.  Bound: all costs of one claim together may not exceed
# the overdue principal at stake (spending more than can be recovered is never a recovery cost) nor
# LITIGATION_COSTS_CAP — court fees for a 5,000,000 yuan dispute are about 46,800 yuan
# (诉讼费用交纳办法 art.13), so 1,000,000 leaves ample room for enforcement and lawyers' fees.
# Each entry needs its supporting document (invoice, court fee receipt) for the joint meeting.
LITIGATION_COSTS_CAP = Decimal("1000000.00")
COST_SUBJECT = "compensation_cost"


def litigation_costs_limit(claim: CompensationClaim) -> Decimal:
    return min(claim.overdue_principal, LITIGATION_COSTS_CAP)


def record_cost(user, claim_id: int, incurred_on: date, amount, note: str = "", files=(),
                written: list[str] | None = None) -> LitigationCost:
    claim = _claim_for_bank(user, claim_id)
    if claim.status not in RECOVERY_OPEN:
        raise OperationError(_("补偿申请审核、拨付期间不能登记费用"))
    if incurred_on > today():
        raise OperationError(_("日期不能晚于今天"), "incurred_on")
    amount = _money(amount, "amount")
    if amount <= 0:
        raise OperationError(_("金额必须大于零"), "amount")
    limit = litigation_costs_limit(claim)
    if costs_total(claim) + amount > limit:
        raise OperationError(_("诉讼等费用累计不能超过 {limit} 元（逾期本金与 {cap} 元中的较小者），已登记 {done} 元")
                             .format(limit=f"{limit:,}", cap=f"{LITIGATION_COSTS_CAP:,}",
                                     done=f"{costs_total(claim):,}"), "amount")
    note = (note or "").strip()
    if not note:
        raise OperationError(_("请说明费用内容（诉讼费、执行费、律师费等）"), "note")
    files = list(files)
    if not files:
        raise OperationError(_("请上传费用凭证（发票、法院收费票据等）"), "document")
    for original_name, data in files:
        uploads.inspect(data, original_name)
    cost = LitigationCost(claim_id=claim.id, incurred_on=incurred_on, amount=amount, note=note,
                          after_payout=fund_money_out(claim), recorded_by_id=user.id, created_at=now())
    db.session.add(cost)
    db.session.flush()
    written = written if written is not None else []
    for original_name, data in files:
        sf = uploads.store(data, original_name)
        written.append(sf.stored_name)
        db.session.add(Attachment(subject_type=COST_SUBJECT, subject_id=cost.id, kind="litigation_cost",
                                  original_name=sf.original_name, content_type=sf.content_type, size=sf.size,
                                  sha256=sf.sha256, stored_name=sf.stored_name, uploaded_by_id=user.id))
    claim.updated_at = now()
    audit.record(SUBJECT, claim.id, "cost_recorded", user, note, details={"amount": str(amount)})
    db.session.flush()
    return cost


def cost_documents(claim: CompensationClaim) -> dict[int, list[Attachment]]:
    """Each cost's supporting documents, for the claim page and the joint meeting's review."""
    ids = [c.id for c in claim.costs]
    docs: dict[int, list[Attachment]] = {i: [] for i in ids}
    if ids:
        for att in db.session.scalars(select(Attachment).where(
                Attachment.subject_type == COST_SUBJECT, Attachment.subject_id.in_(ids)).order_by(Attachment.id)):
            docs[att.subject_id].append(att)
    return docs


def claim_id_of_cost(cost_id: int) -> int | None:
    return db.session.scalar(select(LitigationCost.claim_id).where(LitigationCost.id == cost_id))


def close_recovery(task_id: int, user, ended_on: date, note: str = "") -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_recovery_close")
    if ended_on is None:
        raise OperationError(_("请填写司法追偿结束日期"), "ended_on")
    if ended_on > today():
        raise OperationError(_("追偿结束日期不能晚于今天"), "ended_on")
    if ended_on < claim.overdue_on:
        raise OperationError(_("追偿结束日期不能早于逾期日期"), "ended_on")
    claim.recovery_ended_on = ended_on
    _touch(claim, "claim_pending")
    audit.record(SUBJECT, claim.id, "recovery_closed", user, (note or "").strip(), details={
        "ended_on": str(ended_on), "recovered": str(recovered_total(claim))})
    engine.complete(ht.id, user, {"recovery_ended_on": str(ended_on)})
    return claim


# ------------------------------------------------------------------ 4. claim

def bank_compensated_so_far(claim: CompensationClaim) -> Decimal:
    """This bank's fund share in the scheme on other claims approved, under review or paid (for a cap)."""
    total = db.session.scalar(select(func.coalesce(func.sum(CompensationClaim.fund_share_amount), 0)).where(
        CompensationClaim.scheme_id == claim.scheme_id, CompensationClaim.bank_id == claim.bank_id,
        CompensationClaim.id != claim.id, CompensationClaim.status.in_(FUND_OUT_STATUSES)))
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))


def compute_claim(claim: CompensationClaim) -> rules.Computation:
    loan = claim.loan
    facts = rules.ClaimFacts(
        loan_amount=loan.amount, product=loan.product, overdue_principal=claim.overdue_principal,
        recovered=recovered_total(claim), costs=costs_total(claim),
        advanced=(claim.advance_amount or ZERO) if claim.advance_paid_at else ZERO,
        returned=returned_total(claim), bank_paid_so_far=bank_compensated_so_far(claim))
    return rules.claim_amount(loan_params(loan), facts)


@dataclass
class ClaimInput:
    classification: str
    amount_recovered: Decimal
    final_loss: Decimal
    note: str = ""


def submit_claim(task_id: int, user, data: ClaimInput, files: dict[str, list], written: list[str]) -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_claim")
    loan = claim.loan
    params = loan_params(loan)
    if data.classification not in CLASSIFICATIONS:
        raise OperationError(_("请选择五级分类"), "classification")
    if params.claimable_when == "loss_class" and data.classification != "loss":
        raise OperationError(_("该政策规定贷款划分至损失类后方可申报补偿"), "classification")
    recovered = recovered_total(claim)
    if _money(data.amount_recovered, "amount_recovered") != recovered:
        raise OperationError(_("追偿金额应与已登记的追偿入账合计 {amount} 元一致").format(amount=recovered), "amount_recovered")
    comp = compute_claim(claim)
    loss = comp.result_of("final_loss")
    if _money(data.final_loss, "final_loss") != loss:
        raise OperationError(_("最终本金损失应为 {loss} 元（逾期本金减去收回额）").format(loss=loss), "final_loss")
    present = {a.kind for a in attachments_of(claim.id)}
    needed = ["claim_form", "loan_contract", "npl_proof"] + (["recovery_receipts"] if recovered > 0 else [])
    for kind in needed:
        if kind not in present and not files.get(kind):
            raise OperationError(_("请上传{material}").format(material=MATERIAL_KINDS[kind]), kind)
    all_files = [f for fs in files.values() for f in fs]
    for name, blob in all_files:
        uploads.inspect(blob, name)
    for kind, fs in files.items():
        for name, blob in fs:
            sf = uploads.store(blob, name)
            written.append(sf.stored_name)
            db.session.add(Attachment(subject_type=SUBJECT, subject_id=claim.id, kind=kind,
                                      original_name=sf.original_name, content_type=sf.content_type,
                                      size=sf.size, sha256=sf.sha256, stored_name=sf.stored_name,
                                      uploaded_by_id=user.id))
    if loan.classification != data.classification:
        loan.classification = data.classification
        claim.classification = data.classification
        _after_classified(loan)
    problems = eligibility_problems(claim, loan)
    net = Decimal(comp.result)
    claim.computation_json = json.dumps(comp.to_dict(), ensure_ascii=False)
    claim.final_loss = loss
    claim.fund_share_amount = comp.result_of("fund_due")
    claim.eligible = not problems
    claim.ineligible_reasons_json = json.dumps(problems, ensure_ascii=False)
    claim.payout_amount = max(ZERO, net) if not problems else ZERO
    claim.settle_return_amount = -net if net < 0 and not problems else None
    claim.claim_note = (data.note or "").strip()
    claim.claimed_at = now()
    claim.review_round += 1
    if problems:
        claim.active_loan_id = None
        _touch(claim, "ineligible")
    else:
        _touch(claim, "dept_opinion" if params.batch is not None else "in_review")
    audit.record(SUBJECT, claim.id, "claim_submitted", user, claim.claim_note, details={
        "round": claim.review_round, "final_loss": str(loss), "payout": str(claim.payout_amount),
        "not_eligible": problems})

    def reset_review(workflow, task):
        task.data.pop("review_decision", None)
        task.data.pop("member_org_id", None)
    engine.complete(ht.id, user, {"claim_eligible": not problems, "payout_positive": (claim.payout_amount or 0) > 0,
                                  "review_decisions": []}, before_run=reset_review)
    return claim


def attachments_of(claim_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(
        Attachment.subject_type == SUBJECT, Attachment.subject_id == claim_id).order_by(Attachment.id)))


# ------------------------------------------------------------------ 5. joint review

def joint_review(task_id: int, user, decision: str, opinion: str, violation: bool = False,
                 form_key: str = "comp_joint_review") -> CompensationClaim:
    """One member's opinion in a review round (江津: the settlement with 区财政, ``comp_settlement``)."""
    if form_key not in ("comp_joint_review", "comp_settlement"):
        raise OperationError(_("该待办不是审核步骤"))
    ht, claim = _task_and_claim(task_id, user, form_key)
    opinion = (opinion or "").strip()
    if decision not in ("approve", "return", "reject"):
        raise OperationError(_("请选择审核意见"), "decision")
    if decision != "approve" and not opinion:
        raise OperationError(_("退回或不予补偿须写明理由"), "opinion")
    if violation and decision != "reject":
        raise OperationError(_("认定违规时审核意见应为不予补偿"), "decision")
    db.session.add(ReviewOpinion(claim_id=claim.id, round=claim.review_round, org_id=user.organisation_id,
                                 user_id=user.id, decision=decision, violation=violation, opinion=opinion, at=now()))
    ev = audit.record(SUBJECT, claim.id, f"review_{decision}", user, opinion,
                      details={"round": claim.review_round, "org": user.organisation.name, "violation": violation})
    result = engine.complete(ht.id, user, {"review_decision": decision})
    db.session.flush()
    db.session.refresh(claim)
    if _open_task(claim, "joint_review") is not None:
        return claim   # other members still to sign
    if _open_task(claim, "claim_submit") is not None:
        _touch(claim, "returned")
        tell_bank(claim, ev, "returned", N_("补偿案件 {no} 被退回补正"),
                  N_("审核意见：{opinion}"), opinion=opinion)
        return claim
    if _open_task(claim, "payout_letter") is not None:
        _touch(claim, "letter_pending")
        return claim
    if result.instance.completed:
        decisions = [o.decision for o in claim.opinions if o.round == claim.review_round]
        outcome = rules.joint_review_outcome(decisions, result.data.get("joint_meeting_rule", "all"),
                                             len(result.data.get("joint_members", [])))
        if outcome == "pass":
            _settle(claim, user)
        else:
            problems = eligibility_problems(claim, claim.loan)
            claim.ineligible_reasons_json = json.dumps(problems, ensure_ascii=False)
            claim.eligible = not problems
            claim.active_loan_id = None
            claim.payout_amount = ZERO
            _touch(claim, "rejected")
            audit.record(SUBJECT, claim.id, "claim_rejected", None, details={"round": claim.review_round})
    return claim


def _settle(claim: CompensationClaim, user) -> None:
    """Close the case: the payout was made (or none was due); a negative balance goes back to the fund."""
    if claim.settle_return_amount and claim.settle_return_amount > 0:
        _post(claim, "recovery_return", claim.settle_return_amount, f"comp-{claim.id}-settle", user,
              stored(N_("{no} 据实清算，银行退回多代偿部分"), no=claim.no))
    claim.settled_at = now()
    claim.loan.status = "compensated"
    _touch(claim, "settled")
    audit.record(SUBJECT, claim.id, "settled", None, details={
        "payout": str(claim.payout_amount or ZERO),
        "returned": str(claim.settle_return_amount) if claim.settle_return_amount else None})


# ------------------------------------------------------------------ 6. payout letter and disbursement

def issue_letter(task_id: int, user, letter_no: str, note: str = "",
                 form_key: str = "comp_payout_letter") -> CompensationClaim:
    """The payout letter (黔江: 金融办), or 区政府's approval of the withdrawal (江津, ``comp_withdrawal_approve``)."""
    if form_key not in ("comp_payout_letter", "comp_withdrawal_approve"):
        raise OperationError(_("该待办不是拨付审批步骤"))
    ht, claim = _task_and_claim(task_id, user, form_key)
    letter_no = (letter_no or "").strip()
    if not letter_no:
        raise OperationError(_("请填写拨付函文号"), "letter_no")
    claim.letter_no = letter_no
    claim.letter_issued_at = now()
    engine.complete(ht.id, user, {"letter_no": letter_no})
    db.session.flush()
    task = _open_task(claim, "disburse")
    days = loan_params(claim.loan).payout_working_days
    due = calendar().deadline(claim.letter_issued_at, days)
    if task is not None:
        task.due_at = due
    claim.payout_due_at = due
    _touch(claim, "disbursing")
    audit.record(SUBJECT, claim.id, "letter_issued", user, (note or "").strip(), details={
        "letter_no": letter_no, "amount": str(claim.payout_amount), "working_days": days,
        "due": due.strftime("%Y-%m-%d")})
    db.session.flush()
    return claim


def payout_queue(scheme_id: int) -> list[CompensationClaim]:
    """Approved claims waiting for money, in the order they are paid (黔江 art.14: judicial recovery end)."""
    return list(db.session.scalars(select(CompensationClaim).where(
        CompensationClaim.scheme_id == scheme_id,
        CompensationClaim.status.in_(("letter_pending", "disbursing")))
        .order_by(CompensationClaim.recovery_ended_on.asc().nulls_last(), CompensationClaim.id)))


def disburse(task_id: int, user, note: str = "") -> CompensationClaim:
    ht, claim = _task_and_claim(task_id, user, "comp_disburse")
    amount = claim.payout_amount or ZERO
    if amount <= 0:
        raise OperationError(_("本案无需拨付"))
    queue = payout_queue(claim.scheme_id)
    ahead = []
    for c in queue:
        if c.id == claim.id:
            break
        ahead.append(c)
    balance = fund_ops.balance(claim.scheme_id)
    needed = sum((c.payout_amount or ZERO for c in ahead), ZERO) + amount
    if ahead and balance < needed:
        names = _("、").join(_("{no}（司法追偿结束于 {day}）").format(no=c.no, day=c.recovery_ended_on) for c in ahead)
        raise OperationError(_("基金余额 {balance} 元不足以支付全部已核准的补偿，须按司法追偿结束时间先后拨付："
                               "请先拨付 {names}").format(balance=f"{balance:,}", names=names))
    _post(claim, "payout", amount, f"comp-{claim.id}-payout", user, stored(N_("{no} 风险补偿拨付 {loan}"), no=claim.no, loan=claim.loan.no))
    claim.paid_at = now()
    claim.paid_late = bool(claim.payout_due_at and claim.paid_at > claim.payout_due_at)
    ev = audit.record(SUBJECT, claim.id, "disbursed", user, (note or "").strip(), details={
        "amount": str(amount), "late": claim.paid_late})
    tell_bank_paid(claim, ev, amount)
    engine.complete(ht.id, user, {"disbursed": str(amount)})
    _settle(claim, user)
    _after_payout(claim.scheme_id)
    db.session.flush()
    return claim


# ------------------------------------------------------------------ lists

def visible_claims(user):
    q = select(CompensationClaim)
    org = user.organisation
    if org.kind == "bank":
        q = q.where(CompensationClaim.bank_id == org.id)
    elif org.kind == "enterprise":
        q = q.join(Loan, Loan.id == CompensationClaim.loan_id).where(Loan.enterprise_id == org.id)
    elif org.kind != "admin":
        q = q.where(CompensationClaim.scheme_id.in_(
            select(SchemeMember.scheme_id).where(SchemeMember.organisation_id == org.id)))
    return q.order_by(CompensationClaim.created_at.desc())


__all__ = ["OperationError", "report_overdue", "record_recovery", "record_cost", "submit_claim", "joint_review",
           "issue_letter", "disburse", "OPEN_STATUSES"]
