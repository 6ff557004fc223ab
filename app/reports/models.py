"""An archived report: the figures and the files exactly as they were issued for one scheme and period."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime


def report_key(kind: str, scheme_id: int, period: str, org_id: int | None = None) -> str:
    """The archive's unique key: one report per kind, scheme, period and reporting organisation."""
    return f"{kind}:s{scheme_id}:{period}" + (f":o{org_id}" if org_id else "")


class ArchivedReport(db.Model):
    """One per kind, scheme, period and reporting organisation (``key``): archiving twice keeps the first
    (what was sent stays what was sent).  ``org_id`` is the organisation that reports (a bank, the
    guarantee company); None for a report of the scheme as a whole."""
    __tablename__ = "archived_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))             # YYYY-MM | YYYYQn
    figures_json: Mapped[str] = mapped_column(Text)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    scheme = relationship("Scheme")
    organisation = relationship("Organisation")
    archived_by = relationship("User")
