"""Task-list latency: the queue page's queries at 100,000 and 1,000,000 open instances over 38 schemes.

    .venv/bin/python -m bench.task_queue --db postgresql://postgres@127.0.0.1:5432/test

One province's districts on one deployment: ``--districts`` (default 38) schemes, each with its own 4
departments, 10 banks and 3 filing units (1,026 organisations).  Runs what ``/tasks/`` runs —
``app.tasks.queries.open_tasks`` (``open_tasks_query`` with the page's limit of 200, rows loaded as
ORM objects), ``counts`` and ``overdue_count`` — for banks and departments picked at random, and the
whole page (``GET /tasks/`` rendered, through Flask's test client) for one department and one bank.
The tables are filled with set-based ``INSERT … SELECT`` on the server (no rows travel from Python):
every open instance has one open task (40 % department review, 45 % bank due diligence, 15 % filing)
plus the completed tasks before it, and as many finished instances again (3 completed tasks each) so
``status`` is as selective as in a live system; for the fill from the first to the second scale the
secondary indexes are dropped and rebuilt afterwards (as a bulk load would), then ``ANALYZE``.
Prints median and p95 and ``EXPLAIN (ANALYZE, BUFFERS)`` for each scale; everything lives in a schema
that is dropped at the end.
"""
from __future__ import annotations

import random
import time

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bench._common import bench_app, fmt, header, parser, stats_ms, timed

DEPTS_PER, BANKS_PER, UNITS_PER = 4, 10, 3     # per district
REPEAT = 300
PASSWORD = "bench-pass-123"


def _orgs(districts: int):
    from app.accounts.models import Organisation
    from app.core.db import db
    make = lambda kind, d, i: Organisation(kind=kind, name=f"{kind}{d}-{i}", code=f"bench-{kind}-{d}-{i}")  # noqa: E731
    banks = [make("bank", d, i) for d in range(districts) for i in range(BANKS_PER)]
    depts = [make("department", d, i) for d in range(districts) for i in range(DEPTS_PER)]
    units = [make("finance_bureau", d, i) for d in range(districts) for i in range(UNITS_PER)]
    db.session.add_all(banks + depts + units)
    db.session.commit()
    return [o.id for o in banks], [o.id for o in depts], [o.id for o in units]


# One statement per table, all set-based.  ``g`` numbers instances; stage = g % 20 decides where the
# open task sits, (g / 20) picks the organisation.  Arrays of org ids are passed as parameters.
_INSTANCES = """
INSERT INTO process_instances (spec_id, process_id, subject_type, subject_id, state, version, completed,
                               created_at, updated_at)
SELECT :spec, 'loan_application', 'loan_application', g, '{}', 1, :completed,
       now() - (random() * interval '60 days'), now()
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS g
"""

_TASK_COLS = """(instance_id, task_uuid, bpmn_id, name, lane, org_kind, org_id, form_key, subject_type,
                 subject_id, title, status, created_at, due_at, overdue, completed_at)"""

_ORG = "(CAST(:{0} AS integer[]))[1 + (p.subject_id / 20) % cardinality(CAST(:{0} AS integer[]))]"

_OPEN_TASKS = f"""
INSERT INTO human_tasks {_TASK_COLS}
SELECT p.id, gen_random_uuid()::text, s.bpmn_id, s.bpmn_id, NULL, s.kind, s.org, s.bpmn_id, 'loan_application',
       p.subject_id, 'ZX-' || p.subject_id || ' · 企业 · 1,000,000 元', 'open', p.created_at,
       CASE WHEN p.subject_id % 20 = 0 THEN NULL ELSE p.created_at + (1 + p.subject_id % 15) * interval '1 day' END,
       p.subject_id % 50 = 0, NULL
FROM process_instances p
CROSS JOIN LATERAL (
  SELECT CASE WHEN p.subject_id % 20 < 8 THEN 'department_review'
              WHEN p.subject_id % 20 < 17 THEN 'bank_due_diligence' ELSE 'filing_ack' END AS bpmn_id,
         CASE WHEN p.subject_id % 20 < 8 THEN 'department'
              WHEN p.subject_id % 20 < 17 THEN 'bank' ELSE 'finance_bureau' END AS kind,
         CASE WHEN p.subject_id % 20 < 8 THEN {_ORG.format("depts")}
              WHEN p.subject_id % 20 < 17 THEN {_ORG.format("banks")}
              ELSE {_ORG.format("units")} END AS org
) s
WHERE p.subject_id BETWEEN CAST(:lo AS integer) AND CAST(:hi AS integer) AND NOT p.completed
"""

# completed tasks before the open one (open instances) or all three (finished instances)
_DONE_TASKS = f"""
INSERT INTO human_tasks {_TASK_COLS}
SELECT p.id, gen_random_uuid()::text, s.bpmn_id, s.bpmn_id, NULL, s.kind, s.org, s.bpmn_id, 'loan_application',
       p.subject_id, 'ZX-' || p.subject_id, 'completed', p.created_at, p.created_at + interval '10 days', false,
       p.created_at + interval '1 day'
FROM process_instances p
CROSS JOIN LATERAL (VALUES
   (0, 'department_review', 'department', {_ORG.format("depts")}),
   (1, 'bank_due_diligence', 'bank', {_ORG.format("banks")}),
   (2, 'filing_ack', 'finance_bureau', {_ORG.format("units")})
) AS s(step, bpmn_id, kind, org)
WHERE p.subject_id BETWEEN CAST(:lo AS integer) AND CAST(:hi AS integer)
  AND (p.completed OR (p.subject_id % 20 >= 8 AND s.step = 0) OR (p.subject_id % 20 >= 17 AND s.step = 1))
"""

_TABLES = ("process_instances", "human_tasks")


def fill(spec_id: int, banks, depts, units, lo: int, hi: int, rebuild_indexes: bool) -> None:
    """Open instances lo..hi and as many finished ones (subject ids offset by 10**8)."""
    from app.core.db import db
    p = {"spec": spec_id, "banks": banks, "depts": depts, "units": units}
    t0 = time.perf_counter()
    dropped = []
    if rebuild_indexes:   # a bulk load: drop the secondary indexes, build them once afterwards
        dropped = db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(:t) AND indexname NOT IN (SELECT conname FROM pg_constraint)"),
            {"t": list(_TABLES)}).all()
        for name, _ in dropped:
            db.session.execute(text(f'DROP INDEX "{name}"'))
    for completed, off in ((False, 0), (True, 100_000_000)):
        rng = {"lo": lo + off, "hi": hi + off, "completed": completed}
        db.session.execute(text(_INSTANCES), {**p, **rng})
        db.session.execute(text(_OPEN_TASKS), {**p, **rng})
        db.session.execute(text(_DONE_TASKS), {**p, **rng})
    t1 = time.perf_counter()
    if dropped:
        db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _, ddl in dropped:
            db.session.execute(text(ddl))
    db.session.commit()
    t2 = time.perf_counter()
    # production tables are analysed (and vacuumed: the visibility map lets index-only scans skip the
    # heap) by autovacuum; do it now rather than wait for it
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        for t in _TABLES:
            c.execute(text(f"VACUUM ANALYZE {t}"))
    print(f"  filled {hi - lo + 1:,} open + {hi - lo + 1:,} finished instances: insert {t1 - t0:.0f} s, "
          f"index build {t2 - t1:.0f} s, vacuum analyze {time.perf_counter() - t2:.0f} s")


def explain(q) -> str:
    from app.core.db import db
    sql = str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    rows = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
    db.session.rollback()
    return "\n".join("    " + r for r in rows)


def measure(label: str, org_ids: list[int], query, repeat: int) -> dict:
    """``query(org_id)`` for organisations picked at random; each call is one transaction (one request)."""
    from app.core.db import db
    rnd = random.Random(7)

    def once():
        query(rnd.choice(org_ids))
        db.session.rollback()   # one request = one transaction; also empties the identity map

    timed(once, min(30, repeat))  # warm-up
    st = stats_ms(timed(once, repeat))
    print(f"  {label:<44} {fmt(st)}")
    return st


def _queries():
    from app.core.db import db
    from app.tasks import queries
    from app.workflow.models import HumanTask

    def listed(org, sort="due"):
        queries.open_tasks(org, sort=sort)

    def plain(org):
        db.session.execute(queries.open_tasks_query(org).limit(200).with_only_columns(*HumanTask.__table__.c)).all()

    def page(org):   # everything the queue view asks the database for
        listed(org)
        queries.counts(org)
        queries.overdue_count(org)
    return listed, plain, page


def _fresh_g() -> None:
    """The bench holds an app context, which Flask reuses for test-client requests: per-request state
    in ``g`` (the logged-in user) must not carry over from one client to the next."""
    from flask import g
    g.__dict__.clear()


class PageClient:
    """A logged-in test client for one user: ``GET /tasks/`` rendered, as the browser gets it."""

    def __init__(self, app, org_id: int, name: str):
        import re

        from app.accounts.models import Organisation
        from app.accounts.operations import create_user
        from app.core.db import db
        user = create_user(db.session.get(Organisation, org_id), name, name, PASSWORD)
        db.session.commit()
        self.c = app.test_client()
        _fresh_g()
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', self.c.get("/login").data)
        r = self.c.post("/login", data={"username": user.username, "password": PASSWORD,
                                        "csrf_token": token.group(1).decode()})
        assert r.status_code == 302, "login failed"

    def get(self, _org=None):
        _fresh_g()
        r = self.c.get("/tasks/")
        assert r.status_code == 200 and r.data.count(b"<tr") > 1


def main(argv=None) -> dict:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--scales", default="100000,1000000", help="open instances, ascending (default 100000,1000000)")
    p.add_argument("--districts", type=int, default=38, help="schemes (districts), each with its own organisations")
    p.add_argument("--repeat", type=int, default=REPEAT, help="timed queries per line")
    args = p.parse_args(argv)
    scales = [int(x) for x in args.scales.split(",")]
    from sqlalchemy import func, select

    from app.core.db import db
    from app.tasks.queries import open_tasks_query
    from app.workflow.engine import latest_spec
    from app.workflow.models import HumanTask

    results: dict = {}
    with bench_app(args.db) as (app, schema):
        header(f"Task-list latency (the /tasks/ page), {args.districts} schemes", app)
        with app.app_context():
            spec_id = latest_spec("loan_application").id
            banks, depts, units = _orgs(args.districts)
            print(f"organisations: {len(depts)} departments, {len(banks)} banks, {len(units)} filing units")
            listed, plain, page = _queries()
            pages = {"dept": PageClient(app, depts[0], f"dept_{schema[-6:]}"),
                     "bank": PageClient(app, banks[0], f"bank_{schema[-6:]}")}
            done = 0
            for i, n in enumerate(scales):
                print(f"\n## {n:,} open instances")
                fill(spec_id, banks, depts, units, done + 1, n, rebuild_indexes=i > 0)
                done = n
                total = db.session.scalar(select(func.count()).select_from(HumanTask))
                open_n = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "open"))
                per_dept = db.session.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.org_id == depts[0], HumanTask.status == "open"))
                per_bank = db.session.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.org_id == banks[0], HumanTask.status == "open"))
                db.session.rollback()
                print(f"  {total:,} human_tasks rows, {open_n:,} open; {per_dept:,} open per department, "
                      f"{per_bank:,} per bank")
                r = args.repeat
                results[n] = {
                    "bank": measure("bank officer: open_tasks (sort=due)", banks, listed, r),
                    "dept": measure("department: open_tasks (sort=due)", depts, listed, r),
                    "dept_age": measure("department: open_tasks (sort=age)", depts, lambda o: listed(o, "age"), r),
                    "dept_sql": measure("department: same SQL, no ORM objects", depts, plain, r),
                    "dept_page_q": measure("department: all the page's queries", depts, page, r),
                    "bank_page_q": measure("bank: all the page's queries", banks, page, r),
                    "dept_page": measure("department: GET /tasks/ rendered (test client)", depts,
                                         pages["dept"].get, max(10, r // 3)),
                    "bank_page": measure("bank: GET /tasks/ rendered (test client)", banks,
                                         pages["bank"].get, max(10, r // 3)),
                }
                for label, org in (("bank", banks[0]), ("department", depts[0])):
                    print(f"\n  EXPLAIN (ANALYZE, BUFFERS) — {label}, sort=due, limit 200:")
                    print(explain(open_tasks_query(org).limit(200)))
                print("\n  EXPLAIN (ANALYZE, BUFFERS) — department, sort=age, limit 200:")
                print(explain(open_tasks_query(depts[0], sort="age").limit(200)))
                print("\n  EXPLAIN (ANALYZE, BUFFERS) — department, counts by form:")
                print(explain(_counts_query(depts[0])))
            if len(scales) > 1:
                lo, hi = scales[0], scales[-1]
                print(f"\n## growth {lo:,} → {hi:,} open instances (p95)")
                for k in results[lo]:
                    print(f"  {k:<12} {results[lo][k]['p95']:7.2f} ms → {results[hi][k]['p95']:7.2f} ms "
                          f"(× {results[hi][k]['p95'] / results[lo][k]['p95']:.2f})")
        print(f"\nschema {schema} dropped")
    return results


def _counts_query(org_id: int):
    from sqlalchemy import func, select

    from app.workflow.models import HumanTask
    return select(HumanTask.form_key, func.count()).where(
        HumanTask.org_id == org_id, HumanTask.status == "open").group_by(HumanTask.form_key)


if __name__ == "__main__":
    main()
