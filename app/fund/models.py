"""Fund ledger rows.

One :class:`FundAccount` per scheme is the row every posting locks (``SELECT … FOR UPDATE``) and
the place the fund-size review flag is kept.  :class:`FundEntry` rows are append-only: the
balance is always derived from them; an update or delete of an entry is refused at flush.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.append_only import AppendOnly, AppendOnlyViolation
from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime

INFLOW = "in"
OUTFLOW = "out"

# kind → direction (None: the caller states it; only "adjustment")
KINDS: dict[str, str | None] = {
    "capital_injection": INFLOW,           # 财政注资
    "tax_allocation": INFLOW,              # 金融业税收收入按比例注入
    "bank_interest_contribution": INFLOW,  # 合作银行按利息收入比例缴存
    "interest_credit": INFLOW,             # 资金存款利息
    "advance": OUTFLOW,                    # 先行代偿（江津 担保公司/凌源 实施方案）
    "payout": OUTFLOW,                     # 风险补偿拨付
    "recovery_return": INFLOW,             # 追回资金按比例返还基金
    "performance_deposit": INFLOW,         # 按合作银行绩效目标完成比例存入（江津第七条；app/performance）
    "adjustment": None,                    # 调整（须写明方向与原因）
}
KIND_LABELS = {
    "capital_injection": _l("财政注资"),
    "tax_allocation": _l("税收收入注入"),
    "bank_interest_contribution": _l("银行利息收入缴存"),
    "interest_credit": _l("存款利息"),
    "advance": _l("先行代偿"),
    "payout": _l("补偿拨付"),
    "recovery_return": _l("追偿返还"),
    "performance_deposit": _l("绩效目标存入"),
    "adjustment": _l("调整"),
}
DIRECTION_LABELS = {INFLOW: _l("流入"), OUTFLOW: _l("流出")}
INFLOW_FORM_KINDS = ("capital_injection", "tax_allocation", "bank_interest_contribution", "interest_credit")
# member roles (same names as organisation kinds) that may see a scheme's fund; admin sees all
FUND_VIEWER_KINDS = ("financial_office", "finance_bureau", "pboc", "regulator",
                     "district_government")   # 区政府 approves the pool's withdrawals (江津 art.8)


def can_view_fund(scheme, user) -> bool:
    kind = user.organisation.kind
    if kind == "admin":
        return True
    return kind in FUND_VIEWER_KINDS and scheme.member(user.organisation_id, kind) is not None


def can_post_inflow(scheme, user) -> bool:
    return user.organisation.kind == "finance_bureau" and scheme.member(user.organisation_id, "finance_bureau") is not None


def can_manage_thresholds(scheme, user) -> bool:
    return user.organisation.kind == "financial_office" and \
        scheme.member(user.organisation_id, "financial_office") is not None


class FundAccount(db.Model):
    """The fund of one scheme: the lock row, and the fund-size review flag (loans total ≥ N × fund)."""
    __tablename__ = "fund_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # fund-size review (黔江: loans total reaches 10 × fund → study enlarging the fund)
    review_flag: Mapped[bool] = mapped_column(default=False)
    review_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(String(500))
    review_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(1000))
    review_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))   # the limit it was raised at
    # net payouts (advance + payout − recovery_return) when the financial office last resumed the
    # scheme: the pause rule fires again only on payouts beyond this level
    resumed_at_payouts: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))

    scheme = relationship("Scheme")


class LedgerIsAppendOnly(AppendOnlyViolation):
    pass


class FundEntry(AppendOnly, db.Model):
    """One posting.  Amount is positive; ``direction`` says in or out; ``key`` makes it idempotent."""
    append_only_error = LedgerIsAppendOnly
    append_only_name = "fund entry"
    __tablename__ = "fund_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("direction in ('in', 'out')", name="direction_valid"),
        Index("ix_fund_entries_scheme_booked", "scheme_id", "booked_on", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    balance_after: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None]
    booked_on: Mapped[date] = mapped_column(Date)            # Shanghai date of the posting
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    actor = relationship("User")
    actor_org = relationship("Organisation")

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == INFLOW else -self.amount

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


class Suspension(db.Model):
    """A bank suspended in a scheme by the NPL rule, and how it ended (rectification approved)."""
    __tablename__ = "fund_bank_suspensions"
    __table_args__ = (Index("ix_fund_suspension_member", "scheme_id", "bank_id", "lifted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    npl_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    total_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    threshold: Mapped[str] = mapped_column(String(20))
    inclusive: Mapped[bool]
    trigger_loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    suspended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status: Mapped[str] = mapped_column(String(20), default="suspended")  # suspended | submitted | lifted
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    report_text: Mapped[str | None] = mapped_column(Text)
    report_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_opinion: Mapped[str | None] = mapped_column(Text)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    scheme = relationship("Scheme")
    bank = relationship("Organisation", foreign_keys=[bank_id])
    report_by = relationship("User", foreign_keys=[report_by_id])
    lifted_by = relationship("User", foreign_keys=[lifted_by_id])

    @property
    def ratio(self) -> Decimal:
        if not self.total_principal:
            return Decimal("0")
        return (Decimal(self.npl_principal) / Decimal(self.total_principal)).quantize(Decimal("0.0001"))

    def can_view(self, user) -> bool:
        kind = user.organisation.kind
        if kind == "admin":
            return True
        if kind == "bank":
            return user.organisation_id == self.bank_id
        return (kind in FUND_VIEWER_KINDS and
                self.scheme.member(user.organisation_id, kind) is not None)
