"""The loan book: one row per scheme loan per month, as the lending bank reported it.

A row is the loan's position at the end of its month (``month`` is ``YYYY-MM``): outstanding
principal, principal repaid during the month, five-tier classification and status.  The history is
the rows themselves (as-of a month: the row of that month, or the latest before it); the loan's
*current* position is its row of the latest month, mirrored onto :class:`app.loans.models.Loan`
(``outstanding_principal``, ``classification``, ``status``) so that the thresholds and the
compensation steps read current balances.  A loan never reported keeps its approved amount.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import now
from app.core.types import UTCDateTime

# five-tier classification: the codes of app.loans.models.CLASSIFICATIONS
BOOK_STATUSES = {"performing": N_("正常还款"), "overdue": N_("逾期"), "repaid": N_("已结清"),
                 "renewed": N_("已续贷"), "written_off": N_("已核销")}       # shown as {{ _(label) }}
LIVE_BOOK_STATUSES = ("performing", "overdue", "renewed")
CLOSED_BOOK_STATUSES = ("repaid", "written_off")
SOURCES = {"form": N_("逐笔填报"), "excel": N_("Excel 上传"), "api": N_("接口报送")}


class LoanBookRow(db.Model):
    __tablename__ = "loan_book_rows"
    __table_args__ = (UniqueConstraint("loan_id", "month", name="uq_loan_book_rows_loan_month"),
                      Index("ix_loan_book_rows_bank_month", "bank_id", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))                       # YYYY-MM
    outstanding_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    repaid_principal: Mapped[Decimal] = mapped_column(Numeric(18, 2))   # principal repaid during the month
    classification: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))                     # form | excel | api
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    loan = relationship("Loan")
    reported_by = relationship("User")

    @property
    def status_label(self) -> str:
        return BOOK_STATUSES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def live(self) -> bool:
        return self.status in LIVE_BOOK_STATUSES

    def values(self) -> dict:
        """What the bank reported (compared across ways in: form, Excel, API)."""
        return {"loan_no": self.loan.no, "month": self.month,
                "outstanding_principal": str(self.outstanding_principal),
                "repaid_principal": str(self.repaid_principal),
                "classification": self.classification, "status": self.status}
