"""Job runs whose worker died are marked abandoned; a failure shows its message, the log its traceback."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.db import db
from app.core.timeutil import now
from app.jobs import runner as jobs
from app.jobs.models import JobRun


def _running(job="timers", task_id=None, age_seconds=0.0):
    run = JobRun(job=job, trigger="schedule", celery_task_id=task_id, status="running", worker_pid=999999,
                 started_at=now() - timedelta(seconds=age_seconds))
    db.session.add(run)
    db.session.commit()
    return run.id


def test_stale_and_redelivered_runs_are_abandoned_by_the_next_run(app, ctx, world, login):
    w = world()
    stale_after = app.config["JOB_STALE_SECONDS"]
    old = _running(age_seconds=stale_after + 60)                  # its worker died an hour ago
    young = _running(age_seconds=5)                               # another worker is still at it
    redelivered = _running(job="deadlines", task_id="task-h4-redelivered", age_seconds=5)

    jobs.run_now("deadlines", task_id="task-h4-redelivered", trigger="schedule", attempt=1)

    db.session.expire_all()
    assert db.session.get(JobRun, old).status == "abandoned"
    assert db.session.get(JobRun, old).finished_at is not None
    assert db.session.get(JobRun, young).status == "running"
    assert db.session.get(JobRun, redelivered).status == "abandoned"
    last = db.session.scalar(select(JobRun).where(JobRun.celery_task_id == "task-h4-redelivered")
                             .order_by(JobRun.id.desc()).limit(1))
    assert last.status == "success"

    admin = login(w.user("admin"))
    page = admin.get("/admin/jobs/").data.decode()
    assert f'id="job-run-{old}" data-status="abandoned"' in page and "工作进程在运行中退出" in page
    page = admin.get("/admin/jobs/?lang=en").data.decode()
    assert "abandoned (worker died)" in page and "did not finish within the time limit" in page
    admin.get("/admin/jobs/?lang=zh")
    db.session.delete(db.session.get(JobRun, young))
    db.session.commit()


def test_failure_shows_the_message_and_logs_the_traceback(app, ctx, world, login, caplog):
    w = world()
    from app.core.workdays import UnknownCalendarYear
    with caplog.at_level(logging.ERROR, logger="app.jobs.runner"), pytest.raises(UnknownCalendarYear):
        jobs.run_now("monthly_filing", date(2031, 3, 3))
    run = db.session.scalar(select(JobRun).where(JobRun.job == "monthly_filing").order_by(JobRun.id.desc()))
    assert run.status == "failed" and run.error.startswith("UnknownCalendarYear:") and "2031" in run.error
    assert "Traceback" not in run.error and 'File "' not in run.error
    logged = [r for r in caplog.records if r.name == "app.jobs.runner" and r.exc_info]
    assert logged and "monthly_filing" in logged[-1].getMessage()
    page = login(w.user("admin")).get("/admin/jobs/").data.decode()
    assert "UnknownCalendarYear" in page and "Traceback" not in page
