"""The helpers every diagram may call: dates in Chinese working days, money to the fen.

Registered with :func:`app.workflow.sandbox.helper` when ``app.workflow`` is imported, so gateway
conditions, script tasks and task properties can use them by name::

    due = iso_date(add_working_days(received_on, 5))
    late = date_of(filed_on) > date_of(due_on)
    share = round_fen(amount * Decimal('0.4'), 'down')

Dates are accepted as ``date``, ``datetime`` (taken in Asia/Shanghai) or ISO text
(``'2025-01-31'``, ``'2025-01-31T09:30:00+08:00'``); task data keeps ISO text, so
:func:`iso_date` turns a result back into text before it is stored.  Money goes through
:mod:`app.core.money` (Decimal, never float; a named rounding rule).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, DecimalException

from app.core import money
from app.core.timeutil import SHANGHAI, today as shanghai_today
from app.core.workdays import calendar
from app.workflow.sandbox import DiagramExpressionError, helper

MAX_DAYS = 36_600           # a century: enough for any term, small enough to stay cheap
MAX_WORKING_DAYS = 1_000    # about four years of working days


def _day(value, what: str = "date") -> date:
    if type(value) is date:
        return value
    if type(value) is datetime:
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if type(value) is str and 10 <= len(value) <= 40:
        try:
            return date.fromisoformat(value) if len(value) == 10 else _day(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise DiagramExpressionError(
        f"{what} must be a date or ISO date text such as '2025-01-31', not {str(value)[:60]!r}")


def _count(n, limit: int, what: str) -> int:
    if type(n) is not int or abs(n) > limit:
        raise DiagramExpressionError(f"{what} must be a whole number of at most {limit}, not {str(n)[:60]!r}")
    return n


@helper("date_of")
def date_of(value) -> date:
    """The date of ``value`` (a date, a datetime in Shanghai time, or ISO text)."""
    return _day(value)


@helper("iso_date")
def iso_date(value) -> str:
    """``'YYYY-MM-DD'``: the form in which a date is stored in task data."""
    return _day(value).isoformat()


@helper("today")
def today() -> date:
    """Today in Asia/Shanghai."""
    return shanghai_today()


@helper("add_days")
def add_days(day, n) -> date:
    """``day`` plus ``n`` calendar days (``n`` may be negative)."""
    try:
        return _day(day) + timedelta(days=_count(n, MAX_DAYS, "the number of days"))
    except OverflowError:
        raise DiagramExpressionError(f"add_days({day!r}, {n}) leaves the calendar") from None


@helper("days_between")
def days_between(start, end) -> int:
    """Calendar days from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return (_day(end, "end") - _day(start, "start")).days


@helper("add_working_days")
def add_working_days(day, n) -> date:
    """The ``n``-th Chinese working day after ``day`` (statutory holidays off, 调休 days on)."""
    n = _count(n, MAX_WORKING_DAYS, "the number of working days")
    if n < 0:
        raise DiagramExpressionError(f"add_working_days counts forward only, not {n}")
    return calendar().add_working_days(_day(day), n)


@helper("working_days_between")
def working_days_between(start, end) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    a, b = _day(start, "start"), _day(end, "end")
    _count((b - a).days, MAX_DAYS, "the span in days")
    return calendar().working_days_between(a, b)


@helper("is_working_day")
def is_working_day(day) -> bool:
    return calendar().is_working_day(_day(day))


@helper("round_fen")
def round_fen(value, rule: str = "half_up") -> Decimal:
    """``value`` rounded to the fen (0.01 yuan) by a named rule: ``half_up``, ``down``, ``half_even``."""
    if rule not in money.ROUNDING_RULES:
        raise DiagramExpressionError(
            f"unknown rounding rule {str(rule)[:40]!r}; use one of {', '.join(sorted(money.ROUNDING_RULES))}")
    try:
        return money.round_fen(value, rule)
    except (money.MoneyError, DecimalException) as exc:
        raise DiagramExpressionError(f"round_fen cannot round {str(value)[:60]!r}: {exc}") from None


@helper("yuan")
def yuan(value) -> Decimal:
    """An exact amount in yuan (refuses floats and more than two decimal places)."""
    try:
        return money.yuan(value)
    except (money.MoneyError, DecimalException) as exc:
        raise DiagramExpressionError(f"not an amount in yuan: {str(value)[:60]!r} ({exc})") from None
