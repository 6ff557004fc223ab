"""Reading the fund ledger: a scheme's account row, its balance, totals and entries, and the fund's error.

Kept apart from posting (:mod:`app.fund.operations`, which re-exports these names) so that
:mod:`app.fund.thresholds` can read the ledger while posting runs the threshold checks, without
an import circle.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from app.core.db import db
from app.core.errors import DomainError
from app.core.money import FEN
from app.core.timeutil import now
from app.fund.models import INFLOW, KINDS, FundAccount, FundEntry


class FundError(DomainError):
    """A posting was refused; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def account(scheme_id: int, *, lock: bool = False) -> FundAccount:
    """The scheme's fund account, created on first use; ``lock=True`` takes the per-fund lock."""
    q = select(FundAccount).where(FundAccount.scheme_id == scheme_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    acct = db.session.scalar(q)
    if acct is None:
        try:
            with db.session.begin_nested():
                db.session.add(FundAccount(scheme_id=scheme_id, created_at=now()))
        except IntegrityError:
            pass   # created by a concurrent transaction; select it below
        acct = db.session.scalar(q)
    return acct


def find(key: str) -> FundEntry | None:
    return db.session.scalar(select(FundEntry).where(FundEntry.key == key))


def _sum(q) -> Decimal:
    v = db.session.scalar(q)
    return Decimal(str(v or 0)).quantize(FEN)


def balance(scheme_id: int) -> Decimal:
    signed = case((FundEntry.direction == INFLOW, FundEntry.amount), else_=-FundEntry.amount)
    return _sum(select(func.coalesce(func.sum(signed), 0)).where(FundEntry.scheme_id == scheme_id))


def totals(scheme_id: int) -> dict[str, Decimal]:
    """Sum per kind (adjustments net: in minus out).  Every kind is present, zero if none."""
    out = {k: Decimal("0.00") for k in KINDS}
    signed = case((FundEntry.direction == INFLOW, FundEntry.amount), else_=-FundEntry.amount)
    rows = db.session.execute(select(FundEntry.kind, func.sum(FundEntry.amount), func.sum(signed))
                              .where(FundEntry.scheme_id == scheme_id).group_by(FundEntry.kind))
    for kind, gross, net in rows:
        out[kind] = Decimal(str((net if kind == "adjustment" else gross) or 0)).quantize(FEN)
    return out


def net_payouts(scheme_id: int) -> Decimal:
    """Advances + payouts − recovery returns: what the fund has paid out for losses, net."""
    t = totals(scheme_id)
    return t["advance"] + t["payout"] - t["recovery_return"]


def _entries_query(scheme_id: int, kind: str | None, date_from: date | None, date_to: date | None):
    q = select(FundEntry).where(FundEntry.scheme_id == scheme_id)
    if kind:
        q = q.where(FundEntry.kind == kind)
    if date_from:
        q = q.where(FundEntry.booked_on >= date_from)
    if date_to:
        q = q.where(FundEntry.booked_on <= date_to)
    return q


def entries(scheme_id: int, *, kind: str | None = None, date_from: date | None = None,
            date_to: date | None = None, limit: int | None = None, offset: int = 0) -> list[FundEntry]:
    q = _entries_query(scheme_id, kind, date_from, date_to).order_by(FundEntry.id.desc())
    if limit:
        q = q.limit(limit).offset(offset)
    return list(db.session.scalars(q))


def count_entries(scheme_id: int, *, kind: str | None = None, date_from: date | None = None,
                  date_to: date | None = None) -> int:
    q = _entries_query(scheme_id, kind, date_from, date_to)
    return db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
