from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime
from app.policies.params import SchemeParams, load_params


class Scheme(db.Model):
    """A district's risk-compensation scheme: its policy parameters (data) and its member units."""
    __tablename__ = "schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    preset: Mapped[str] = mapped_column(String(40))
    params_json: Mapped[str] = mapped_column(Text)
    params_version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    members: Mapped[list[SchemeMember]] = relationship(back_populates="scheme")

    @property
    def params(self) -> SchemeParams:
        """The validated parameters (parsed once per loaded row and text)."""
        cached = self.__dict__.get("_params_cache")
        if cached is None or cached[0] != self.params_json:
            cached = (self.params_json, load_params(self.params_json))
            self.__dict__["_params_cache"] = cached
        return cached[1]

    def params_of_version(self, version: int | None) -> SchemeParams:
        """The parameters as they were at ``version`` (a loan keeps the version it was approved under):
        the history row of that version, the current parameters when it is the current version or
        no row was kept for it (schemes created before history existed)."""
        if version is None or version == self.params_version:
            return self.params
        cache = self.__dict__.setdefault("_versions_cache", {})
        if version not in cache:
            row = db.session.scalar(select(SchemeParamsHistory).where(
                SchemeParamsHistory.scheme_id == self.id, SchemeParamsHistory.version == version)
                .order_by(SchemeParamsHistory.id.desc()).limit(1))
            cache[version] = load_params(row.params_json) if row is not None else None
        return cache[version] or self.params

    def set_params(self, params: SchemeParams) -> None:
        self.params_json = params.to_json()
        self.name = params.name
        self.name_en = params.name_en

    def member_orgs(self, *roles: str) -> list:
        return [m.organisation for m in self.members if m.role in roles]

    def member(self, org_id: int, role: str | None = None):
        for m in self.members:
            if m.organisation_id == org_id and (role is None or m.role == role):
                return m
        return None


class SchemeParamsHistory(db.Model):
    __tablename__ = "scheme_params_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    version: Mapped[int]
    params_json: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    note: Mapped[str] = mapped_column(String(500), default="")


class SchemeMember(db.Model):
    """An organisation's role in a scheme: cooperating bank, finance bureau, filing recipient, ..."""
    __tablename__ = "scheme_members"
    __table_args__ = (UniqueConstraint("scheme_id", "organisation_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    suspended: Mapped[bool] = mapped_column(default=False)
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    # the cooperation was stopped for good (江津 art.10), not suspended until a rectification
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scheme: Mapped[Scheme] = relationship(back_populates="members")
    organisation = relationship("Organisation")


class ReferenceRate(db.Model):
    """Reference lending rates with effective dates and term buckets (PBoC benchmark, LPR)."""
    __tablename__ = "reference_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))          # pboc_benchmark | lpr
    effective_from: Mapped[date] = mapped_column(Date)
    min_months: Mapped[int]                                # term > min_months
    max_months: Mapped[int | None]                         # term <= max_months (None: no upper bound)
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))   # percent per year
    source: Mapped[str] = mapped_column(String(200), default="")


class ProcessBinding(db.Model):
    """Which deployed process (and version) runs one kind of process for one scheme.

    ``scheme_id`` None: the deployment-wide binding of the kind — the only binding of kinds that
    are not per scheme (credit-data collection is per data-source unit) and the default of schemes
    without their own row.  ``spec_id`` None: the current version of ``process_id`` (follows
    redeploys); else that version, pinned.  Changes go through app/policies/bindings.py, which
    writes :class:`ProcessBindingHistory`.
    """
    __tablename__ = "process_bindings"
    __table_args__ = (UniqueConstraint("scheme_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    process_id: Mapped[str] = mapped_column(String(100))
    spec_id: Mapped[int | None] = mapped_column(ForeignKey("process_specs.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    spec = relationship("ProcessSpec")


class ProcessBindingHistory(db.Model):
    """One change of a binding: who, when, from → to, why."""
    __tablename__ = "process_binding_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    from_process_id: Mapped[str | None] = mapped_column(String(100))
    from_spec_id: Mapped[int | None] = mapped_column(ForeignKey("process_specs.id"))
    to_process_id: Mapped[str] = mapped_column(String(100))
    to_spec_id: Mapped[int | None] = mapped_column(ForeignKey("process_specs.id"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    note: Mapped[str] = mapped_column(String(500), default="")

    from_spec = relationship("ProcessSpec", foreign_keys=[from_spec_id])
    to_spec = relationship("ProcessSpec", foreign_keys=[to_spec_id])
    changed_by = relationship("User")
