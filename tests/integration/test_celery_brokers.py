"""The real broker path: a real ``celery worker`` process (with its beat) on the embedded SQL broker,
on Redis (127.0.0.1:6379) and on RabbitMQ (127.0.0.1:5672), against the test database.

Each broker gets its own worker for this module and a queue name unique to the run (and a Redis
database of its own), so parallel runs do not collide.  The worker runs beat too (``-B``) with a
1-second timer poll: timers fire with nobody clicking.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.core.db import db
from app.core.timeutil import local
from app.duties.models import Duty
from app.notifications.models import Notification
from app.jobs.models import JobRun, TaskDeadlineEvent
from app.workflow.models import HumanTask
from tests.integration.test_timers import open_tasks, start_waiting
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:8]
BROKERS = {
    "embedded": None,                                   # the test app's own sqla+sqlite broker
    "redis": "redis://127.0.0.1:6379/11",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
# a distinct period per broker, so each test proves its own "exactly once"
PERIODS = {"embedded": (date(2015, 3, 10), date(2024, 4, 15), "2015-02", "2024Q1"),
           "redis": (date(2015, 5, 11), date(2024, 7, 15), "2015-04", "2024Q2"),
           "rabbitmq": (date(2015, 7, 10), date(2024, 10, 15), "2015-06", "2024Q3")}


def _reachable(url):
    if url is None:
        return True
    host, port = ("127.0.0.1", 6379) if url.startswith("redis") else ("127.0.0.1", 5672)
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class Worker:
    def __init__(self, app, name, broker, smtp, tmp, extra_env=None):
        self.name, self.queue = name, f"zx-test-{RUN}-{name}"
        self.broker = broker or app.config["CELERY_BROKER_URL"]
        self.log = tmp / f"worker-{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGXIN_", "CELERY_", "MAIL_"))}
        env.update({
            "SECRET_KEY": "test-secret", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "CELERY_BROKER_URL": self.broker, "CELERY_QUEUE": self.queue,
            "ZENGXIN_UPLOAD_DIR": app.config["UPLOAD_DIR"], "ZENGXIN_INSTANCE": str(tmp),
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "MAIL_FROM": "zengxin@test.local",
            "ZENGXIN_TIMER_POLL_SECONDS": "1", "ZENGXIN_DEADLINE_SCAN_SECONDS": "86400",
            "ZENGXIN_JOB_MAX_RETRIES": "2", "ZENGXIN_JOB_RETRY_BASE_SECONDS": "0.2",
            "ZENGXIN_DUTY_JOB_PAUSE_SECONDS": "0.4",
            **(extra_env or {}),
        })
        if app.config.get("ZX_TEST_SCHEMA"):
            env["ZENGXIN_DB_SCHEMA"] = app.config["ZX_TEST_SCHEMA"]
        self._logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "app.jobs.worker", "worker", "-B",
             "-s", str(tmp / f"beat-{name}"), "-Q", self.queue, "-n", f"{self.queue}@%h", "--concurrency=1",
             "--pool=prefork", "--without-gossip", "--without-mingle", "--loglevel=info"],
            cwd=ROOT, env=env, stdout=self._logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = Celery("zx-test-client", broker=self.broker)
        self.client.conf.update(task_serializer="json", accept_content=["json"], task_default_queue=self.queue,
                                task_default_exchange=self.queue, task_default_routing_key=self.queue,
                                broker_connection_retry_on_startup=True)
        try:
            self._wait_log("ready.", 90)
        except BaseException:
            self.stop()
            raise

    def _wait_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log.read_text(errors='replace')[-4000:]}")
            if needle in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"worker not {needle!r}:\n{self.log.read_text(errors='replace')[-4000:]}")

    def send(self, job, for_date=None) -> str:
        return self.client.send_task("zx.run_job", args=[job],
                                     kwargs={"for_date": for_date.isoformat() if for_date else None}).id

    def stop(self):
        self.client.pool.force_close_all()
        self.client.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._logf.close()


@pytest.fixture(autouse=True)
def other_schemes_inactive(app):
    """The jobs here run for every active scheme of the (shared) test database: switch off the schemes
    earlier tests left active while a test runs, so its cost does not grow with the rest of the suite."""
    from sqlalchemy import update

    from app.policies.models import Scheme
    with app.app_context():
        ids = list(db.session.scalars(select(Scheme.id).where(Scheme.active.is_(True))))
        db.session.execute(update(Scheme).where(Scheme.id.in_(ids)).values(active=False))
        db.session.commit()
    yield
    with app.app_context():
        db.session.rollback()
        db.session.execute(update(Scheme).where(Scheme.id.in_(ids)).values(active=True))
        db.session.commit()


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module", params=list(BROKERS))
def worker(request, app, smtp, tmp_path_factory):
    url = BROKERS[request.param]
    if not _reachable(url):
        pytest.fail(f"{request.param} broker at {url} is not reachable")
    w = Worker(app, request.param, url, smtp, tmp_path_factory.mktemp(f"w-{request.param}"))
    yield w
    w.stop()


def wait_until(fn, timeout=60.0, what="condition", worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = fn()
        db.session.rollback()        # never hold a transaction (on SQLite: the write lock) while waiting
        if value:
            return value
        time.sleep(0.1)
    log = worker.log.read_text(errors="replace")[-3000:] if worker else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


def finished(task_id, status="success"):
    return db.session.scalar(select(JobRun).where(JobRun.celery_task_id == task_id, JobRun.status == status))


def run_and_wait(worker, job, for_date=None):
    tid = worker.send(job, for_date)
    return wait_until(lambda: finished(tid), what=f"{job} {for_date}", worker=worker)


def test_timer_fires_with_nobody_clicking(worker, world):
    w = world()
    inst = start_waiting(w.bank.id, 1.5)
    assert open_tasks(inst.id) == []
    tasks = wait_until(lambda: open_tasks(inst.id), timeout=30, what="timer to fire", worker=worker)
    assert [t.bpmn_id for t in tasks] == ["after_notice"]


def test_monthly_filing_once_then_escalated_once_with_mail(worker, world, smtp):
    w = world()
    run_on, _q, period, _qp = PERIODS[worker.name]
    run_and_wait(worker, "monthly_filing", run_on)
    run_and_wait(worker, "monthly_filing", run_on)              # a second run: nothing new
    duties = list(db.session.scalars(select(Duty).where(Duty.kind == "monthly_filing", Duty.period == period,
                                                        Duty.scheme_id == w.scheme.id)))
    assert sorted(d.org_id for d in duties) == sorted([w.bank.id, w.bank2.id])
    mine = next(d for d in duties if d.org_id == w.bank.id)
    [ht] = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == mine.instance_id))
    officer = w.user("officer")
    assert smtp.wait_for(officer.email), "duty notice e-mail"

    later = local(mine.due_at).date() + timedelta(days=3)
    run_and_wait(worker, "deadlines", later)
    run_and_wait(worker, "deadlines", later)
    db.session.expire_all()
    assert db.session.get(HumanTask, ht.id).overdue is True
    assert db.session.scalar(select(func.count()).select_from(TaskDeadlineEvent).where(
        TaskDeadlineEvent.human_task_id == ht.id, TaskDeadlineEvent.kind == "escalation")) == 1
    fin = w.user("finoffice")
    # one grouped message per recipient: the office's lists this task (and bank2's duty beside it)
    notes = [n for n in db.session.scalars(select(Notification).where(Notification.user_id == fin.id,
                                                                       Notification.kind == "escalation"))
             if ht.id in [i.get("task_id") for i in [n.params["args"]] + n.params.get("items", [])]]
    assert len(notes) == 1
    mails = smtp.wait_for(fin.email)
    assert len([m for m in mails if w.bank.name in m["Subject"] and m["Subject"].startswith("逾期督办")]) == 1


def test_quarterly_duties_exactly_once_when_the_worker_dies_mid_run(worker, world):
    w = world()
    _m, run_on, _p, period = PERIODS[worker.name]
    sources = [Organisation(kind="data_source", name=f"{n}{w.tag}", code=f"ds-{n}-{w.tag}-{worker.name}")
               for n in ("税务", "社保", "公积金")]
    db.session.add_all(sources)
    db.session.commit()
    ids = [s.id for s in sources]

    def mine():
        return list(db.session.scalars(select(Duty).where(Duty.kind == "credit_data", Duty.period == period,
                                                          Duty.org_id.in_(ids))))
    tid = worker.send("credit_data", run_on)
    wait_until(lambda: len(mine()) >= 1, what="first duty", worker=worker)
    run = db.session.scalar(select(JobRun).where(JobRun.celery_task_id == tid))
    os.kill(run.worker_pid, signal.SIGKILL)                       # the pool process dies mid-run
    assert len(mine()) < 3
    wait_until(lambda: finished(tid), timeout=90, what="redelivered run", worker=worker)
    run_and_wait(worker, "credit_data", run_on)                   # and once more, for good measure
    rows = mine()
    assert sorted(d.org_id for d in rows) == sorted(ids)
    for d in rows:
        assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == d.instance_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.celery_task_id == tid)) >= 2


def test_failed_job_is_retried_then_shown_on_the_admin_page(worker, world, login):
    w = world()
    tid = worker.send("monthly_filing", date(2031, 3, 3))        # no holiday schedule for 2031
    wait_until(lambda: finished(tid, "failed"), timeout=60, what="retries", worker=worker)
    runs = list(db.session.scalars(select(JobRun).where(JobRun.celery_task_id == tid).order_by(JobRun.id)))
    assert [(r.attempt, r.status) for r in runs] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
    assert "2031" in runs[-1].error
    page = login(w.user("admin")).get("/admin/jobs/").data.decode()
    assert "UnknownCalendarYear" in page and 'id="job-monthly_filing"' in page
