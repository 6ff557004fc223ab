"""Interest-subsidy applications, the subsidy budget ledger and guarantee-fee subsidy records.

The subsidy budget is kept apart from the risk-compensation fund (app/fund): one
:class:`SubsidyBudget` row per scheme and programme is the row every posting locks
(``SELECT … FOR UPDATE``); :class:`SubsidyEntry` rows are append-only (an update or delete is
refused at flush) and the balance is derived from them.  A payment's entry key names the loan,
programme and period, so the unique key refuses a second payment of the same period whatever
path it comes by.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.append_only import AppendOnly, AppendOnlyViolation
from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import now
from app.core.types import UTCDateTime

INFLOW = "in"
OUTFLOW = "out"
ENTRY_KINDS = {"allocation": INFLOW, "payment": OUTFLOW}
ENTRY_KIND_LABELS = {"allocation": N_("预算下达"), "payment": N_("贴息拨付")}   # shown as {{ _(...) }}

STATUS_LABELS = {   # shown as {{ _(...) }}
    "bank_confirm": N_("待银行确认"),
    "department_review": N_("待主管部门审核"),
    "finance_review": N_("待财政局审核"),
    "paid": N_("已拨付"),
    "rejected": N_("未通过"),
}
OPEN_STATUSES = ("bank_confirm", "department_review", "finance_review")


class SubsidyBudget(db.Model):
    """The budget of one programme of one scheme: the lock row of its ledger."""
    __tablename__ = "subsidy_budgets"
    __table_args__ = (UniqueConstraint("scheme_id", "programme", name="uq_subsidy_budgets_scheme_programme"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    programme: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    scheme = relationship("Scheme")


class SubsidyLedgerIsAppendOnly(AppendOnlyViolation):
    pass


class SubsidyEntry(AppendOnly, db.Model):
    """One posting on a subsidy budget.  Amount is positive; ``key`` is unique (idempotence and
    "one payment per loan, programme and period")."""
    append_only_error = SubsidyLedgerIsAppendOnly
    append_only_name = "subsidy entry"
    __tablename__ = "subsidy_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("direction in ('in', 'out')", name="direction_valid"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        Index("ix_subsidy_entries_budget", "budget_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("subsidy_budgets.id"))
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    balance_after: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    application_id: Mapped[int | None] = mapped_column(index=True)   # the paid application (no FK: it points back)
    booked_on: Mapped[date] = mapped_column(Date)            # Shanghai date of the posting
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    budget = relationship("SubsidyBudget")
    actor = relationship("User")

    @property
    def kind_label(self) -> str:
        return ENTRY_KIND_LABELS.get(self.kind, self.kind)


class SubsidyApplication(db.Model):
    """One loan's interest subsidy for one period of one programme, applied for by the firm or its bank.

    ``open_key`` ("loan:programme:period") is set while the application is open or paid and cleared
    when it is rejected: the unique constraint admits one live application per period."""
    __tablename__ = "subsidy_applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    programme: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))            # 2025-03 | 2025Q1 | 2025
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    interest_declared: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    principal_declared: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    interest_confirmed: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    principal_confirmed: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))      # the subsidy as computed at confirmation
    computation_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="bank_confirm")
    applicant_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    applied_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    finance_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    paid_entry_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_entries.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scheme = relationship("Scheme")
    loan = relationship("Loan")
    bank = relationship("Organisation", foreign_keys=[bank_id])
    enterprise = relationship("Organisation", foreign_keys=[enterprise_id])
    department = relationship("Organisation", foreign_keys=[department_id])
    applicant_org = relationship("Organisation", foreign_keys=[applicant_org_id])
    paid_entry = relationship("SubsidyEntry", foreign_keys=[paid_entry_id])

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def computation(self) -> dict:
        return json.loads(self.computation_json or "{}")

    def can_view(self, user) -> bool:
        """The firm, its bank, the reviewing department and finance bureau, oversight."""
        kind = user.organisation.kind
        if kind in ("admin", "pboc", "regulator"):
            return True
        return user.organisation_id in (self.enterprise_id, self.bank_id, self.department_id, self.finance_id)


class GuaranteeFeeSubsidy(db.Model):
    """A guarantee-fee subsidy (担保费补贴) granted for one loan and period: recorded, with who entered it.
    Not paid from the interest-subsidy budgets (the seed names no budget for it)."""
    __tablename__ = "guarantee_fee_subsidies"
    __table_args__ = (UniqueConstraint("loan_id", "period", name="uq_guarantee_fee_subsidies_loan_period"),
                      CheckConstraint("amount > 0", name="amount_positive"))
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    fee_paid: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    loan = relationship("Loan")
    entered_by = relationship("User")
