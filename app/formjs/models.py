"""Deployed form-js forms, versioned by content like the diagrams (``process_specs``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime


class FormArtifact(db.Model):
    """One version of a ``.form`` file.  Identical content (after key ordering) is the same version; the
    version with the highest ``activation`` is current (deploying an older content again makes it current).
    A human task keeps the version that was current when it was created (``human_tasks.form_artifact_id``)."""
    __tablename__ = "form_artifacts"
    __table_args__ = (UniqueConstraint("form_id", "content_hash", name="uq_form_artifacts_form_hash"),
                      UniqueConstraint("form_id", "version", name="uq_form_artifacts_form_version"))
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    schema_json: Mapped[str] = mapped_column(Text)           # canonical JSON (sorted keys)
    activation: Mapped[int]                                  # the n-th time a version of this form became current
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
