"""Reference numbers under concurrency, through a real server.

On PostgreSQL the app runs under gunicorn with several worker processes (as in production); on
SQLite it runs on a threaded werkzeug server (several writers to one SQLite file from separate
processes is not the deployment this suite checks).  Submissions, bank approvals and overdue reports
are sent from many client threads at once: every request must succeed and every number be unique.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.applications import operations as app_ops
from app.applications.models import LoanApplication
from app.compensation.models import CompensationClaim
from app.core.db import db
from app.core.timeutil import today
from app.loans.models import Loan
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD, PDF, PNG, application_form
from tests.e2e.test_compensation_http import make_loan

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS, APPROVALS, REPORTS, CLIENTS = 80, 40, 24, 16
NUMBER = re.compile(r"^(ZX|DK|BC)-\d{8}-\d{4,}$")


class Client:
    """A logged-in HTTP client over a real socket (urllib, cookies, the CSRF token)."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())
        self.csrf = _token(self.get("/login")[1])
        status, _body = self.post("/login", {"username": username, "password": PASSWORD})
        assert status == 302, f"login failed for {username}: {status}"
        self.csrf = _token(self.get("/tasks/")[1])

    def _open(self, req):
        try:
            with self.opener.open(req, timeout=120) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def get(self, path):
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path, data=None, files=None):
        data = {"csrf_token": getattr(self, "csrf", ""), **(data or {})}
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in data.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            for k, (name, content, ctype) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                             f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            ctype = f"multipart/form-data; boundary={boundary}"
        else:
            body, ctype = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST",
                                                 headers={"Content-Type": ctype}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on page"
    return m.group(1)


class Gunicorn:
    def __init__(self, app, tmp: Path, workers: int = 4):
        self.log = tmp / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGXIN_", "CELERY_", "MAIL_"))}
        env.update({"SECRET_KEY": app.config["SECRET_KEY"], "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                    "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"], "ZENGXIN_INSTANCE": str(tmp),
                    "ZENGXIN_UPLOAD_DIR": app.config["UPLOAD_DIR"]})
        if app.config.get("ZX_TEST_SCHEMA"):
            env["ZENGXIN_DB_SCHEMA"] = app.config["ZX_TEST_SCHEMA"]
        self._logf = open(self.log, "wb")
        # port 0: the OS picks a free port, gunicorn logs which
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers), "-b", "127.0.0.1:0",
             "--timeout", "120", "app:create_app()"],
            cwd=ROOT, env=env, stdout=self._logf, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.url = self._wait(workers)
        except BaseException:
            self.stop()
            raise

    def _wait(self, workers, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{text[-4000:]}")
            m = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", text)
            if m and text.count("Booting worker") >= workers:
                try:
                    urllib.request.urlopen(m.group(1) + "/login", timeout=30).read()
                    return m.group(1)
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn not ready:\n{self.log.read_text(errors='replace')[-4000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._logf.close()


@pytest.fixture(scope="module")
def server(app, tmp_path_factory, request):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        g = Gunicorn(app, tmp_path_factory.mktemp("gunicorn"))
        yield g.url
        g.stop()
        errors = [line for line in g.log.read_text(errors="replace").splitlines()
                  if "Traceback" in line or "ERROR" in line]
        assert not errors, "\n".join(errors[:20])
    else:
        # SQLite: the multi-process server is not the SQLite deployment; a threaded server still
        # runs the requests concurrently against the one database file
        yield request.getfixturevalue("live_server")


def _run(fn, items):
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(fn, items))


def _clients(server, username, n=CLIENTS):
    db.session.rollback()     # never hold a transaction (on SQLite: the write lock) while the server works
    return _run(lambda _i: Client(server, username), range(n))


def _unique_numbers(nos, count):
    assert len(nos) == count
    assert len(set(nos)) == count, sorted(nos)
    assert all(NUMBER.match(no) for no in nos), nos


def test_concurrent_submissions_and_approvals_get_unique_numbers(server, world):
    w = world()
    form = {k: v for k, v in application_form(w).items() if k not in ("business_licence", "financial_statements")}
    product = w.scheme.params.products[0].code
    clients = _clients(server, w.user("firm").username)
    files = {"business_licence": ("licence.pdf", PDF, "application/pdf"),
             "financial_statements": ("statements.png", PNG, "image/png")}

    db.session.rollback()
    results = _run(lambda i: clients[i % CLIENTS].post("/applications/new", form, files), range(SUBMISSIONS))
    bad = [(s, b[:300]) for s, b in results if s != 302]
    assert not bad, f"{len(bad)} of {SUBMISSIONS} submissions failed: {bad[:3]}"
    db.session.expire_all()
    apps = list(db.session.scalars(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id)))
    _unique_numbers([a.no for a in apps], SUBMISSIONS)

    # the department recommends APPROVALS of them (in this process: not what is under test)
    dept = w.user("dept")
    chosen = apps[:APPROVALS]
    for a in chosen:
        t = db.session.scalar(select(HumanTask).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                      HumanTask.form_key == "department_review"))
        app_ops.department_review(t.id, dept, "recommend", "推荐", w.bank.id)
        db.session.commit()
    tasks = [db.session.scalar(select(HumanTask.id).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                          HumanTask.form_key == "bank_due_diligence"))
             for a in chosen]
    assert all(tasks)
    officers = _clients(server, w.user("officer").username)

    def approve(i):
        c = officers[i % CLIENTS]
        s1, b1 = c.post(f"/tasks/{tasks[i]}/claim")
        s2, b2 = c.post(f"/tasks/{tasks[i]}", {
            "decision": "approve", "opinion": "调查属实", "contract_no": f"HT-{w.tag}-{i}", "amount": "1000000.00",
            "annual_rate": "5.22", "term_months": "12", "disbursed_on": today().isoformat(), "product": product})
        return (s1, s2), (b1[:300], b2[:300])

    db.session.rollback()
    results = _run(approve, range(APPROVALS))
    bad = [r for r in results if r[0] != (302, 302)]
    assert not bad, f"{len(bad)} of {APPROVALS} approvals failed: {bad[:3]}"
    db.session.expire_all()
    loans = list(db.session.scalars(select(Loan).where(Loan.application_id.in_([a.id for a in chosen]))))
    _unique_numbers([loan.no for loan in loans], APPROVALS)


def test_concurrent_overdue_reports_for_different_loans(server, world):
    w = world()
    loan_ids = [make_loan(w).id for _ in range(REPORTS)]
    banks = _clients(server, w.user("officer").username)
    day = (today() - timedelta(days=100)).isoformat()

    def report(i):
        return banks[i % CLIENTS].post(f"/compensation/report/{loan_ids[i]}", {
            "overdue_on": day, "overdue_principal": "100000.00", "classification": "substandard",
            "note": "连续三期未付息"})

    db.session.rollback()
    results = _run(report, range(REPORTS))
    bad = [(s, b[:300]) for s, b in results if s != 302]
    assert not bad, f"{len(bad)} of {REPORTS} overdue reports refused: {bad[:3]}"
    db.session.expire_all()
    claims = list(db.session.scalars(select(CompensationClaim).where(
        CompensationClaim.loan_id.in_(loan_ids))))
    _unique_numbers([c.no for c in claims], REPORTS)
