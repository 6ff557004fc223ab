from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import OVERSIGHT_KINDS
from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime
from app.loans.models import Filing, Loan

STATUS_LABELS = {
    "submitted": _l("待部门审核"),
    "returned": _l("待企业补充材料"),
    "recommended": _l("已推荐至银行"),
    "rejected": _l("部门不予推荐"),
    "approved": _l("银行已批准，备案中"),
    "declined": _l("银行不予贷款"),
    "filed": _l("已备案"),
}


class LoanApplication(db.Model):
    __tablename__ = "loan_applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[str] = mapped_column(String(30), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    preferred_bank_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    recommended_bank_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    term_months: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text)
    activity: Mapped[str] = mapped_column(String(40), default="general")
    repayment_plan: Mapped[str] = mapped_column(Text)
    repayment_source: Mapped[str] = mapped_column(Text)
    credit_rating: Mapped[str | None] = mapped_column(String(10))
    first_loan: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    department_opinion: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    scheme = relationship("Scheme")
    enterprise = relationship("Organisation", foreign_keys=[enterprise_id])
    department = relationship("Organisation", foreign_keys=[department_id])
    preferred_bank = relationship("Organisation", foreign_keys=[preferred_bank_id])
    recommended_bank = relationship("Organisation", foreign_keys=[recommended_bank_id])
    sector = relationship("Sector")
    instance = relationship("ProcessInstance")

    def can_view(self, user) -> bool:
        org = user.organisation
        if org.kind in OVERSIGHT_KINDS:
            return True
        if org.kind == "enterprise":
            return self.enterprise_id == org.id
        if org.kind == "department":
            return self.department_id == org.id
        if org.kind == "bank":
            return self.recommended_bank_id == org.id
        if org.kind in ("service_centre", "guarantee"):
            return db.session.scalar(select(Filing.id).join(Loan).where(
                Loan.application_id == self.id, Filing.recipient_id == org.id).limit(1)) is not None
        return False

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


class Attachment(db.Model):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    uploaded_by = relationship("User")
    __table_args__ = (Index("ix_attachment_subject", "subject_type", "subject_id"),)


ATTACHMENT_KINDS = {
    "business_licence": _l("营业执照"),
    "financial_statements": _l("财务报表"),
    "authorisation": _l("征信查询授权书"),
    "supplement": _l("补充材料"),
    "other": _l("其他材料"),
}


class CreditConsent(db.Model):
    """The firm's written authorisation for one bank to query its credit data (黔江 art.10)."""
    __tablename__ = "credit_consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("loan_applications.id"))
    purpose: Mapped[str] = mapped_column(String(300))
    valid_until: Mapped[date] = mapped_column(Date)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bank = relationship("Organisation", foreign_keys=[bank_id])
    enterprise = relationship("Organisation", foreign_keys=[enterprise_id])

    def valid_on(self, day: date) -> bool:
        return self.revoked_at is None and day <= self.valid_until


class CreditAccessLog(db.Model):
    """Every opening of a firm's credit data: who, when, what, under which consent (002 §3)."""
    __tablename__ = "credit_access_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("credit_consents.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    what: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(300), default="")
    granted: Mapped[bool] = mapped_column(default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user = relationship("User")
