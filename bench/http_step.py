"""The approval step over HTTP under gunicorn, against the bare step transaction, in the same run.

    .venv/bin/python -m bench.http_step --db postgresql://postgres@127.0.0.1:5432/test

On PostgreSQL in a fresh schema (dropped at the end).  Data through the app's own operations: a
黔江-preset scheme with its organisations and users (``bench.step_cost.make_world``) and loan
applications submitted by ``submit_application`` (with their PDF/PNG attachments).

For 1, 2 and 4 gunicorn sync workers (``gunicorn -w N 'app:create_app()'``, the README's production
command, on a socket the OS picked), ``--clients-per-worker`` client processes per worker (default 2:
a request is always queued behind the one running, so the workers are saturated) each log in once
(department user and bank officer, real login form, CSRF token from the page) and then send, as fast
as the server answers, on instances of their own:

* **department review**: ``POST /tasks/<id>`` with the real form (recommend to the bank, opinion,
  CSRF token) — the step that completes ``department_review``;
* **bank approval**: ``POST /tasks/<id>/claim`` and then ``POST /tasks/<id>`` with the approval form
  (contract, amount, rate, term, date, product) — completes ``bank_due_diligence`` and creates the loan.

Redirects are not followed (the queue page a browser loads next is ``bench.task_queue``'s subject);
the login cookie is sent as it was (the flash messages a browser would carry to the next page are
dropped).  Every step is checked in the database afterwards: a task not completed is an error.

**bare step**: ``bench.step_cost.Baseline`` — SpiffWorkflow 3.2 alone, ``SELECT … FOR UPDATE`` of a
text row → ``deserialize_json`` → complete ``department_review`` → engine steps → ``serialize_json``
→ ``UPDATE`` → commit, one after the other in this process; half measured just before and half just
after each gunicorn round, so that load from other work on the machine falls on both alike.

Reported per worker count: steps/s, steps/s per worker process, client-side p50 / p95, errors, and the
ratio per process against the bare step (goal: at least 1/3).
"""
from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench._common import bench_app, header, parser, stats_ms

PASSWORD = "bench-pass-123"
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- HTTP client

class Client:
    """One browser session: a cookie and a CSRF token, one connection per request (gunicorn sync
    workers close the connection after each response)."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.csrf = ""

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data

    def _keep_cookie(self, r) -> None:
        for c in r.msg.get_all("Set-Cookie") or []:
            self.cookie = c.split(";", 1)[0]

    def login(self, username: str) -> None:
        r, data = self.request("GET", "/login")
        self._keep_cookie(r)
        self.csrf = csrf_token(data)
        r, _ = self.request("POST", "/login", {"username": username, "password": PASSWORD})
        assert r.status == 302, f"login of {username} failed ({r.status})"
        self._keep_cookie(r)
        r, data = self.request("GET", "/tasks/")
        self._keep_cookie(r)
        self.csrf = csrf_token(data)


def csrf_token(html: bytes) -> str:
    m = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1).decode()


def dept_form(bank_id: int) -> dict:
    return {"decision": "recommend", "opinion": "经营正常，信用良好，符合产业方向", "bank_id": str(bank_id)}


def bank_form(task_id: int, disbursed_on: str, product: str) -> dict:
    return {"decision": "approve", "opinion": "调查属实", "contract_no": f"HT-BENCH-{task_id}",
            "amount": "1000000.00", "annual_rate": "5.22", "term_months": "12", "disbursed_on": disbursed_on,
            "product": product}


def _client(port: int, users: dict, phase: str, task_ids: list[int], extra: dict, start, result_q) -> None:
    """A client process: log in, warm up on the first task, wait for the start, then step through the rest."""
    try:
        c = Client(port)
        c.login(users["bank"] if phase == "bank" else users["dept"])
        samples: list[tuple[str, float, bool]] = []

        def step(tid: int, timed: bool) -> None:
            if phase == "dept":
                t0 = time.perf_counter()
                r, _ = c.request("POST", f"/tasks/{tid}", dept_form(extra["bank_id"]))
                ok = r.status == 302 and r.getheader("Location", "").rstrip("/").endswith("/tasks")
                if timed:
                    samples.append(("dept", time.perf_counter() - t0, ok))
            else:
                t0 = time.perf_counter()
                r, _ = c.request("POST", f"/tasks/{tid}/claim", {})
                ok = r.status == 302 and r.getheader("Location", "").endswith(f"/tasks/{tid}")
                t1 = time.perf_counter()
                r, _ = c.request("POST", f"/tasks/{tid}", bank_form(tid, extra["today"], extra["product"]))
                ok2 = r.status == 302 and r.getheader("Location", "").rstrip("/").endswith("/tasks")
                if timed:
                    samples.append(("claim", t1 - t0, ok))
                    samples.append(("approve", time.perf_counter() - t1, ok2))

        step(task_ids[0], False)          # warm up a worker (imports done, spec cache, connection)
        start.wait()
        t0 = time.perf_counter()
        for tid in task_ids[1:]:
            step(tid, True)
        result_q.put(("ok", time.perf_counter() - t0, samples))
    except BaseException as exc:  # report, never hang the barrier-waiting parent
        result_q.put(("error", repr(exc), []))


def run_clients(port: int, users: dict, phase: str, chunks: list[list[int]], extra: dict) -> dict:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(len(chunks) + 1)
    q = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, users, phase, ch, extra, start, q)) for ch in chunks]
    for p in procs:
        p.start()
    start.wait(timeout=300)
    t0 = time.perf_counter()
    results = [q.get(timeout=900) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    failed = [r[1] for r in results if r[0] != "ok"]
    assert not failed, f"client failed: {failed}"
    samples = [s for r in results for s in r[2]]
    return {"wall": wall, "samples": samples}


# ---------------------------------------------------------------------------- gunicorn

class Gunicorn:
    """``gunicorn -w N 'app:create_app()'`` on an already bound socket (fd://), the app on the bench schema."""

    def __init__(self, sock: socket.socket, workers: int, url: str, schema: str, tmp: str, threads: int = 0):
        self.log = open(os.path.join(tmp, f"gunicorn-{workers}.log"), "w+")
        env = {**os.environ, "DATABASE_URL": url, "ZENGXIN_DB_SCHEMA": schema, "SECRET_KEY": "bench",
               "CELERY_BROKER_URL": "memory://", "ZENGXIN_UPLOAD_DIR": os.path.join(tmp, "up"),
               "ZENGXIN_INSTANCE": tmp}
        fd = sock.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"fd://{fd}", "--timeout", "120",
             "--graceful-timeout", "10",
             *(["--worker-class", "gthread", "--threads", str(threads)] if threads else []), "app:create_app()"],
            cwd=ROOT, env=env, pass_fds=(fd,), stdout=self.log, stderr=subprocess.STDOUT)
        self.port = sock.getsockname()[1]
        self.workers = workers
        deadline = time.monotonic() + 60
        while True:                       # ready when every worker could have booted and one answers
            assert self.proc.poll() is None, self.output()
            try:
                r, _ = Client(self.port).request("GET", "/login")
                if r.status == 200 and self.output().count("Booting worker") >= workers:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + self.output()
            time.sleep(0.2)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        out = self.output()
        self.log.close()
        return out


# ---------------------------------------------------------------------------- main

def _chunks(ids: list[int], n: int) -> list[list[int]]:
    return [ids[i::n] for i in range(n)]


def _task_ids(subject_ids: list[int], form_key: str) -> list[int]:
    from sqlalchemy import select

    from app.core.db import db
    from app.workflow.models import HumanTask
    ids = list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.subject_id.in_(subject_ids), HumanTask.form_key == form_key,
        HumanTask.status == "open").order_by(HumanTask.id)))
    db.session.rollback()
    return ids


def _completed(task_ids: list[int]) -> int:
    from sqlalchemy import func, select

    from app.core.db import db
    from app.workflow.models import HumanTask
    n = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.id.in_(task_ids), HumanTask.status == "completed"))
    db.session.rollback()
    return n


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> dict:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", default="1,2,4", help="gunicorn worker counts, in order (default 1,2,4)")
    p.add_argument("--steps", type=int, default=300, help="timed department reviews (and bank approvals) per round")
    p.add_argument("--threads", type=int, default=0,
                   help="gthread workers with this many threads each (default: sync workers, one request at a time)")
    p.add_argument("--clients-per-worker", type=int, default=0,
                   help="client processes per worker (default 2 for sync workers, threads + 1 for gthread)")
    p.add_argument("--bare", type=int, default=200, help="bare steps timed around each round (half before, half after)")
    p.add_argument("--profile", action="store_true",
                   help="also profile 100 department reviews through the WSGI app in this process (pyinstrument)")
    args = p.parse_args(argv)
    worker_counts = [int(x) for x in args.workers.split(",")]
    if not args.clients_per_worker:
        args.clients_per_worker = args.threads + 1 if args.threads else 2

    from app.accounts.models import Organisation
    from app.accounts.operations import create_user
    from app.core.db import db
    from app.core.timeutil import today
    from app.workflow.models import HumanTask

    from bench.step_cost import Baseline, make_world, submit_many

    report: dict = {"rounds": []}
    with bench_app(args.db) as (app, schema), tempfile.TemporaryDirectory(prefix="zx-http-") as tmp:
        header("HTTP step: department review and bank approval over HTTP (gunicorn) vs the bare step", app)
        with app.app_context():
            w = make_world()
            officer = create_user(db.session.get(Organisation, w["bank"]), f"officer_{schema[-6:]}",
                                  "信贷员", PASSWORD)
            db.session.commit()
            from app.accounts.models import User
            users = {"dept": db.session.get(User, w["dept_user"]).username, "bank": officer.username}
            t0 = time.perf_counter()
            per_round = {}
            for wk in worker_counts:
                clients = wk * args.clients_per_worker
                per_round[wk] = submit_many(w, args.steps + clients)   # + one warm-up step per client
            base = Baseline(app, 20 + args.bare * len(worker_counts))
            print(f"setup: {sum(len(v) for v in per_round.values())} applications submitted through "
                  f"submit_application, {len(base.ids)} bare instances, in {time.perf_counter() - t0:.1f} s")
            base_ids = iter(base.ids)
            for _ in range(20):               # warm-up
                base.step(next(base_ids))
            from app.policies.models import Scheme
            extra = {"bank_id": w["bank"], "today": today().isoformat(),
                     "product": db.session.get(Scheme, w["scheme"]).params.products[0].code}
            db.session.rollback()

        if args.profile:
            with app.app_context():
                extra_ids = submit_many(w, 160)
            profile_in_process(app, users, extra_ids, extra)

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        bare_all: list[float] = []
        print(f"gunicorn on 127.0.0.1:{sock.getsockname()[1]} (a port the OS picked), "
              f"{f'gthread workers, {args.threads} threads each' if args.threads else 'sync workers'}\n")
        for wk in worker_counts:
            clients = wk * args.clients_per_worker
            def bare_steps(n: int) -> list[float]:
                out = []
                with app.app_context():
                    for _ in range(n):
                        t = time.perf_counter()
                        base.step(next(base_ids))
                        out.append(time.perf_counter() - t)
                return out

            bare = bare_steps(args.bare // 2)      # half just before the round, half just after
            with app.app_context():
                dept_ids = per_round[wk]
                subjects = [db.session.get(HumanTask, i).subject_id for i in dept_ids]
                db.session.rollback()
            load_before = _load()
            g = Gunicorn(sock, wk, args.db, schema, tmp, args.threads)
            try:
                dept = run_clients(g.port, users, "dept", _chunks(dept_ids, clients), extra)
                with app.app_context():
                    dept_done = _completed(dept_ids)
                    bank_ids = _task_ids(subjects, "bank_due_diligence")
                bank = run_clients(g.port, users, "bank", _chunks(bank_ids, clients), extra)
                with app.app_context():
                    bank_done = _completed(bank_ids)
            finally:
                out = g.stop()
            bare += bare_steps(args.bare - args.bare // 2)
            bare_all += bare
            tracebacks = out.count("Traceback")
            r = summarise(wk, clients, bare, dept, bank, len(dept_ids), dept_done, len(bank_ids), bank_done,
                          tracebacks, load_before, _load())
            report["rounds"].append(r)
            if tracebacks:
                print(out[-3000:])
        sock.close()
        s_all = stats_ms(bare_all)
        print(f"\nbare step over all rounds: {1000 / (sum(bare_all) * 1000 / len(bare_all)):.0f} steps/s, "
              f"p50 {s_all['median']:.2f} ms, p95 {s_all['p95']:.2f} ms (n={s_all['n']})")
        report["bare"] = s_all
    print(f"schema {schema} dropped")
    return report


def profile_in_process(app, users: dict, task_ids: list[int], extra: dict) -> None:
    """The department-review POST through Flask's test client (no socket, no gunicorn), profiled."""
    from pyinstrument import Profiler
    c = app.test_client()
    assert c.post("/login", data={"username": users["dept"], "password": PASSWORD,
                                  "csrf_token": csrf_token(c.get("/login").data)}).status_code == 302
    token = csrf_token(c.get("/tasks/").data)
    # the login cookie as it was, like the HTTP clients: a client keeping each answer's cookie would
    # carry every unread flash message in it, and the session would grow with each step
    cookie = {"Cookie": f"session={c.get_cookie('session').value}"}
    c = app.test_client(use_cookies=False)

    def post(tid):
        r = c.post(f"/tasks/{tid}", data={**dept_form(extra["bank_id"]), "csrf_token": token}, headers=cookie)
        assert r.status_code == 302, r.status_code

    for tid in task_ids[:9]:
        post(tid)
    from sqlalchemy import event

    from app.core.db import db
    statements: list[tuple[str, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["zx_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((" ".join(statement.split())[:110], time.perf_counter() - conn.info.pop("zx_t0")))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    post(task_ids[9])
    wall = time.perf_counter() - t0
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    print(f"one department review, in process: {wall * 1000:.2f} ms, {len(statements)} SQL statements "
          f"taking {sum(t for _, t in statements) * 1000:.2f} ms (+ COMMIT):")
    for sql, t in statements:
        print(f"  {t * 1000:6.2f} ms  {sql}")
    plain = []
    for tid in task_ids[10:60]:
        t0 = time.perf_counter()
        post(tid)
        plain.append(time.perf_counter() - t0)
    st = stats_ms(plain)
    print(f"department review through the WSGI app in this process (Flask test client, no socket, no "
          f"gunicorn): p50 {st['median']:.2f} ms, p95 {st['p95']:.2f} ms (n={st['n']})")
    prof = Profiler(interval=0.0002)
    t0 = time.perf_counter()
    prof.start()
    for tid in task_ids[60:]:
        post(tid)
    prof.stop()
    n = len(task_ids) - 60
    print(f"the same with the profiler on: {(time.perf_counter() - t0) * 1000 / n:.2f} ms per request, n={n}")
    print(prof.output_text(unicode=True, color=False, show_all=False))


def summarise(wk, clients, bare, dept, bank, n_dept, dept_done, n_bank, bank_done, tracebacks, load0, load1) -> dict:
    bare_rate = len(bare) / sum(bare)
    sb = stats_ms(bare)
    d = [s for k, s, _ in dept["samples"] if k == "dept"]
    a = [s for k, s, _ in bank["samples"] if k == "approve"]
    c = [s for k, s, _ in bank["samples"] if k == "claim"]
    bad_http = sum(1 for *_, ok in dept["samples"] + bank["samples"] if not ok)
    errors = bad_http + (n_dept - dept_done) + (n_bank - bank_done) + tracebacks
    sd, sa, sc = stats_ms(d), stats_ms(a), stats_ms(c)
    dept_rate = len(d) / dept["wall"]
    bank_rate = len(a) / bank["wall"]
    ratio = dept_rate / wk / bare_rate
    print(f"## {wk} worker{'s' if wk > 1 else ''}, {clients} clients   (load average 1/5/15 min: before {load0}, "
          f"after {load1})")
    print(f"  bare step (this process, before+after)  {bare_rate:6.0f} steps/s   p50 {sb['median']:6.2f} ms  "
          f"p95 {sb['p95']:6.2f} ms")
    print(f"  department review over HTTP          {dept_rate:6.0f} steps/s   p50 {sd['median']:6.2f} ms  "
          f"p95 {sd['p95']:6.2f} ms   per worker {dept_rate / wk:.0f} steps/s = {ratio:.2f} × bare")
    print(f"  bank approval (claim + approve)      {bank_rate:6.0f} steps/s   approve p50 {sa['median']:.2f} ms "
          f"p95 {sa['p95']:.2f} ms; claim p50 {sc['median']:.2f} ms p95 {sc['p95']:.2f} ms; "
          f"per worker {bank_rate / wk:.0f} steps/s = {bank_rate / wk / bare_rate:.2f} × bare")
    print(f"  errors: {errors}   (HTTP answers not the expected redirect: {bad_http}; department tasks "
          f"completed {dept_done}/{n_dept}, bank tasks {bank_done}/{n_bank}; tracebacks in gunicorn's log: "
          f"{tracebacks})\n")
    return {"workers": wk, "clients": clients, "bare_rate": bare_rate, "dept_rate": dept_rate,
            "bank_rate": bank_rate, "ratio": ratio, "dept": sd, "approve": sa, "errors": errors}


if __name__ == "__main__":
    main()
