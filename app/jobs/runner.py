"""Periodic jobs: a registry, one Celery task that runs any of them, and the run log.

A feature declares its job with :func:`job` in its own ``tasks.py`` (imported by
:mod:`app.jobs.wiring`).  Every job is a function ``fn(at: datetime) -> str`` (a summary) that is
safe to run twice for the same moment: the data it writes carries unique keys.  The job commits its own units of work, so a worker killed mid-run
leaves finished units behind and the next run does the rest.

``run_job`` records each attempt in :class:`JobRun`; a failure is retried with exponential back-off
and, after the last retry, stays on the administrators' job page with its error message (the full
traceback goes to the log, not to the page).

A run whose worker died cannot record its own end.  Every run therefore first marks as
``abandoned`` the runs nobody will finish: an earlier attempt of the same Celery message (the broker
delivered it again, so its worker is gone) and any run still "running" after ``JOB_STALE_SECONDS``.
Beat starts the timer job every 30 s, so an abandoned run is marked within that much of its timeout.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from celery.schedules import crontab, schedule as every
from flask import current_app

from sqlalchemy import func, select

from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import SHANGHAI, now, today
from app.jobs.celery_app import celery
from app.jobs.models import JobRun

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    fn: Callable[[datetime], str]
    schedule: Callable            # (flask config) -> celery schedule
    label: str
    description: str


JOBS: dict[str, Job] = {}


def job(name: str, label: str, schedule: Callable, description: str = ""):
    def deco(fn):
        JOBS[name] = Job(name, fn, schedule, label, description)
        return fn
    return deco


def beat_schedule(app) -> dict:
    return {f"zx-{j.name}": {"task": "zx.run_job", "schedule": j.schedule(app.config), "args": [j.name]}
            for j in JOBS.values()}


def moment_for(for_date: date | None) -> datetime:
    """The moment a job runs "for": now, or noon (Shanghai) of a given past or future day."""
    if for_date is None or for_date == today():
        return now()
    return datetime.combine(for_date, time(12, 0), tzinfo=SHANGHAI)


class JobNotFound(KeyError):
    pass


# stored in the source language, shown translated (``|tr``)
ABANDONED_REDELIVERED = N_("工作进程在运行中退出，作业已重新投递")
ABANDONED_TIMEOUT = N_("工作进程在运行中退出：超过时限仍未结束")


def abandon_stale_runs(task_id: str | None = None) -> int:
    """Mark the runs whose worker died as ``abandoned`` (committed); returns how many."""
    stale_after = float(current_app.config.get("JOB_STALE_SECONDS") or 3600)
    cutoff = now() - timedelta(seconds=stale_after)
    count = 0
    running = select(JobRun).where(JobRun.status == "running")
    redelivered = list(db.session.scalars(running.where(JobRun.celery_task_id == task_id))) if task_id else []
    for run in redelivered:
        run.status, run.finished_at, run.error = "abandoned", now(), ABANDONED_REDELIVERED
    timed_out = list(db.session.scalars(running.where(JobRun.started_at < cutoff).with_for_update(skip_locked=True)))
    for run in timed_out:
        if run.status == "running":
            run.status, run.finished_at = "abandoned", now()
            run.error = ABANDONED_TIMEOUT
    for run in redelivered + timed_out:
        count += 1
        log.warning("job run %s (%s, pid %s) abandoned: %s", run.id, run.job, run.worker_pid, run.error)
    db.session.commit()
    return count


def run_now(name: str, for_date: date | None = None, *, trigger: str = "cli", task_id: str | None = None,
            attempt: int = 1) -> JobRun:
    """Run a job in this process and record the run; re-raises the job's error after recording it."""
    if name not in JOBS:
        raise JobNotFound(name)
    abandon_stale_runs(task_id)
    run = JobRun(job=name, trigger=trigger, celery_task_id=task_id, for_date=for_date, attempt=attempt,
                 status="running", worker_pid=os.getpid(), started_at=now())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        summary = JOBS[name].fn(moment_for(for_date))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (run %s, attempt %s) failed", name, run_id, attempt)   # the traceback: log only
        run = db.session.get(JobRun, run_id)
        run.status, run.finished_at = "failed", now()
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    run = db.session.get(JobRun, run_id)
    run.status, run.summary, run.finished_at = "success", summary or "", now()
    db.session.commit()
    return run


@celery.task(name="zx.run_job", bind=True, acks_late=True)
def run_job(self, name: str, for_date: str | None = None):
    day = date.fromisoformat(for_date) if for_date else None
    attempt = self.request.retries + 1
    try:
        run_now(name, day, trigger="schedule" if not for_date else "manual", task_id=self.request.id,
                attempt=attempt)
    except JobNotFound:
        raise
    except Exception as exc:
        cfg = current_app.config
        max_retries = int(cfg.get("JOB_MAX_RETRIES", 3))
        if self.request.retries < max_retries:
            run = db.session.query(JobRun).filter_by(celery_task_id=self.request.id, attempt=attempt).one()
            run.status = "retrying"
            db.session.commit()
            countdown = float(cfg.get("JOB_RETRY_BASE_SECONDS", 60)) * (2 ** self.request.retries)
            raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc
        raise


def enqueue(name: str, for_date: date | None = None) -> str:
    """Queue one run of a job on the broker (the admin page's "run now")."""
    res = run_job.apply_async(args=[name], kwargs={"for_date": for_date.isoformat() if for_date else None})
    return res.id


def last_runs() -> dict[str, JobRun]:
    sub = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = db.session.scalars(select(JobRun).join(sub, JobRun.id == sub.c.id))
    return {r.job: r for r in rows}


def interval(key: str, default: float):
    return lambda cfg: every(float(cfg.get(key) or default))


def daily(hour: int, minute: int = 0):
    return lambda cfg: crontab(hour=hour, minute=minute)
