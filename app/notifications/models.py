from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime


class Notification(db.Model):
    """One message to one user: shown in the in-app inbox, and e-mailed when SMTP is configured.

    ``key`` is unique: the same event notifies the same user once, however often a job runs.
    """
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))          # reminder | escalation | duty | info
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(String(12), default="none")  # none | pending | sending | sent | failed
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_error: Mapped[str | None] = mapped_column(String(500))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
                      Index("ix_notifications_email", "email_status", "created_at"))
