"""Reference numbers (``ZX-20260601-0007``) from a counter row, race-free on SQLite and PostgreSQL.

Counting the rows that already carry today's prefix (``count + 1``) gives two concurrent
transactions the same number; one of them then fails on the unique index.  Here each (kind, period)
has one counter row, incremented by a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the
database serialises the increments on that row (PostgreSQL locks it until the caller's transaction
ends; SQLite writes are serialised anyway by ``BEGIN IMMEDIATE``), so every caller gets a distinct
value.  The increment belongs to the caller's transaction: a rolled-back request gives its number
back.  Numbers are unique; gaps are tolerated (a number whose row is later removed is not reused).
The lock is held only until the caller commits, and only callers of the same kind and day wait.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import db
from app.core.timeutil import today


class ReferenceCounter(db.Model):
    """The last number given out for one kind of reference (``ZX``, ``DK``, ``BC``) and one period."""
    __tablename__ = "reference_counters"
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)     # YYYYMMDD of the number
    value: Mapped[int] = mapped_column(Integer, default=0)


def next_value(kind: str, period: str) -> int:
    """Atomically take the next value of the counter (kind, period), creating it at 1."""
    table = ReferenceCounter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(kind=kind, period=period, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.kind, table.c.period],
                                      set_={"value": table.c.value + 1}).returning(table.c.value)
    return db.session.execute(stmt).scalar_one()


def reference_no(kind: str, day: date | None = None) -> str:
    """The next reference number of a kind for a day (Asia/Shanghai today by default)."""
    stamp = (day or today()).strftime("%Y%m%d")
    return f"{kind}-{stamp}-{next_value(kind, stamp):04d}"
