"""Rows of the credit side: persons of a firm, blacklist entries, the recommended list, commitments, and
credit data loaded from its source units."""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, User
from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime

PERSON_ROLES = {
    "legal_representative": _l("法定代表人"),
    "controller": _l("实际控制人"),
    "major_shareholder": _l("大股东"),
}
BLACKLIST_SOURCES = {
    "court": _l("人民法院（失信被执行人）"),
    "pboc": _l("人民银行名单"),
    "joint_punishment": _l("联合惩戒名单"),
    "scheme_violation": _l("违反政策规定（骗贷、恶意逃废债务）"),
    "other": _l("其他"),
}
ENTRY_STATUS = {"proposed": _l("待确认"), "active": _l("有效"), "removed": _l("已移出"),
                "declined": _l("未确认")}


class FirmPerson(db.Model):
    """A person of a firm whom blacklists name: legal representative, controller, major shareholder."""
    __tablename__ = "firm_persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(80))
    id_masked: Mapped[str] = mapped_column(String(18))
    id_digest: Mapped[str] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def role_label(self):
        return PERSON_ROLES.get(self.role, self.role)


class BlacklistEntry(db.Model):
    """One listing of a firm (by USCC) or a person (by identity number), valid from ``starts_on``
    to ``expires_on`` inclusive (None: until removed).  ``proposed`` entries (a scheme violation
    found in a joint review) take effect only when the financial office confirms them."""
    __tablename__ = "blacklist_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(10))             # firm | person
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    firm_name: Mapped[str] = mapped_column(String(200), default="")
    person_name: Mapped[str] = mapped_column(String(80), default="")
    id_masked: Mapped[str | None] = mapped_column(String(18))
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text, default="")          # why it was entered (document, decision)
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("compensation_claims.id"))
    import_batch: Mapped[str | None] = mapped_column(String(40))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    appeal_text: Mapped[str | None] = mapped_column(Text)
    appeal_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_status: Mapped[str | None] = mapped_column(String(20))   # open | upheld | rejected
    appeal_decision: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Organisation | None] = relationship(foreign_keys=[enterprise_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])

    __table_args__ = (Index("ix_blacklist_entries_status_dates", "status", "starts_on", "expires_on"),)

    def in_force(self, on: date) -> bool:
        return (self.status == "active" and self.starts_on <= on
                and (self.expires_on is None or on <= self.expires_on))

    @property
    def source_label(self):
        return BLACKLIST_SOURCES.get(self.source, self.source)

    @property
    def status_label(self):
        return ENTRY_STATUS.get(self.status, self.status)

    @property
    def who(self) -> str:
        if self.subject == "firm":
            return f"{self.firm_name}（{self.uscc or ''}）"
        return f"{self.person_name}（{self.id_masked}）"


NOMINATION_STATUS = {
    "office_review": _l("领导小组办公室审核"), "credit_check": _l("信用核查"), "publicity": _l("公示中"),
    "listing": _l("公示期满待列入"), "listed": _l("已列入推荐名单"), "rejected": _l("未通过"),
}


class ListNomination(db.Model):
    """A department's nomination of a firm to a scheme's recommended list, through 公示 to listing."""
    __tablename__ = "list_nominations"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    nominated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    screening_opinion: Mapped[str] = mapped_column(Text)
    operations: Mapped[str] = mapped_column(Text)                 # 生产经营情况说明
    loan_plan: Mapped[str] = mapped_column(Text)                  # 贷款用途、还贷计划及资金来源
    status: Mapped[str] = mapped_column(String(20), default="office_review", index=True)
    office_opinion: Mapped[str | None] = mapped_column(Text)
    credit_opinion: Mapped[str | None] = mapped_column(Text)
    notice_from: Mapped[date | None] = mapped_column(Date)
    notice_until: Mapped[date | None] = mapped_column(Date)       # last day of 公示, inclusive
    decision_opinion: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    enterprise: Mapped[Organisation] = relationship(foreign_keys=[enterprise_id])
    department: Mapped[Organisation] = relationship(foreign_keys=[department_id])
    scheme = relationship("Scheme")
    objections: Mapped[list[ListObjection]] = relationship(back_populates="nomination",
                                                           order_by="ListObjection.id")

    @property
    def status_label(self):
        return NOMINATION_STATUS.get(self.status, self.status)


class ListObjection(db.Model):
    """An objection lodged by anyone on the public 公示 page; resolved by the office with a reason."""
    __tablename__ = "list_objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("list_nominations.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    contact: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(64), default="")
    lodged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    outcome: Mapped[str | None] = mapped_column(String(20))        # upheld | rejected
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    nomination: Mapped[ListNomination] = relationship(back_populates="objections")


class ListEntry(db.Model):
    """A firm on a scheme's recommended list, valid from ``listed_on`` to ``valid_until`` inclusive
    unless removed earlier (``removed_on``: not valid from that day)."""
    __tablename__ = "list_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("list_nominations.id"))
    listed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    enterprise: Mapped[Organisation] = relationship(foreign_keys=[enterprise_id])

    def valid_on(self, on: date) -> bool:
        return self.listed_on <= on <= self.valid_until and (self.removed_on is None or on < self.removed_on)


COMMITMENT_STATUS = {"generated": _l("待上传签字件"), "uploaded": _l("待确认"), "confirmed": _l("已确认"),
                     "rejected": _l("已退回")}


class CreditCommitment(db.Model):
    """A firm's 信用承诺书 (凌源 实施方案 四(四)2): generated from the template for the firm's name and
    legal representative as they were then, signed copy uploaded, confirmed by the receiving unit.  It
    lapses when the firm's name or legal representative changes (:meth:`lapse_reason`)."""
    __tablename__ = "credit_commitments"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    firm_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(40))
    legal_representative: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="generated")
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Organisation] = relationship(foreign_keys=[enterprise_id])

    @property
    def status_label(self):
        return COMMITMENT_STATUS.get(self.status, self.status)

    def lapse_reason(self) -> str | None:
        """Why a confirmed commitment no longer holds (a msgid with placeholders filled), or None."""
        firm = self.enterprise
        if (firm.legal_representative or "") != self.legal_representative:
            return "legal_representative"
        if firm.name != self.firm_name:
            return "name"
        return None


# ---------------------------------------------------------------------------- credit data from its sources

class CreditSourceUnit(db.Model):
    """Which category of credit data a source unit (an organisation of kind ``data_source``) reports:
    one category a unit (黔江 art. 7: 12 units for 9 categories; 国税 and 地税 both report tax).
    The categories themselves are data: ``app/credit/data/source_categories.json``."""
    __tablename__ = "credit_source_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])


class CreditDataUpload(db.Model):
    """One clean file loaded by a source unit for one category and period.  A later clean load for the
    same unit, category and period replaces it: its records are deleted, the upload is kept with
    ``replaced_at`` and ``replaced_by_id`` (the history of what was loaded when)."""
    __tablename__ = "credit_data_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10))
    duty_id: Mapped[int | None] = mapped_column(ForeignKey("duties.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))          # the file as received (its rows are the records)
    size: Mapped[int]
    row_count: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("credit_data_uploads.id"))

    source_org: Mapped[Organisation] = relationship(foreign_keys=[source_org_id])

    __table_args__ = (Index("ix_credit_data_uploads_key", "source_org_id", "category", "period"),)


class CreditRecord(db.Model):
    """A firm's credit-data record of one category and period, loaded from a source unit's upload
    (``values_json``: the row's cells by column key, amounts as strings of yuan with fen).  Rows
    from before the loader (``upload_id`` None) carry only ``summary``.  A record names the firm by
    USCC; ``enterprise_id`` is set when the firm is registered on the platform at load time."""
    __tablename__ = "credit_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    firm_name: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    values_json: Mapped[str] = mapped_column(Text, default="{}")
    source_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("credit_data_uploads.id"), index=True)
    row_no: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    source_org: Mapped[Organisation | None] = relationship(foreign_keys=[source_org_id])
    upload: Mapped[CreditDataUpload | None] = relationship(foreign_keys=[upload_id])

    @property
    def values(self) -> dict:
        return json.loads(self.values_json or "{}")
