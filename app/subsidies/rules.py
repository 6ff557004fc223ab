"""The money rules of an interest subsidy, as pure functions (no database).

A programme's numbers come from the scheme's parameters (``SchemeParams.subsidy_programmes``);
:func:`subsidy_amount` returns a :class:`~app.compensation.rules.Computation` whose lines a
reviewer reads, with the rounding rule named.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from app.compensation.rules import Computation, pct
from app.core.errors import DomainError
from app.core.i18n import N_, _
from app.core.money import ROUNDING_LABELS, round_fen
from app.policies.params import SubsidyProgramme

ZERO = Decimal("0.00")
_PATTERNS = {"month": re.compile(r"^(\d{4})-(\d{2})$"), "quarter": re.compile(r"^(\d{4})Q([1-4])$"),
             "year": re.compile(r"^(\d{4})$")}
PERIOD_HINTS = {"month": "2025-03", "quarter": "2025Q1", "year": "2025"}


class SubsidyError(DomainError):
    pass


def period_bounds(kind: str, label: str) -> tuple[date, date]:
    """First and last day of the period ``label`` ("2025-03", "2025Q1", "2025") of ``kind``."""
    m = _PATTERNS[kind].match((label or "").strip().upper())
    if m is None:
        raise SubsidyError(_("期间格式应为 {hint}").format(hint=PERIOD_HINTS[kind]), "period")
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise SubsidyError(_("期间年份无效"), "period")
    if kind == "month":
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise SubsidyError(_("期间格式应为 {hint}").format(hint=PERIOD_HINTS[kind]), "period")
        first, months = date(year, month, 1), 1
    elif kind == "quarter":
        first, months = date(year, 3 * int(m.group(2)) - 2, 1), 3
    else:
        first, months = date(year, 1, 1), 12
    y, mo = divmod(first.month - 1 + months, 12)
    return first, date(first.year + y, mo + 1, 1) - timedelta(days=1)


def normal_period(kind: str, label: str) -> str:
    """The canonical spelling of a period label (upper-case Q)."""
    return (label or "").strip().upper()


def subsidy_amount(prog: SubsidyProgramme, rounding: str, interest_paid: Decimal, principal: Decimal,
                   start: date, end: date) -> Computation:
    """The subsidy of one period: by the programme's basis, at most ``cap_per_period`` and never more
    than the interest actually paid.  ``result`` is the amount to pay."""
    missing = prog.missing()
    if missing:
        raise SubsidyError(_("贴息项目“{name}”尚未录入：{keys}").format(name=prog.name, keys="、".join(missing)))
    c = Computation(rounding=rounding, rounding_label=ROUNDING_LABELS.get(rounding, rounding))
    c.add("interest_paid", N_("本期实付利息"), interest_paid)
    if prog.basis == "interest_share":
        c.add("rate", N_("贴息比例（占实付利息）"), prog.rate, pct(prog.rate), "ratio")
        raw = interest_paid * prog.rate
        amount = round_fen(raw, rounding)
        c.add("computed", N_("按比例计算的贴息"), amount, f"{interest_paid} × {pct(prog.rate)} = {raw}，{c.rounding_label}")
    else:
        days = (end - start).days + 1
        c.add("principal", N_("计息本金"), principal)
        c.add("rate", N_("年贴息率"), prog.rate, pct(prog.rate), "ratio")
        raw = principal * prog.rate * days / prog.day_count
        amount = round_fen(raw, rounding)
        c.add("computed", N_("按本金年化计算的贴息"), amount,
              f"{principal} × {pct(prog.rate)} × {days}/{prog.day_count} = {raw:.6f}，{c.rounding_label}")
    if amount > interest_paid:
        amount = interest_paid
        c.add("capped_interest", N_("不超过实付利息"), amount)
    if prog.cap_per_period is not None and amount > prog.cap_per_period:
        amount = prog.cap_per_period
        c.add("capped_period", N_("单期贴息上限"), amount)
    c.add("subsidy", N_("本期应贴息"), amount)
    c.result = str(amount)
    c.results = {"subsidy": str(amount)}
    return c


def eligible(prog: SubsidyProgramme, product: str, activity: str | None) -> str | None:
    """Why a loan of ``product`` and purpose ``activity`` is not eligible, or None."""
    if product not in prog.eligible_products:
        return _("该贷款产品不在“{name}”的适用范围内").format(name=prog.name)
    if prog.eligible_activities and activity not in prog.eligible_activities:
        return _("该贷款用途不在“{name}”的适用范围内").format(name=prog.name)
    return None


def period_ok(kind: str, label: str) -> bool:
    try:
        period_bounds(kind, label)
    except SubsidyError:
        return False
    return True
