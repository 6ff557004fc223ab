"""Cost of one human-task step through the service layer, against bare SpiffWorkflow, and throughput.

    .venv/bin/python -m bench.step_cost --db postgresql://postgres@127.0.0.1:5432/test

Measured on PostgreSQL in a fresh schema (dropped at the end), all in one run:

* **service** – ``app.applications.operations.department_review`` (lock the instance, re-check the
  task, update the application, ``audit.record``, ``engine.complete``: load → run → engine steps →
  persist state and human-task index) and the commit, on real ``loan_application`` instances
  started by ``submit_application``;
* **engine** – ``engine.complete`` + ``audit.record`` + commit on the same kind of instance
  (the adapter without the application rules);
* **baseline** – bare SpiffWorkflow 3.2 with its stock serializer: deserialize the stored JSON →
  complete the ``department_review`` task → engine steps → serialize → one ``UPDATE`` of a text
  row → commit.  (The one place outside ``app/workflow/engine.py`` that imports SpiffWorkflow: a
  baseline has to be the bare library.)
* **throughput** – steps per second with 1 and 2 worker processes, each with its own app and
  database session, completing ``department_review`` on disjoint instances.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from bench._common import bench_app, fmt, header, parser, stats_ms

N_STEPS = 200          # per measured variant
N_WORKER_STEPS = 100   # per worker in each throughput run (two rounds of 1 and 2 workers)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")


# ---------------------------------------------------------------------------- setup

def make_world():
    """One scheme (黔江 preset) with a firm, its department, two banks and the filing units."""
    from app.accounts.models import Organisation, Sector
    from app.accounts.operations import create_user
    from app.core.db import db
    from app.core.uscc import make
    from app.demo import ensure_scheme

    tag = uuid.uuid4().hex[:6].upper()

    def org(kind, name, **kw):
        o = Organisation(kind=kind, name=f"{name}{tag}", code=kw.pop("code", f"{kind}-{tag}"), **kw)
        db.session.add(o)
        db.session.flush()
        return o

    dept = org("department", "经信委")
    sector = Sector(code=f"ind-{tag}", name=f"工业{tag}", department_id=dept.id)
    db.session.add(sector)
    db.session.flush()
    banks = [org("bank", "银行甲", code=f"bank-{tag}-1"), org("bank", "银行乙", code=f"bank-{tag}-2")]
    units = {"finoffice": org("financial_office", "金融办"), "finance": org("finance_bureau", "财政局")}
    firm = org("enterprise", "企业", code=make("91500114MA00001F4"), sector_id=sector.id)
    scheme = ensure_scheme("qianjiang_2018", banks, units, code=f"qj-{tag}")
    users = {"firm": create_user(firm, f"firm_{tag}", "企业用户", "bench-pass-123"),
             "dept": create_user(dept, f"dept_{tag}", "部门用户", "bench-pass-123")}
    db.session.commit()
    return {"scheme": scheme.id, "sector": sector.id, "bank": banks[0].id,
            "firm_user": users["firm"].id, "dept_user": users["dept"].id}


def submit_many(w: dict, n: int) -> list[int]:
    """``n`` applications through ``submit_application``; returns their open department_review task ids."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.applications import operations as ops
    from app.core.db import db
    from app.core.timeutil import today
    from app.workflow.models import HumanTask

    user = db.session.get(User, w["firm_user"])
    ids = []
    for _ in range(n):
        written: list[str] = []
        a = ops.submit_application(user, ops.ApplicationInput(
            scheme_id=w["scheme"], sector_id=w["sector"], amount=Decimal("1000000.00"), term_months=12,
            purpose="采购原材料", activity="working_capital", repayment_plan="按月付息，到期还本",
            repayment_source="销售回款", preferred_bank_id=w["bank"], consent_bank_id=w["bank"],
            consent_valid_until=today() + timedelta(days=90), consent_purpose="贷前调查", credit_rating="A"),
            [("licence.pdf", PDF)], [("statements.png", PNG)], written)
        db.session.commit()
        ids.append(db.session.scalar(select(HumanTask.id).where(
            HumanTask.subject_id == a.id, HumanTask.form_key == "department_review", HumanTask.status == "open")))
    db.session.rollback()
    return ids


# ---------------------------------------------------------------------------- the three variants

def step_service(task_id: int, w: dict) -> None:
    from app.accounts.models import User
    from app.applications import operations as ops
    from app.core.db import db
    user = db.session.get(User, w["dept_user"])
    ops.department_review(task_id, user, "recommend", "经营正常，信用良好，符合产业方向", w["bank"])
    db.session.commit()


def step_engine(task_id: int, w: dict) -> None:
    from app.accounts.models import User
    from app.core import audit
    from app.core.db import db
    from app.workflow import engine
    from app.workflow.models import HumanTask
    user = db.session.get(User, w["dept_user"])
    ht = db.session.get(HumanTask, task_id)
    audit.record(ht.subject_type, ht.subject_id, "department_recommend", user, "经营正常")
    engine.complete(task_id, user, {"dept_decision": "recommend", "bank_org_id": w["bank"]})
    db.session.commit()


class Baseline:
    """Bare SpiffWorkflow: stock serializer (spec inside the blob), default script engine."""

    def __init__(self, app, n: int):
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
        from SpiffWorkflow.util.task import TaskState

        from app.core.db import db

        self.TaskState = TaskState
        parser_ = SpiffBpmnParser()
        parser_.add_bpmn_file(app.config["BPMN_DIR"] + "/loan_application.bpmn")
        spec, subs = parser_.get_spec("loan_application"), parser_.get_subprocess_specs("loan_application")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        data = {"title": "ZX-1", "application_id": 1, "enterprise_org_id": 1, "department_org_id": 2}
        db.session.execute(text("CREATE TABLE bench_state (id serial PRIMARY KEY, state text NOT NULL)"))
        self.ids = []
        for _ in range(n):
            wf = BpmnWorkflow(spec, subs)
            wf.data.update(data)
            for t in wf.get_tasks(state=TaskState.READY):
                t.data.update(data)
            wf.do_engine_steps()
            state = self.serializer.serialize_json(wf)
            self.ids.append(db.session.execute(text("INSERT INTO bench_state (state) VALUES (:s) RETURNING id"),
                                               {"s": state}).scalar())
        db.session.commit()
        self.blob_size = len(state)

    def step(self, row_id: int) -> None:
        from app.core.db import db
        state = db.session.execute(text("SELECT state FROM bench_state WHERE id = :i FOR UPDATE"),
                                   {"i": row_id}).scalar()
        wf = self.serializer.deserialize_json(state)
        task = wf.get_next_task(state=self.TaskState.READY, manual=True)
        assert task.task_spec.bpmn_id == "department_review"
        task.data.update({"dept_decision": "recommend", "bank_org_id": 3})
        task.run()
        wf.do_engine_steps()
        db.session.execute(text("UPDATE bench_state SET state = :s WHERE id = :i"),
                           {"s": self.serializer.serialize_json(wf), "i": row_id})
        db.session.commit()


def run_timed(fn, items, *args) -> list[float]:
    out = []
    for it in items:
        t0 = time.perf_counter()
        fn(it, *args)
        out.append(time.perf_counter() - t0)
    return out


# ---------------------------------------------------------------------------- throughput

def _worker(url: str, schema: str, pg_options: str, w: dict, task_ids: list[int], start, result_q) -> None:
    from app import create_app
    from app.core.db import db
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {
                          "options": f"-csearch_path={schema} {pg_options}".strip()}},
                      "CELERY_BROKER_URL": "memory://"})
    with app.app_context():
        step_service(task_ids[0], w)          # warm the process: imports, spec cache, connection
        start.wait()
        t0 = time.perf_counter()
        for tid in task_ids[1:]:
            step_service(tid, w)
        result_q.put((len(task_ids) - 1, time.perf_counter() - t0))
        db.session.remove()
        db.engine.dispose()


def throughput(url: str, schema: str, pg_options: str, w: dict, task_ids: list[int], workers: int) -> float:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(workers + 1)
    q = ctx.Queue()
    chunk = len(task_ids) // workers
    procs = [ctx.Process(target=_worker, args=(url, schema, pg_options, w, task_ids[i * chunk:(i + 1) * chunk], start, q))
             for i in range(workers)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [q.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
        assert p.exitcode == 0, "worker failed"
    steps = sum(n for n, _ in results)
    each = ", ".join(f"{n / t:.0f}" for n, t in results)
    print(f"  {workers} worker process{'es' if workers > 1 else ''}: {steps / wall:.0f} steps/s "
          f"(each: {each}; load average {os.getloadavg()[0]:.1f})")
    return steps / wall


# ---------------------------------------------------------------------------- main

def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--profile", action="store_true", help="also profile the service step with pyinstrument")
    p.add_argument("--async-commit", action="store_true",
                   help="synchronous_commit=off on the bench connections: leaves out the WAL fsync wait")
    args = p.parse_args(argv)
    pg_options = "-csynchronous_commit=off" if args.async_commit else ""
    from app.core.db import db

    with bench_app(args.db, pg_options=pg_options) as (app, schema):
        header("Step cost: one human-task step (department_review)", app)
        print(f"synchronous_commit: {'off (--async-commit)' if args.async_commit else 'on (server default)'}")
        with app.app_context():
            w = make_world()
            t0 = time.perf_counter()
            service_ids = submit_many(w, N_STEPS + 20)
            engine_ids = submit_many(w, N_STEPS + 20)
            worker_ids = submit_many(w, 6 * (N_WORKER_STEPS + 1) + 3)
            base = Baseline(app, N_STEPS + 20)
            print(f"setup: {len(service_ids) + len(engine_ids) + len(worker_ids)} applications submitted "
                  f"in {time.perf_counter() - t0:.1f} s")
            size = db.session.scalar(text("SELECT avg(length(state))::int FROM process_instances"))
            db.session.rollback()
            print(f"state blob: service/engine {size} chars (spec kept on process_specs); "
                  f"bare SpiffWorkflow {base.blob_size} chars (spec inside)")

            # warm-up, then the three variants in turn (service, engine, baseline, service, ...) so
            # that load from other processes on the machine falls on all three alike
            run_timed(step_service, service_ids[:20], w)
            run_timed(step_engine, engine_ids[:20], w)
            run_timed(base.step, base.ids[:20])
            t_service, t_engine, t_base = [], [], []
            for sid, eid, bid in zip(service_ids[20:], engine_ids[20:], base.ids[20:]):
                t_service += run_timed(step_service, [sid], w)
                t_engine += run_timed(step_engine, [eid], w)
                t_base += run_timed(base.step, [bid])
            s_service, s_engine, s_base = stats_ms(t_service), stats_ms(t_engine), stats_ms(t_base)
            print()
            print(f"  service (department_review + commit) {fmt(s_service)}")
            print(f"  engine.complete + audit + commit     {fmt(s_engine)}")
            print(f"  baseline: bare SpiffWorkflow + row   {fmt(s_base)}")
            print(f"  ratio service/baseline (median): {s_service['median'] / s_base['median']:.2f}×   "
                  f"engine/baseline: {s_engine['median'] / s_base['median']:.2f}×")
            done = db.session.scalar(text("SELECT count(*) FROM human_tasks WHERE bpmn_id = 'bank_due_diligence'"))
            db.session.rollback()
            assert done == 2 * N_STEPS + 40, done   # every measured step really advanced its instance

            if args.profile:
                from pyinstrument import Profiler
                prof = Profiler(interval=0.0005)
                extra = submit_many(w, 60)
                prof.start()
                run_timed(step_service, extra, w)
                prof.stop()
                print(prof.output_text(unicode=True, color=False, show_all=False))

        n = N_WORKER_STEPS + 1
        print("\nthroughput (department_review on different instances, each worker its own app and session):")
        pos = 0
        for workers in (1, 2, 1, 2):
            throughput(args.db, schema, pg_options, w, worker_ids[pos:pos + workers * n], workers)
            pos += workers * n
        with app.app_context():
            left = db.session.scalar(text("SELECT count(*) FROM human_tasks WHERE status = 'open' "
                                          "AND form_key = 'department_review'"))
            db.session.rollback()
        print(f"  department_review tasks left open: {left}")
    print(f"\nschema {schema} dropped")


if __name__ == "__main__":
    main()
