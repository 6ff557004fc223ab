"""Compensation claims: overdue report → (advance) → recovery → claim → joint review → payout.

One :class:`CompensationClaim` is the whole case of one overdue loan.  ``active_loan_id`` is the
loan id while the case counts (open, paid or settled) and NULL once it ended without payout
(rejected, ineligible): a unique constraint on it makes "one loan, one compensation" hold even
when two requests race.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime

SUBJECT = "compensation_claim"

STATUS_LABELS = {
    "advance_review": _l("先行代偿申请审核中"),
    "advance_approval": _l("待区政府审批先行代偿"),
    "advance_payment": _l("待担保公司先行代偿"),
    "recovering": _l("追偿处置中"),
    "claim_pending": _l("待银行提交补偿申请"),
    "returned": _l("退回银行补正"),
    "in_review": _l("联席会议审核中"),
    "letter_pending": _l("待金融办出具拨付函"),
    "disbursing": _l("待财政局拨付"),
    "settled": _l("已补偿结清"),
    "rejected": _l("联席会议不予补偿"),
    "ineligible": _l("不符合补偿条件"),
    # yearly batch (凌源 办法 art.17)
    "dept_opinion": _l("待相关部门签署意见"),
    "awaiting_batch": _l("待纳入年度批次"),
    "in_batch": _l("年度批次审核中"),
    "publicity": _l("公示中"),
}
OPEN_STATUSES = ("advance_review", "advance_approval", "advance_payment", "recovering", "claim_pending",
                 "returned", "in_review", "letter_pending", "disbursing",
                 "dept_opinion", "awaiting_batch", "in_batch", "publicity")
RECOVERY_KINDS = {
    "repayment": _l("企业还款"),
    "collateral": _l("抵质押物处置"),
    "court": _l("法院强制执行"),
    "guarantor": _l("保证人代偿"),
}
MATERIAL_KINDS = {
    "claim_form": _l("风险补偿基金申请书"),
    "loan_contract": _l("贷款合同"),
    "recovery_receipts": _l("追偿款项入账凭证"),
    "npl_proof": _l("不良贷款证明"),
    "other": _l("其他材料"),
}
REVIEW_DECISIONS = {"approve": _l("同意补偿"), "return": _l("退回银行补正"), "reject": _l("不予补偿")}


class CompensationClaim(db.Model):
    __tablename__ = "compensation_claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(String(30), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    active_loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # overdue report
    overdue_on: Mapped[date] = mapped_column(Date)
    overdue_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    classification: Mapped[str] = mapped_column(String(20))
    report_note: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # advance (江津, 凌源 实施方案)
    advance_requested: Mapped[bool] = mapped_column(default=False)
    advance_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    advance_computation_json: Mapped[str] = mapped_column(Text, default="null")
    advance_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    advance_refused_reason: Mapped[str | None] = mapped_column(Text)
    # recovery
    recovery_ended_on: Mapped[date | None] = mapped_column(Date, index=True)
    # claim
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_note: Mapped[str] = mapped_column(Text, default="")
    computation_json: Mapped[str] = mapped_column(Text, default="null")
    eligible: Mapped[bool] = mapped_column(default=True)
    ineligible_reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    final_loss: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    fund_share_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    payout_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))   # still to pay (≥ 0)
    settle_return_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # bank owes the fund
    review_round: Mapped[int] = mapped_column(default=0)
    # payout
    letter_no: Mapped[str | None] = mapped_column(String(60))
    letter_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payout_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_late: Mapped[bool] = mapped_column(default=False)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # yearly batch (凌源): the batch, the relevant department's opinion, the outcome in the batch and why
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("compensation_batches.id"), index=True)
    dept_opinion: Mapped[str | None] = mapped_column(Text)
    batch_outcome: Mapped[str | None] = mapped_column(String(20))   # doubt | verified | excluded | approved
    batch_reason: Mapped[str | None] = mapped_column(Text)

    loan = relationship("Loan", foreign_keys=[loan_id])
    scheme = relationship("Scheme")
    bank = relationship("Organisation", foreign_keys=[bank_id])
    reported_by = relationship("User")
    instance = relationship("ProcessInstance")
    recoveries: Mapped[list[Recovery]] = relationship(back_populates="claim", order_by="Recovery.id")
    costs: Mapped[list[LitigationCost]] = relationship(back_populates="claim", order_by="LitigationCost.id")
    opinions: Mapped[list[ReviewOpinion]] = relationship(back_populates="claim", order_by="ReviewOpinion.id")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def computation(self) -> dict | None:
        return json.loads(self.computation_json or "null")

    @property
    def advance_computation(self) -> dict | None:
        return json.loads(self.advance_computation_json or "null")

    @property
    def ineligible_reasons(self) -> list[str]:
        return json.loads(self.ineligible_reasons_json or "[]")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_view(self, user) -> bool:
        org = user.organisation
        if org.kind == "admin":
            return True
        if org.kind == "bank":
            return self.bank_id == org.id
        if org.kind == "enterprise":
            return self.loan.enterprise_id == org.id
        if org.kind == "department" and self.loan.can_view(user):
            return True      # the firm's department signs the bank's application form (凌源 art.17(1))
        return self.scheme.member(org.id) is not None

    def can_record_recovery(self, user) -> bool:
        return user.organisation_id == self.bank_id

    def shows_internals_to(self, user) -> bool:
        """The joint-meeting members' opinions and the bank's claim materials are confidential to the
        parties of the review: the borrower sees the status and the outcome only, unless the policy's
        ``borrower_sees_claim_details`` parameter (default false) says otherwise."""
        if user.organisation.kind != "enterprise":
            return True
        return self.scheme.params.borrower_sees_claim_details


class Recovery(db.Model):
    """A recovery receipt: principal the bank got back (repayment, collateral, court, guarantor)."""
    __tablename__ = "compensation_recoveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("compensation_claims.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    # recorded while fund money was out (after the advance or the payout)
    after_payout: Mapped[bool] = mapped_column(default=False)
    fund_return: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    fund_return_computation_json: Mapped[str] = mapped_column(Text, default="null")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    claim: Mapped[CompensationClaim] = relationship(back_populates="recoveries")
    recorded_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return str(RECOVERY_KINDS.get(self.kind, self.kind))

    @property
    def fund_return_computation(self) -> dict | None:
        return json.loads(self.fund_return_computation_json or "null")


class LitigationCost(db.Model):
    """Costs of litigation and enforcement, recorded apart from recoveries (凌源 art.15 deducts them)."""
    __tablename__ = "compensation_litigation_costs"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("compensation_claims.id"), index=True)
    incurred_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    after_payout: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    claim: Mapped[CompensationClaim] = relationship(back_populates="costs")


class ReviewOpinion(db.Model):
    """One member unit's signed opinion in one joint-meeting round."""
    __tablename__ = "compensation_review_opinions"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("compensation_claims.id"))
    round: Mapped[int]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(10))
    violation: Mapped[bool] = mapped_column(default=False)
    opinion: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    claim: Mapped[CompensationClaim] = relationship(back_populates="opinions")
    org = relationship("Organisation")
    user = relationship("User")
    __table_args__ = (Index("ix_review_opinion_claim_round", "claim_id", "round"),)

    @property
    def decision_label(self) -> str:
        return str(REVIEW_DECISIONS.get(self.decision, self.decision))


BATCH_SUBJECT = "compensation_batch"
BATCH_STATUS_LABELS = {
    "office_review": _l("领导小组办公室初审"),
    "verifying": _l("金融发展局、人民银行核查"),
    "approving": _l("领导小组审批"),
    "publicity_pending": _l("待公示"),
    "publicity": _l("公示中"),
    "disbursing": _l("待财政局补偿"),
    "paid": _l("已补偿"),
    "rejected": _l("全部不予补偿"),
}
OBJECTION_STATUS_LABELS = {"open": _l("待处理"), "upheld": _l("异议成立"), "dismissed": _l("异议不成立")}


class CompensationBatch(db.Model):
    """One period's claims of one scheme, reviewed, approved, published and paid together
    (凌源 办法 art.17: 每年定期报市领导小组办公室 → 初审 → 核查 → 审批 → 公示 → 补偿)."""
    __tablename__ = "compensation_batches"
    __table_args__ = (Index("uq_compensation_batch_scheme_year", "scheme_id", "year", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(String(30), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    year: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    publicity_from: Mapped[date | None] = mapped_column(Date)
    publicity_until: Mapped[date | None] = mapped_column(Date)
    publicity_where: Mapped[str | None] = mapped_column(String(300))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    scheme = relationship("Scheme")
    claims: Mapped[list[CompensationClaim]] = relationship(order_by="CompensationClaim.id")
    objections: Mapped[list[BatchObjection]] = relationship(back_populates="batch", order_by="BatchObjection.id")

    @property
    def status_label(self) -> str:
        return str(BATCH_STATUS_LABELS.get(self.status, self.status))

    def can_view(self, user) -> bool:
        org = user.organisation
        if org.kind == "admin":
            return True
        if org.kind == "bank":
            return any(c.bank_id == org.id for c in self.claims)
        if org.kind == "enterprise":
            return False
        return self.scheme.member(org.id) is not None


class BatchObjection(db.Model):
    """An objection raised during a batch's publicity (公示), recorded by the office and resolved with a reason."""
    __tablename__ = "compensation_batch_objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("compensation_batches.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("compensation_claims.id"))
    received_on: Mapped[date] = mapped_column(Date)
    objector: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[CompensationBatch] = relationship(back_populates="objections")
    claim = relationship("CompensationClaim")
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    @property
    def status_label(self) -> str:
        return str(OBJECTION_STATUS_LABELS.get(self.status, self.status))
