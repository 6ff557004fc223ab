"""Reference numbers come from a counter row: distinct under concurrent transactions, per kind and day."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from app.core.db import db
from app.core.sequences import next_value, reference_no

ROOT = Path(__file__).resolve().parents[2]


def test_numbers_count_up_per_kind_and_day(ctx):
    day = date(2001, 2, 3)           # a day no other test numbers
    assert reference_no("ZX", day) == "ZX-20010203-0001"
    assert reference_no("ZX", day) == "ZX-20010203-0002"
    assert reference_no("DK", day) == "DK-20010203-0001"
    assert reference_no("ZX", date(2001, 2, 4)) == "ZX-20010204-0001"
    db.session.rollback()            # a rolled-back transaction gives its numbers back
    assert reference_no("ZX", day) == "ZX-20010203-0001"
    db.session.rollback()


def test_concurrent_transactions_get_distinct_numbers(app):
    got, errors = [], []
    start = threading.Barrier(12)

    def worker():
        try:
            with app.app_context():
                start.wait(timeout=30)
                for _ in range(5):
                    got.append(next_value("TT", "20010301"))
                    db.session.commit()
                db.session.remove()
        except Exception as exc:       # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(got) == list(range(1, 61))


def test_migration_continues_after_the_numbers_already_given(tmp_path):
    """Upgrading mid-day: the counter starts after that day's highest number, not at 1."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "h4a1", ROOT / "migrations" / "versions" / "0004_reference_counters.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as c:
        for table in ("loan_applications", "loans", "compensation_claims"):
            c.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, no VARCHAR(40))"))
        c.execute(text("INSERT INTO loan_applications (no) VALUES ('ZX-20260601-0001'), ('ZX-20260601-0012'),"
                       " ('ZX-20260602-0003')"))
        c.execute(text("INSERT INTO loans (no) VALUES ('DK-20260601-0002'), ('DK-T-odd')"))
        with Operations.context(MigrationContext.configure(c)):
            mod.upgrade()
        rows = c.execute(text("SELECT kind, period, value FROM reference_counters ORDER BY kind, period")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("DK", "20260601", 2), ("ZX", "20260601", 12), ("ZX", "20260602", 3)]
