from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import db
from app.core.i18n import _l
from app.core.timeutil import now
from app.core.types import UTCDateTime


class JobRun(db.Model):
    """One run (or retry) of a periodic job, for the administrators' job page."""
    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")   # schedule | cli | manual
    celery_task_id: Mapped[str | None] = mapped_column(String(64), index=True)
    for_date: Mapped[date | None] = mapped_column(Date)
    attempt: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="running")    # one of STATUS_LABELS
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    worker_pid: Mapped[int | None]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    STATUS_LABELS = {"running": _l("运行中"), "success": _l("成功"), "retrying": _l("重试中"), "failed": _l("失败"),
                     "abandoned": _l("已中断（工作进程退出）")}

    @property
    def status_label(self) -> str:
        return str(self.STATUS_LABELS.get(self.status, self.status))


class TaskDeadlineEvent(db.Model):
    """That a human task's reminder was sent, or its escalation done (once per task and kind)."""
    __tablename__ = "task_deadline_events"
    __table_args__ = (UniqueConstraint("human_task_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))        # reminder | escalation
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
