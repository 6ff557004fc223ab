from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import OVERSIGHT_KINDS
from app.core.db import db
from app.core.i18n import N_, _l
from app.core.timeutil import now
from app.core.types import UTCDateTime

CLASSIFICATIONS = {"normal": N_("正常"), "special_mention": N_("关注"), "substandard": N_("次级"),   # shown as {{ _(...) }}
                   "doubtful": N_("可疑"), "loss": N_("损失")}
NON_PERFORMING = ("substandard", "doubtful", "loss")
STATUS_LABELS = {"filing": _l("备案中"), "active": _l("正常还款"), "overdue": _l("逾期"), "repaid": _l("已结清"),
                 "compensated": _l("已补偿"), "written_off": _l("已核销")}


class Loan(db.Model):
    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(String(30), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("loan_applications.id"), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    contract_no: Mapped[str] = mapped_column(String(60))
    product: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    term_months: Mapped[int]
    disbursed_on: Mapped[date] = mapped_column(Date)
    outstanding_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    classification: Mapped[str] = mapped_column(String(20), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="filing")  # filing | active | overdue | repaid | compensated | written_off
    eligible: Mapped[bool] = mapped_column(default=True)
    eligibility_json: Mapped[str] = mapped_column(Text, default="[]")
    policy_version: Mapped[int] = mapped_column(default=1)
    # recorded at approval: the controllers' and major shareholders' joint guarantee (江津 art.11.4),
    # no collateral or third-party guarantee, and why the term is beyond the normal term (凌源)
    joint_guarantee: Mapped[bool] = mapped_column(default=False, server_default=false())
    pure_credit: Mapped[bool] = mapped_column(default=True, server_default=true())
    term_reason: Mapped[str | None] = mapped_column(Text)
    reference_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    rate_cap: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    application = relationship("LoanApplication")
    scheme = relationship("Scheme")
    bank = relationship("Organisation", foreign_keys=[bank_id])
    enterprise = relationship("Organisation", foreign_keys=[enterprise_id])
    filings: Mapped[list[Filing]] = relationship(back_populates="loan")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def eligibility(self) -> list[dict]:
        import json
        return json.loads(self.eligibility_json or "[]")

    def can_view(self, user) -> bool:
        org = user.organisation
        if org.kind in OVERSIGHT_KINDS:
            return True
        if org.kind == "bank":
            return self.bank_id == org.id
        if org.kind == "enterprise":
            return self.enterprise_id == org.id
        if org.kind == "department":
            return self.application is not None and self.application.department_id == org.id
        return any(f.recipient_id == org.id for f in self.filings)


class Filing(db.Model):
    """A loan's filing (备案) with one recipient unit, and its acknowledgement."""
    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("loan_id", "recipient_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    loan: Mapped[Loan] = relationship(back_populates="filings")
    recipient = relationship("Organisation")
    acknowledged_by = relationship("User")
