from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import db
from app.core.timeutil import now
from app.core.types import UTCDateTime


class ProcessSpec(db.Model):
    """A deployed BPMN file, versioned by content hash.  Instances keep the version they began with."""
    __tablename__ = "process_specs"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    # the serialized spec (plain JSON text), shared by every instance of this version
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ProcessCurrent(db.Model):
    """The version of a process that new instances start: the newest deployed, or an older one made
    current again by redeploying its content (rollback).  Its file name owns the process id: a
    different file declaring the same id is refused unless deployed explicitly as a new version."""
    __tablename__ = "process_current"
    process_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("process_specs.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    spec: Mapped[ProcessSpec] = relationship()


class ProcessInstance(db.Model):
    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("process_specs.id"))
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column()
    # SpiffWorkflow state as plain JSON text (never jsonb: it reorders keys), without the spec
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    completed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # set by an administrator's cancel (app/workflow/cockpit.py); ``completed`` is then True as well
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # True while the instance has an open incident (app/workflow/incidents.py): the list filter, and
    # the one attribute a successful step reads to know it has incidents to resolve
    has_incident: Mapped[bool] = mapped_column(default=False, server_default=false())

    spec: Mapped[ProcessSpec] = relationship()
    __table_args__ = (Index("ix_instance_subject", "subject_type", "subject_id"),)
    __mapper_args__ = {"version_id_col": version}


class HumanTask(db.Model):
    """The index of human tasks: every task list is one indexed query on this table."""
    __tablename__ = "human_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(60))
    org_kind: Mapped[str | None] = mapped_column(String(30))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    form_key: Mapped[str | None] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")   # open | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(default=False)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the form-js form version this task shows (set when created: app/workflow/forms.py)
    form_artifact_id: Mapped[int | None] = mapped_column(ForeignKey("form_artifacts.id"))

    instance: Mapped[ProcessInstance] = relationship()
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])

    __table_args__ = (
        Index("ix_task_queue_org", "org_id", "status", "due_at"),
        # the queue's "age"/"newest" sorts: without it PostgreSQL sorts all of an org's open tasks
        Index("ix_task_queue_org_age", "org_id", "status", "created_at"),
        Index("ix_task_queue_kind", "org_kind", "status", "due_at"),
        Index("ix_task_subject", "subject_type", "subject_id", "status"),
    )


class WorkflowTimer(db.Model):
    """A timer event an instance is waiting on, and when it is due.

    Written by the adapter whenever it persists an instance (a row per WAITING timer task; removed
    when the timer fires or its task is cancelled), so the timer job finds due instances with one
    indexed query instead of loading every instance.
    """
    __tablename__ = "workflow_timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Incident(db.Model):
    """A step that failed (a script error, missing data, a timer that could not fire), recorded in a
    transaction of its own after the step's transaction was rolled back; see app/workflow/incidents.py.

    ``instance_id`` is empty when the failure happened while starting an instance (nothing was
    stored).  The same failure of the same task, while open, counts ``occurrences`` instead of
    adding rows.
    """
    __tablename__ = "workflow_incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    spec_id: Mapped[int | None] = mapped_column(ForeignKey("process_specs.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(20))          # start | task | timer | retry | migrate
    bpmn_id: Mapped[str | None] = mapped_column(String(100))  # the element that failed
    task_name: Mapped[str | None] = mapped_column(String(200))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))  # being completed
    error_type: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # who acted (None: a job)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    occurrences: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="open")   # open | resolved
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[ProcessInstance | None] = relationship()
    spec: Mapped[ProcessSpec | None] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    __table_args__ = (Index("ix_incident_status", "status", "occurred_at"),
                      Index("ix_incident_instance", "instance_id", "status"))
