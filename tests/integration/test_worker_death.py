"""A whole Celery worker (main process, pool and beat) killed with SIGKILL in the middle of a job,
on the embedded SQL broker.

What happens, as the README says: the run stays "running" until a later run (here the timer job
that the next worker's beat starts every second) marks it ``abandoned`` after ``JOB_STALE_SECONDS``;
the embedded broker does not deliver the message again (it keeps no visibility timeout), so the work
is finished by the job's next run, which does exactly the part still missing.
"""
from __future__ import annotations

import os
import signal
import time
from datetime import date

import pytest
from kombu import pools
from sqlalchemy import select

from app.accounts.models import Organisation
from app.core.db import db
from app.duties.models import Duty
from app.jobs.models import JobRun
from tests.integration.test_celery_brokers import Worker, finished, wait_until
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.broker
RUN_ON, PERIOD = date(2023, 7, 10), "2023Q2"


def test_whole_worker_killed_mid_job(app, world, tmp_path_factory, login):
    pools.reset()     # an earlier module's Worker.stop() closed kombu's pool for this broker URL
    w = world()
    sources = [Organisation(kind="data_source", name=f"{n}{w.tag}", code=f"ds-{n}-{w.tag}-death")
               for n in ("税务", "社保", "公积金", "水务")]
    db.session.add_all(sources)
    db.session.commit()
    ids = [s.id for s in sources]

    def mine():
        return list(db.session.scalars(select(Duty).where(Duty.kind == "credit_data", Duty.period == PERIOD,
                                                          Duty.org_id.in_(ids))))

    with SmtpServer() as smtp:
        first = Worker(app, "death", None, smtp, tmp_path_factory.mktemp("w-death-1"))
        try:
            tid = first.send("credit_data", RUN_ON)
            wait_until(lambda: len(mine()) >= 1, what="first duty", worker=first)
            os.killpg(first.proc.pid, signal.SIGKILL)              # the whole worker, beat included
            first.proc.wait(30)
            first._logf.close()       # not stop(): it would close kombu's connection pool, shared by URL
        except BaseException:
            first.stop()
            raise
        done_before = len(mine())
        assert done_before < len(ids)
        run = db.session.scalar(select(JobRun).where(JobRun.celery_task_id == tid))
        assert run.status == "running"
        db.session.rollback()

        # the next worker on the same queue; its beat runs the timer job every second
        second = Worker(app, "death", None, smtp, tmp_path_factory.mktemp("w-death-2"),
                        extra_env={"ZENGXIN_JOB_STALE_SECONDS": "3"})
        try:
            wait_until(lambda: db.session.get(JobRun, run.id).status == "abandoned", timeout=60,
                       what="the dead run marked abandoned", worker=second)
            time.sleep(2)   # the embedded broker keeps no visibility timeout: the message is not redelivered
            assert db.session.scalars(select(JobRun).where(JobRun.celery_task_id == tid)).all() == [
                db.session.get(JobRun, run.id)]
            db.session.rollback()
            again = second.send("credit_data", RUN_ON)              # the next run does what was missing
            wait_until(lambda: finished(again), timeout=60, what="next run", worker=second)
        finally:
            second.stop()
    assert sorted(d.org_id for d in mine()) == sorted(ids)
    page = login(w.user("admin")).get("/admin/jobs/").data.decode()
    assert f'id="job-run-{run.id}" data-status="abandoned"' in page
