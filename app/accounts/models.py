from __future__ import annotations

import enum
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime
from app.accounts.names import username_key

_hasher = PasswordHasher()
_dummy_hash: tuple[PasswordHasher, str] | None = None   # (hasher, hash) for burn_password_check


class OrgKind(str, enum.Enum):
    enterprise = "enterprise"
    department = "department"
    bank = "bank"
    finance_bureau = "finance_bureau"
    financial_office = "financial_office"
    service_centre = "service_centre"   # 金融发展服务中心 (江津 filing recipient)
    guarantee = "guarantee"
    pboc = "pboc"                       # 人行
    regulator = "regulator"             # 银保监
    data_source = "data_source"         # credit-data source units (税务, 社保, ...)
    district_government = "district_government"   # 区政府 (江津: approves every withdrawal from the pool)
    admin = "admin"


ORG_KIND_LABELS = {
    OrgKind.enterprise: _l("企业"),
    OrgKind.department: _l("行业主管部门"),
    OrgKind.bank: _l("合作银行"),
    OrgKind.finance_bureau: _l("财政局"),
    OrgKind.financial_office: _l("金融办"),
    OrgKind.service_centre: _l("金融发展服务中心"),
    OrgKind.guarantee: _l("融资担保公司"),
    OrgKind.pboc: _l("人民银行"),
    OrgKind.regulator: _l("银保监"),
    OrgKind.data_source: _l("信用信息来源单位"),
    OrgKind.district_government: _l("区政府"),
    OrgKind.admin: _l("系统管理"),
}


# Organisations that oversee the whole scheme and may read every application and loan.
OVERSIGHT_KINDS = ("admin", "financial_office", "finance_bureau", "pboc", "regulator")


class Sector(db.Model):
    """An industry sector and the department that reviews firms of it (data, not code)."""
    __tablename__ = "sectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", use_alter=True))
    department: Mapped[Organisation | None] = relationship(foreign_keys=[department_id])


class Organisation(db.Model):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    code: Mapped[str | None] = mapped_column(String(40), unique=True)  # USCC for firms, short code otherwise
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    legal_representative: Mapped[str | None] = mapped_column(String(80))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    business_scope: Mapped[str | None] = mapped_column(Text)   # 经营范围 as registered (江津 art.11.3)
    # a self-registered firm is "pending" until its sector's department or an administrator
    # verifies (or refuses) its claim to the USCC; every other organisation is created verified
    verification: Mapped[str] = mapped_column(String(20), default="verified", server_default="verified")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    sector: Mapped[Sector | None] = relationship(foreign_keys=[sector_id])
    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def kind_label(self) -> str:
        return ORG_KIND_LABELS.get(OrgKind(self.kind), self.kind)

    @property
    def is_verified(self) -> bool:
        return self.verification == "verified"

    def __repr__(self):
        return f"<Organisation {self.id} {self.kind} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # NFKC + casefold of the username, unique: "Firm1", "firm1" and "ｆｉｒｍ１" are one account
    username_key: Mapped[str] = mapped_column(String(80), unique=True, index=True, server_default="")
    display_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_supervisor: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # part of every session's id: raising it ends every session of the user (logout, new password)
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    @validates("username")
    def _keep_key(self, _key, value):
        self.username_key = username_key(value)
        return value

    def get_id(self) -> str:
        """Flask-Login's session id: ``"<id>.<epoch>"``, so a raised epoch invalidates old cookies."""
        return f"{self.id}.{self.session_epoch or 0}"

    def end_sessions(self) -> None:
        """End every session of this user (a copied cookie stops working too)."""
        self.session_epoch = (self.session_epoch or 0) + 1

    def set_password(self, password: str) -> None:
        """A new password also ends every existing session of the user."""
        self.password_hash = _hasher.hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def burn_password_check(password: str) -> None:
        """Spend the time a real check takes (for unknown or inactive users): the same answer,
        at about the same time, whether the username exists or not."""
        global _dummy_hash
        if _dummy_hash is None or _dummy_hash[0] is not _hasher:
            _dummy_hash = (_hasher, _hasher.hash("zx-no-such-user"))
        try:
            _hasher.verify(_dummy_hash[1], password)
        except (VerificationError, InvalidHashError):
            pass

    @property
    def is_active(self):
        return self.active

    @property
    def org_kind(self) -> str:
        return self.organisation.kind

    def is_kind(self, *kinds) -> bool:
        return self.organisation.kind in {k.value if isinstance(k, OrgKind) else k for k in kinds}


class LoginAttempt(db.Model):
    """Every login attempt, kept for the security log."""
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    success: Mapped[bool]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
