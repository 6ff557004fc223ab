"""Task-list latency: the open-task query of the queue page at 10,000 and 100,000 open instances.

    .venv/bin/python -m bench.task_queue --db postgresql://postgres@127.0.0.1:5432/test

Runs ``app.tasks_ui.queries.open_tasks`` (``open_tasks_query`` with the page's limit of 200, rows
loaded as ORM objects exactly as the page does) for a bank and for a department.  The tables are
filled with set-based INSERT … SELECT rather than by running workflows: 20 banks, 4 departments and
3 filing units; every open instance has one open task (40 % department review, 45 % bank due
diligence, 15 % filing) plus the completed tasks before it, and as many finished instances again
(3 completed tasks each) so ``status`` is as selective as in a live system.  Prints median and p95
and ``EXPLAIN (ANALYZE, BUFFERS)`` for each scale; everything lives in a schema that is dropped at
the end.
"""
from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bench._common import bench_app, fmt, header, parser, stats_ms, timed

N_BANKS, N_DEPTS, N_UNITS = 20, 4, 3
SCALES = (10_000, 100_000)
REPEAT = 300


def _orgs():
    from app.accounts.models import Organisation
    from app.core.db import db
    make = lambda kind, i: Organisation(kind=kind, name=f"{kind}{i}", code=f"bench-{kind}-{i}")  # noqa: E731
    banks = [make("bank", i) for i in range(N_BANKS)]
    depts = [make("department", i) for i in range(N_DEPTS)]
    units = [make("finance_bureau", i) for i in range(N_UNITS)]
    db.session.add_all(banks + depts + units)
    db.session.commit()
    return [o.id for o in banks], [o.id for o in depts], [o.id for o in units]


# One statement per table, all set-based.  ``g`` numbers instances; stage = g % 20 decides where the
# open task sits.  Arrays of org ids are passed as parameters.
_INSTANCES = """
INSERT INTO process_instances (spec_id, process_id, subject_type, subject_id, state, version, completed,
                               created_at, updated_at)
SELECT :spec, 'loan_application', 'loan_application', g, '{}', 1, :completed,
       now() - (random() * interval '60 days'), now()
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS g
"""

_TASK_COLS = """(instance_id, task_uuid, bpmn_id, name, lane, org_kind, org_id, form_key, subject_type,
                 subject_id, title, status, created_at, due_at, overdue, completed_at)"""

_OPEN_TASKS = f"""
INSERT INTO human_tasks {_TASK_COLS}
SELECT p.id, gen_random_uuid()::text, s.bpmn_id, s.bpmn_id, NULL, s.kind, s.org, s.bpmn_id, 'loan_application',
       p.subject_id, 'ZX-' || p.subject_id || ' · 企业 · 1,000,000 元', 'open', p.created_at,
       CASE WHEN p.subject_id % 20 = 0 THEN NULL ELSE p.created_at + (1 + p.subject_id % 15) * interval '1 day' END,
       false, NULL
FROM process_instances p
CROSS JOIN LATERAL (
  SELECT CASE WHEN p.subject_id % 20 < 8 THEN 'department_review'
              WHEN p.subject_id % 20 < 17 THEN 'bank_due_diligence' ELSE 'filing_ack' END AS bpmn_id,
         CASE WHEN p.subject_id % 20 < 8 THEN 'department'
              WHEN p.subject_id % 20 < 17 THEN 'bank' ELSE 'finance_bureau' END AS kind,
         CASE WHEN p.subject_id % 20 < 8 THEN (CAST(:depts AS integer[]))[1 + (p.subject_id / 20) % {N_DEPTS}]
              WHEN p.subject_id % 20 < 17 THEN (CAST(:banks AS integer[]))[1 + (p.subject_id / 20) % {N_BANKS}]
              ELSE (CAST(:units AS integer[]))[1 + (p.subject_id / 20) % {N_UNITS}] END AS org
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
   (0, 'department_review', 'department', (CAST(:depts AS integer[]))[1 + (p.subject_id / 20) % {N_DEPTS}]),
   (1, 'bank_due_diligence', 'bank', (CAST(:banks AS integer[]))[1 + (p.subject_id / 20) % {N_BANKS}]),
   (2, 'filing_ack', 'finance_bureau', (CAST(:units AS integer[]))[1 + (p.subject_id / 20) % {N_UNITS}])
) AS s(step, bpmn_id, kind, org)
WHERE p.subject_id BETWEEN CAST(:lo AS integer) AND CAST(:hi AS integer)
  AND (p.completed OR (p.subject_id % 20 >= 8 AND s.step = 0) OR (p.subject_id % 20 >= 17 AND s.step = 1))
"""


def fill(spec_id: int, banks, depts, units, lo: int, hi: int) -> None:
    """Open instances lo..hi and as many finished ones (subject ids offset by 10**7)."""
    from app.core.db import db
    p = {"spec": spec_id, "banks": banks, "depts": depts, "units": units}
    for completed, off in ((False, 0), (True, 10_000_000)):
        rng = {"lo": lo + off, "hi": hi + off, "completed": completed}
        db.session.execute(text(_INSTANCES), {**p, **rng})
        db.session.execute(text(_OPEN_TASKS), {**p, **rng})
        db.session.execute(text(_DONE_TASKS), {**p, **rng})
    db.session.commit()
    # production tables are analysed by autovacuum; do it now rather than wait for it
    db.session.execute(text("ANALYZE process_instances"))
    db.session.execute(text("ANALYZE human_tasks"))
    db.session.commit()


def explain(q) -> str:
    from app.core.db import db
    sql = str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    rows = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
    db.session.rollback()
    return "\n".join("    " + r for r in rows)


def measure(label: str, org_ids: list[int], sort: str = "due", orm: bool = True) -> dict:
    """``orm``: ``open_tasks`` as the page calls it; else the same SQL returning plain rows."""
    from app.core.db import db
    from app.tasks_ui.queries import open_tasks, open_tasks_query
    from app.workflow.models import HumanTask

    rnd = random.Random(7)

    def once():
        org = rnd.choice(org_ids)
        if orm:
            rows = open_tasks(org, sort=sort)
        else:
            rows = db.session.execute(open_tasks_query(org, sort=sort).limit(200)
                                      .with_only_columns(*HumanTask.__table__.c)).all()
        assert rows, "queue unexpectedly empty"
        db.session.rollback()   # one request = one transaction; also empties the identity map

    timed(once, 30)  # warm-up
    st = stats_ms(timed(once, REPEAT))
    print(f"  {label:<34} {fmt(st)}")
    return st


def main(argv=None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from app.core.db import db
    from app.tasks_ui.queries import open_tasks_query
    from app.workflow.engine import latest_spec
    from app.workflow.models import HumanTask
    from sqlalchemy import func, select

    with bench_app(args.db) as (app, schema):
        header("Task-list latency (open_tasks, limit 200)", app)
        with app.app_context():
            spec_id = latest_spec("loan_application").id
            banks, depts, units = _orgs()
            done = 0
            results = {}
            for n in SCALES:
                fill(spec_id, banks, depts, units, done + 1, n)
                done = n
                total = db.session.scalar(select(func.count()).select_from(HumanTask))
                open_n = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "open"))
                per_dept = db.session.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.org_id == depts[0], HumanTask.status == "open"))
                per_bank = db.session.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.org_id == banks[0], HumanTask.status == "open"))
                db.session.rollback()
                print(f"\n## {n:,} open instances ({total:,} human_tasks rows, {open_n:,} open; "
                      f"{per_dept:,} open per department, {per_bank:,} per bank)")
                results[n] = {
                    "bank": measure("bank officer (sort=due)", banks),
                    "dept": measure("department (sort=due)", depts),
                    "dept_age": measure("department (sort=age)", depts, "age"),
                    "dept_sql": measure("department, same SQL, no ORM", depts, orm=False),
                }
                for label, org in (("bank", banks[0]), ("department", depts[0])):
                    print(f"\n  EXPLAIN (ANALYZE, BUFFERS) — {label}, sort=due, limit 200:")
                    print(explain(open_tasks_query(org).limit(200)))
                print("\n  EXPLAIN (ANALYZE, BUFFERS) — department, sort=age, limit 200:")
                print(explain(open_tasks_query(depts[0], sort="age").limit(200)))
            lo, hi = SCALES
            print("\n## growth 10k → 100k (p95)")
            for k in ("bank", "dept", "dept_age", "dept_sql"):
                print(f"  {k:<9} {results[lo][k]['p95']:.2f} ms → {results[hi][k]['p95']:.2f} ms "
                      f"(× {results[hi][k]['p95'] / results[lo][k]['p95']:.2f})")
        print(f"\nschema {schema} dropped")


if __name__ == "__main__":
    main()
