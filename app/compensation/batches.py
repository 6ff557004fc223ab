"""A period's claims reviewed, approved, published and paid together (凌源 办法 art.17).

The bank's claim (its 申请表) carries the relevant department's opinion (:func:`dept_opinion`), then
waits for the year's batch.  The leading-group office opens the batch (:func:`open_batch`), which
starts the scheme's ``compensation_batch`` process: the office's first review (初审: claims in doubt
go to verification, claims that fail are excluded with a reason) → verification by the verifier
units (金融发展局, 人民银行) → approval by the leading-group members (``batch.approval_rule``) →
publicity (公示) for ``batch.publicity_working_days`` working days, objections recorded and resolved
with a reason (an upheld objection takes the claim out) → the finance bureau pays with the office and
the fund manager.  Amounts (30% of principal, the per-loan and the per-bank caps) are fixed when the
leading group approves, in claim order, and recomputed whenever a claim leaves the batch.

Who does each step is the scheme's data (``SchemeParams.batch``): member roles, never names.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import false, func, select

from app.compensation import rules
from app.compensation.models import (BATCH_SUBJECT, SUBJECT, BatchObjection, CompensationBatch, CompensationClaim,
                                     ReviewOpinion)
from app.compensation.operations import (ZERO, FUND_OUT_STATUSES, OperationError, _post, _settle, _task_and_claim,
                                         _touch, costs_total, recovered_total, returned_total, tell_bank,
                                         tell_bank_paid)
from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _, name_param, stored
from app.core.sequences import reference_no
from app.core.timeutil import now, today
from app.core.workdays import calendar
from app.fund import thresholds
from app.policies import bindings
from app.policies.models import Scheme, SchemeMember
from app.workflow import engine
from app.workflow.models import HumanTask

APPROVAL_DECISIONS = ("approve", "exclude")


# ------------------------------------------------------------------ the department's opinion (per claim)

def dept_opinion(task_id: int, user, decision: str, opinion: str) -> CompensationClaim:
    """The relevant department signs the bank's application form (art.17(1)), or sends it back."""
    ht, claim = _task_and_claim(task_id, user, "comp_dept_opinion")
    opinion = (opinion or "").strip()
    if decision not in ("agree", "return"):
        raise OperationError(_("请选择意见"), "decision")
    if not opinion:
        raise OperationError(_("请填写部门意见"), "opinion")
    claim.dept_opinion = opinion
    _touch(claim, "awaiting_batch" if decision == "agree" else "returned")
    ev = audit.record(SUBJECT, claim.id, f"dept_opinion_{decision}", user, opinion)
    if decision == "return":
        tell_bank(claim, ev, "returned", N_("补偿案件 {no} 被退回补正"), N_("审核意见：{opinion}"), opinion=opinion)
    engine.complete(ht.id, user, {"dept_decision": decision})
    return claim


# ------------------------------------------------------------------ helpers

def _rules(scheme: Scheme):
    rules_ = scheme.params.batch
    if rules_ is None:
        raise OperationError(_("该政策不按年度批次补偿"))
    return rules_


def _role_holder(scheme: Scheme, user, role: str) -> bool:
    return scheme.member(user.organisation_id, role) is not None


def step_due_days(params) -> dict:
    """The start data naming each step's deadline (working days; defaults of the preset)."""
    out = {f"due_{k}": v for k, v in (params.batch.step_working_days if params.batch else {}).items()}
    out["due_batch_disburse"] = params.payout_working_days
    return out


def waiting_claims(scheme_id: int) -> list[CompensationClaim]:
    return list(db.session.scalars(select(CompensationClaim).where(
        CompensationClaim.scheme_id == scheme_id, CompensationClaim.status == "awaiting_batch",
        CompensationClaim.batch_id.is_(None)).order_by(CompensationClaim.id)))


def included(batch: CompensationBatch) -> list[CompensationClaim]:
    return [c for c in batch.claims if c.status in ("in_batch", "publicity", "disbursing", "settled")]


def _task_and_batch(task_id: int, user, form_key: str) -> tuple[HumanTask, CompensationBatch]:
    ht = engine.task_for_update(task_id, user, form_key, BATCH_SUBJECT)
    batch = db.session.get(CompensationBatch, ht.subject_id)
    db.session.refresh(batch)
    return ht, batch


def _ids(batch: CompensationBatch, values, allowed_status=("in_batch",)) -> list[CompensationClaim]:
    by_id = {c.id: c for c in batch.claims}
    out = []
    for v in values or ():
        try:
            c = by_id.get(int(v))
        except (TypeError, ValueError):
            c = None
        if c is None or c.status not in allowed_status:
            raise OperationError(_("所选申请不在本批次中"), "claims")
        if c not in out:
            out.append(c)
    return out


def _exclude(claim: CompensationClaim, user, reason: str, action: str) -> None:
    claim.batch_outcome = "excluded"
    claim.batch_reason = reason
    claim.active_loan_id = None
    claim.payout_amount = ZERO
    _touch(claim, "rejected")
    audit.record(SUBJECT, claim.id, action, user, reason)


def _others_open(ht: HumanTask) -> bool:
    return db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == ht.instance_id, HumanTask.bpmn_id == ht.bpmn_id, HumanTask.status == "open",
        HumanTask.id != ht.id).limit(1)) is not None


def bank_paid_before(batch: CompensationBatch, claim: CompensationClaim) -> Decimal:
    """The bank's compensation counted against its cumulative cap (art.12 每家金融机构累计): claims of
    other batches or cases that paid or are paying, plus claims earlier in this batch."""
    from_others = sum((c.fund_share_amount or ZERO for c in db.session.scalars(select(CompensationClaim).where(
        CompensationClaim.scheme_id == claim.scheme_id, CompensationClaim.bank_id == claim.bank_id,
        CompensationClaim.id != claim.id, CompensationClaim.status.in_(FUND_OUT_STATUSES),
        (CompensationClaim.batch_id.is_(None)) | (CompensationClaim.batch_id != batch.id)))), ZERO)
    earlier = sum((c.fund_share_amount or ZERO for c in included(batch)
                   if c.bank_id == claim.bank_id and c.id < claim.id), ZERO)
    return from_others + earlier


def recompute(batch: CompensationBatch) -> None:
    """Each included claim's amount, in claim order, with the caps (per loan; per bank cumulatively)."""
    params = batch.scheme.params
    for claim in included(batch):
        loan = claim.loan
        comp = rules.claim_amount(params, rules.ClaimFacts(
            loan_amount=loan.amount, product=loan.product, overdue_principal=claim.overdue_principal,
            recovered=recovered_total(claim), costs=costs_total(claim),
            advanced=(claim.advance_amount or ZERO) if claim.advance_paid_at else ZERO,
            returned=returned_total(claim), bank_paid_so_far=bank_paid_before(batch, claim)))
        net = Decimal(comp.result)
        claim.computation_json = json.dumps(comp.to_dict(), ensure_ascii=False)
        claim.final_loss = comp.result_of("final_loss")
        claim.fund_share_amount = comp.result_of("fund_due")
        claim.payout_amount = max(ZERO, net)
        claim.settle_return_amount = -net if net < 0 else None
        db.session.flush()


# ------------------------------------------------------------------ opening the year's batch

def open_batch(user, scheme_id: int, year: int) -> CompensationBatch:
    scheme = db.session.scalar(select(Scheme).where(Scheme.id == scheme_id).with_for_update())
    if scheme is None:
        raise OperationError(_("请选择政策"), "scheme_id")
    r = _rules(scheme)
    if not _role_holder(scheme, user, r.office_role):
        raise OperationError(_("只有领导小组办公室可以汇总年度申请"))
    if not (2000 <= int(year) <= today().year):
        raise OperationError(_("年度应在 2000 年到今年之间"), "year")
    if db.session.scalar(select(CompensationBatch.id).where(CompensationBatch.scheme_id == scheme.id,
                                                            CompensationBatch.year == year)) is not None:
        raise OperationError(_("{y} 年度批次已汇总").format(y=year), "year")
    claims = waiting_claims(scheme.id)
    if not claims:
        raise OperationError(_("没有待纳入年度批次的申请"), "year")
    office = scheme.member_orgs(r.office_role)
    verifiers = scheme.member_orgs(*r.verifier_roles)
    approvers = scheme.member_orgs(*r.approver_roles)
    payer = scheme.member_orgs(r.payer_role)
    if not office or not verifiers or not approvers or not payer:
        raise OperationError(_("该政策未配置领导小组办公室、核查单位、领导小组成员单位或拨付单位，请联系管理员"))
    batch = CompensationBatch(no=reference_no("PC"), scheme_id=scheme.id, year=int(year), status="office_review",
                              opened_by_id=user.id, created_at=now())
    db.session.add(batch)
    db.session.flush()
    for c in claims:
        c.batch_id = batch.id
        c.batch_outcome = None
        _touch(c, "in_batch")
        audit.record(SUBJECT, c.id, "batched", user, details={"batch": batch.no, "year": batch.year})
    db.session.flush()
    db.session.refresh(batch)
    audit.record(BATCH_SUBJECT, batch.id, "batch_opened", user, details={
        "year": batch.year, "claims": [c.no for c in claims]}, visible_to_enterprise=False)
    instance = bindings.start_for(scheme, "compensation_batch", BATCH_SUBJECT, batch.id, {
        "title": stored(N_("{no} · {scheme} · {year} 年度 · {n} 笔"), no=batch.no, scheme=name_param(scheme),
                        year=batch.year, n=len(claims)),
        "batch_id": batch.id, "scheme_id": scheme.id, "office_org_id": office[0].id,
        "verifier_orgs": [o.id for o in verifiers], "approver_orgs": [o.id for o in approvers],
        "payer_org_id": payer[0].id, "approval_rule": r.approval_rule, "remaining": len(claims),
        "verify_results": [], "approve_results": [], **step_due_days(scheme.params)})
    batch.instance_id = instance.id
    db.session.flush()
    return batch


# ------------------------------------------------------------------ 初审 and 核查

def office_review(task_id: int, user, doubtful, rejected, opinion: str) -> CompensationBatch:
    ht, batch = _task_and_batch(task_id, user, "batch_office_review")
    opinion = (opinion or "").strip()
    doubt = _ids(batch, doubtful)
    out = _ids(batch, rejected)
    if set(doubt) & set(out):
        raise OperationError(_("同一笔申请不能既存疑又不符合"), "doubtful")
    if out and not opinion:
        raise OperationError(_("认定不符合条件须写明理由"), "opinion")
    for c in out:
        _exclude(c, user, _("领导小组办公室初审不符合条件：{why}").format(why=opinion), "batch_office_excluded")
    for c in doubt:
        c.batch_outcome = "doubt"
        audit.record(SUBJECT, c.id, "batch_office_doubt", user, opinion)
    remaining = len(included(batch))
    batch.status = "verifying" if doubt and remaining else ("approving" if remaining else "rejected")
    audit.record(BATCH_SUBJECT, batch.id, "office_reviewed", user, opinion, visible_to_enterprise=False,
                 details={"doubt": [c.no for c in doubt], "excluded": [c.no for c in out], "remaining": remaining})
    engine.complete(ht.id, user, {"any_doubt": bool(doubt), "remaining": remaining})
    return batch


def verify(task_id: int, user, failed, opinion: str) -> CompensationBatch:
    ht, batch = _task_and_batch(task_id, user, "batch_verify")
    opinion = (opinion or "").strip()
    if not opinion:
        raise OperationError(_("请填写核查意见"), "opinion")
    doubtful = [c for c in included(batch) if c.batch_outcome == "doubt"]
    fail = _ids(batch, failed)
    if any(c not in doubtful for c in fail):
        raise OperationError(_("只能对办公室存疑的申请作出核查结论"), "failed")
    for c in fail:
        _exclude(c, user, _("{org}核查不属实：{why}").format(org=user.organisation.name, why=opinion),
                 "batch_verify_failed")
    audit.record(BATCH_SUBJECT, batch.id, "verified", user, opinion, visible_to_enterprise=False,
                 details={"org": user.organisation.name, "failed": [c.no for c in fail]})
    last = not _others_open(ht)
    remaining = len(included(batch))
    if last:
        for c in included(batch):
            if c.batch_outcome == "doubt":
                c.batch_outcome = "verified"
        batch.status = "approving" if remaining else "rejected"
    engine.complete(ht.id, user, {"verify_result": remaining})
    return batch


# ------------------------------------------------------------------ the leading group's approval

def approve(task_id: int, user, excluded, opinion: str) -> CompensationBatch:
    """One member's signature: the claims it opposes (none: it approves the list).  When the last
    member has signed, a claim stays if the rule (all / majority of members) approves it."""
    ht, batch = _task_and_batch(task_id, user, "batch_approve")
    opinion = (opinion or "").strip()
    against = _ids(batch, excluded)
    if against and not opinion:
        raise OperationError(_("不同意补偿的须写明理由"), "opinion")
    audit.record(BATCH_SUBJECT, batch.id, "member_signed", user, opinion, visible_to_enterprise=False,
                 details={"org": user.organisation.name, "against": [c.no for c in against]})
    for c in included(batch):
        db.session.add(ReviewOpinion(claim_id=c.id, round=c.review_round, org_id=user.organisation_id,
                                     user_id=user.id, decision="reject" if c in against else "approve",
                                     opinion=opinion, at=now()))
        if c in against:
            audit.record(SUBJECT, c.id, "batch_member_against", user, opinion, details={"org": user.organisation.name})
    db.session.flush()
    last = not _others_open(ht)
    result = -1
    if last:
        members = len(engine.task_data(ht).get("approver_orgs", []))
        rule = batch.scheme.params.batch.approval_rule
        for c in included(batch):
            approvals = db.session.scalar(select(func.count(ReviewOpinion.id)).where(
                ReviewOpinion.claim_id == c.id, ReviewOpinion.round == c.review_round,
                ReviewOpinion.decision == "approve"))
            ok = approvals == members if rule == "all" else approvals * 2 > members
            if not ok:
                _exclude(c, None, _("领导小组未审批通过（{n}/{m} 家成员单位同意）").format(n=approvals, m=members),
                         "batch_group_excluded")
        recompute(batch)
        for c in included(batch):
            c.batch_outcome = "approved"
            _touch(c, "publicity")
        result = len(included(batch))
        batch.status = "publicity_pending" if result else "rejected"
        audit.record(BATCH_SUBJECT, batch.id, "group_approved", None, visible_to_enterprise=False, details={
            "approved": [{"no": c.no, "amount": str(c.payout_amount)} for c in included(batch)]})
    engine.complete(ht.id, user, {"approve_result": result})
    return batch


# ------------------------------------------------------------------ 公示

def publish(task_id: int, user, published_on: date, where: str) -> CompensationBatch:
    ht, batch = _task_and_batch(task_id, user, "batch_publicity")
    where = (where or "").strip()
    if not where:
        raise OperationError(_("请填写公示渠道（如政府门户网站）"), "where")
    if published_on is None or published_on > today():
        raise OperationError(_("公示开始日期不能晚于今天"), "published_on")
    if (today() - published_on).days > 366:
        raise OperationError(_("公示开始日期不能早于一年以前"), "published_on")
    days = batch.scheme.params.batch.publicity_working_days
    batch.publicity_from = published_on
    batch.publicity_until = calendar().add_working_days(calendar().first_working_day_on_or_after(published_on),
                                                        days - 1)
    batch.publicity_where = where[:300]
    batch.status = "publicity"
    audit.record(BATCH_SUBJECT, batch.id, "published", user, where, visible_to_enterprise=False, details={
        "from": str(batch.publicity_from), "until": str(batch.publicity_until), "working_days": days})
    engine.complete(ht.id, user, {"publicity_until": str(batch.publicity_until)})
    return batch


def _office_batch(user, batch_id: int) -> CompensationBatch:
    batch = db.session.scalar(select(CompensationBatch).where(CompensationBatch.id == batch_id).with_for_update())
    if batch is None or not _role_holder(batch.scheme, user, _rules(batch.scheme).office_role):
        raise OperationError(_("只有领导小组办公室可以登记和处理公示异议"))
    return batch


def record_objection(user, batch_id: int, claim_id: int | None, received_on: date, objector: str,
                     content: str) -> BatchObjection:
    batch = _office_batch(user, batch_id)
    if batch.status != "publicity":
        raise OperationError(_("只能在公示期间登记异议"))
    if received_on is None or received_on > today() or received_on < batch.publicity_from:
        raise OperationError(_("异议收到日期应在公示开始之后、今天之前"), "received_on")
    if received_on > batch.publicity_until:
        raise OperationError(_("公示期已于 {d} 结束，逾期异议不予登记").format(d=batch.publicity_until), "received_on")
    claim = None
    if claim_id:
        claim = next((c for c in included(batch) if c.id == claim_id), None)
        if claim is None:
            raise OperationError(_("所选申请不在本批次中"), "claim_id")
    objector, content = (objector or "").strip(), (content or "").strip()
    if not objector:
        raise OperationError(_("请填写异议人"), "objector")
    if not content:
        raise OperationError(_("请填写异议内容"), "content")
    obj = BatchObjection(batch_id=batch.id, claim_id=claim.id if claim else None, received_on=received_on,
                         objector=objector[:200], content=content, status="open", recorded_by_id=user.id)
    db.session.add(obj)
    db.session.flush()
    audit.record(BATCH_SUBJECT, batch.id, "objection_recorded", user, content, visible_to_enterprise=False,
                 details={"objection": obj.id, "claim": claim.no if claim else None, "objector": obj.objector})
    return obj


def resolve_objection(user, objection_id: int, upheld: bool, reason: str) -> BatchObjection:
    obj = db.session.get(BatchObjection, objection_id)
    if obj is None:
        raise OperationError(_("异议不存在"))
    batch = _office_batch(user, obj.batch_id)
    if obj.status != "open":
        raise OperationError(_("该异议已处理"))
    if batch.status != "publicity":
        raise OperationError(_("只能在公示期间处理异议"))
    reason = (reason or "").strip()
    if not reason:
        raise OperationError(_("请写明处理理由"), "reason")
    obj.status = "upheld" if upheld else "dismissed"
    obj.resolution = reason
    obj.resolved_by_id, obj.resolved_at = user.id, now()
    if upheld and obj.claim is not None and obj.claim.status == "publicity":
        _exclude(obj.claim, user, _("公示异议成立：{why}").format(why=reason), "batch_objection_upheld")
        recompute(batch)
    audit.record(BATCH_SUBJECT, batch.id, f"objection_{obj.status}", user, reason, visible_to_enterprise=False,
                 details={"objection": obj.id, "claim": obj.claim.no if obj.claim else None})
    db.session.flush()
    return obj


def close_publicity(task_id: int, user, note: str) -> CompensationBatch:
    ht, batch = _task_and_batch(task_id, user, "batch_publicity_close")
    if batch.publicity_until is None or today() <= batch.publicity_until:
        raise OperationError(_("公示期至 {d} 结束，期满后方可结束公示").format(d=batch.publicity_until))
    open_ = [o for o in batch.objections if o.status == "open"]
    if open_:
        raise OperationError(_("尚有 {n} 条异议未处理").format(n=len(open_)))
    remaining = len(included(batch))
    for c in included(batch):
        _touch(c, "disbursing")
    batch.status = "disbursing" if remaining else "rejected"
    audit.record(BATCH_SUBJECT, batch.id, "publicity_closed", user, (note or "").strip(), visible_to_enterprise=False,
                 details={"objections": len(batch.objections), "remaining": remaining,
                          "amount": str(sum((c.payout_amount or ZERO for c in included(batch)), ZERO))})
    engine.complete(ht.id, user, {"remaining": remaining})
    db.session.flush()
    if remaining:
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == batch.instance_id,
                                                         HumanTask.bpmn_id == "disburse",
                                                         HumanTask.status == "open"))
        for c in included(batch):
            c.payout_due_at = task.due_at if task is not None else None
    return batch


# ------------------------------------------------------------------ payment

def disburse(task_id: int, user, fund_manager: str, note: str) -> CompensationBatch:
    ht, batch = _task_and_batch(task_id, user, "batch_disburse")
    fund_manager = (fund_manager or "").strip()
    if not fund_manager:
        raise OperationError(_("请填写会同办理的基金管理机构"), "fund_manager")
    paid = []
    for c in included(batch):
        amount = c.payout_amount or ZERO
        if amount > 0:
            memo = stored(N_("{no} 风险缓释基金代偿 {loan}（{batch}）"), no=c.no, loan=c.loan.no, batch=batch.no)
            _post(c, "payout", amount, f"comp-{c.id}-payout", user, memo)
        c.paid_at = now()
        c.paid_late = bool(c.payout_due_at and c.paid_at > c.payout_due_at)
        ev = audit.record(SUBJECT, c.id, "disbursed", user, (note or "").strip(), details={
            "amount": str(amount), "late": c.paid_late, "batch": batch.no, "fund_manager": fund_manager})
        if amount > 0:
            tell_bank_paid(c, ev, amount)
        _settle(c, user)
        paid.append((c.no, str(amount)))
    batch.paid_at = now()
    batch.status = "paid"
    audit.record(BATCH_SUBJECT, batch.id, "batch_paid", user, (note or "").strip(), visible_to_enterprise=False,
                 details={"paid": paid, "fund_manager": fund_manager})
    engine.complete(ht.id, user, {"disbursed": len(paid)})
    thresholds.after_payout(batch.scheme_id)
    db.session.flush()
    return batch


def visible_batches(user):
    q = select(CompensationBatch).order_by(CompensationBatch.id.desc())
    org = user.organisation
    if org.kind == "admin":
        return q
    if org.kind == "bank":
        return q.where(CompensationBatch.id.in_(select(CompensationClaim.batch_id).where(
            CompensationClaim.bank_id == org.id)))
    if org.kind == "enterprise":
        return q.where(false())
    return q.where(CompensationBatch.scheme_id.in_(
        select(SchemeMember.scheme_id).where(SchemeMember.organisation_id == org.id)))
