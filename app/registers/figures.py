"""Loan figures the registers and dashboards show, each read in ONE place so that it can be switched.

A loan's outstanding principal and five-tier classification are the columns of the ``loans`` row:
set at approval, then kept equal to the loan's latest reported month by the monthly loan book
(``app/loanbook/operations.py`` copies each stored month's row onto the loan) or changed by an
overdue report.  :func:`npl_by_bank` follows :func:`app.fund.thresholds.bank_npl`, the rule the
suspension uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.core.db import db
from app.fund import thresholds
from app.loanbook import operations as book
from app.loans.models import Loan

ZERO = Decimal("0.00")


def outstanding():
    """SQL expression: a loan's current outstanding principal (selectable, sortable, summable)."""
    return Loan.outstanding_principal


def classification():
    """SQL expression: a loan's current five-tier classification."""
    return Loan.classification


def outstanding_of(loan: Loan):
    return loan.outstanding_principal


def classification_of(loan: Loan) -> str:
    return loan.classification


def npl_by_bank(scheme) -> list[tuple]:
    """[(bank organisation, BankNpl)] for the scheme's member banks, now: the suspension rule's own figures."""
    return [(m.organisation, thresholds.bank_npl(scheme.id, m.organisation_id))
            for m in scheme.members if m.role == "bank"]


@dataclass(frozen=True)
class PositionAsOf:
    """A scheme loan's position at the end of a month (what the performance evaluation sums)."""
    loan_id: int
    bank_id: int
    enterprise_id: int
    outstanding: Decimal
    classification: str
    source: str            # "current" (the loan row), "book" (its book row) or "approved" (never reported by then)


def positions_as_of(scheme_id: int, month: str) -> list[PositionAsOf]:
    """Each eligible scheme loan disbursed by the end of ``month`` with its balance then.

    The current month or later: the loan row's current position (what the thresholds read), for
    the statuses that carry a balance (:data:`app.fund.thresholds.VOLUME_STATUSES`).  An earlier
    month: the loan book's row of that month or the latest before (:func:`app.loanbook.operations.as_of`),
    zero once the row says repaid or written off; a loan with no row by then counts at its approved
    amount, classified normal (the loan book's rule: a loan never reported keeps its approved amount).
    """
    loans = list(db.session.scalars(select(Loan).where(
        Loan.scheme_id == scheme_id, Loan.eligible.is_(True), Loan.disbursed_on <= book.month_end(month))))
    out = []
    if month >= book.current_month():
        for l in loans:
            live = l.status in thresholds.VOLUME_STATUSES
            out.append(PositionAsOf(l.id, l.bank_id, l.enterprise_id,
                                    Decimal(l.outstanding_principal) if live else ZERO, l.classification, "current"))
        return out
    rows = book.as_of(month, scheme_id=scheme_id)
    for l in loans:
        r = rows.get(l.id)
        if r is None:
            out.append(PositionAsOf(l.id, l.bank_id, l.enterprise_id, Decimal(l.amount), "normal", "approved"))
        else:
            out.append(PositionAsOf(l.id, l.bank_id, l.enterprise_id,
                                    Decimal(r.outstanding_principal) if r.live else ZERO, r.classification, "book"))
    return out
