"""The timeline: every decision with who, when and the opinion text."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now


from app.core.types import UTCDateTime


class TimelineEvent(db.Model):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    opinion: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")   # JSON text
    visible_to_enterprise: Mapped[bool] = mapped_column(default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    actor = relationship("User")
    actor_org = relationship("Organisation")
    __table_args__ = (Index("ix_timeline_subject", "subject_type", "subject_id", "at"),)

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")


def record(subject_type: str, subject_id: int, action: str, actor=None, opinion: str = "",
           details: dict | None = None, visible_to_enterprise: bool = True) -> TimelineEvent:
    ev = TimelineEvent(subject_type=subject_type, subject_id=subject_id, action=action,
                       actor_id=actor.id if actor else None,
                       actor_org_id=actor.organisation_id if actor else None,
                       opinion=opinion or "", details=json.dumps(details or {}, ensure_ascii=False, default=str),
                       visible_to_enterprise=visible_to_enterprise, at=now())
    db.session.add(ev)
    return ev


def timeline(subject_type: str, subject_id: int) -> list[TimelineEvent]:
    from sqlalchemy import select
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.subject_type == subject_type, TimelineEvent.subject_id == subject_id)
        .order_by(TimelineEvent.at, TimelineEvent.id)))
