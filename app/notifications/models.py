from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime


class Notification(db.Model):
    """One message to one user: shown in the in-app inbox, and e-mailed when SMTP is configured.

    ``key`` is unique: the same event notifies the same user once, however often a job runs.

    Text: older rows (and those of reminders, duties, incidents) hold ``title``/``body`` as written, in
    the source language.  A row with ``params_json`` holds msgids in ``title``/``body`` and their
    parameters (and, for a grouped message, one line per item): it is translated when shown, in the
    reader's language (:mod:`app.notifications.messages`).
    """
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))          # reminder | escalation | duty | info
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    params_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(String(12), default="none")  # none | pending | sending | sent | failed
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_error: Mapped[str | None] = mapped_column(String(500))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def params(self) -> dict | None:
        return json.loads(self.params_json) if self.params_json else None

    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
                      Index("ix_notifications_email", "email_status", "created_at"))
