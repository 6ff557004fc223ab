"""Reference lending rates (PBoC benchmark, LPR) with effective dates and term buckets."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.core.db import db
from app.core.i18n import N_, _
from app.policies.models import ReferenceRate

# Every published change, each row with its announcement.  LPR: the 1-year rate applies up to 60
# months, the over-5-year rate beyond (the 1-year LPR is the reference of loans up to 5 years).
# The LPR is published on the 20th of each month (next working day); listed are the first quotation
# under the reformed mechanism (2019-08-20) and every month in which a quotation changed.
_LPR_NOTICE = "全国银行间同业拆借中心受权公布贷款市场报价利率（LPR）公告（{d}）"
_LPR = [   # (date, 1-year, over 5 years)
    (date(2019, 8, 20), "4.25", "4.85"),   # first quotation under the reformed LPR mechanism
    (date(2019, 9, 20), "4.20", "4.85"),
    (date(2019, 11, 20), "4.15", "4.80"),
    (date(2020, 2, 20), "4.05", "4.75"),
    (date(2020, 4, 20), "3.85", "4.65"),
    (date(2021, 12, 20), "3.80", "4.65"),
    (date(2022, 1, 20), "3.70", "4.60"),
    (date(2022, 5, 20), "3.70", "4.45"),
    (date(2022, 8, 22), "3.65", "4.30"),
    (date(2023, 6, 20), "3.55", "4.20"),
    (date(2023, 8, 21), "3.45", "4.20"),
    (date(2024, 2, 20), "3.45", "3.95"),
    (date(2024, 7, 22), "3.35", "3.85"),
    (date(2024, 10, 21), "3.10", "3.60"),
    (date(2025, 5, 20), "3.00", "3.50"),
]
# PBoC benchmark lending rates since the term buckets were merged into three (2014-11-22); the last
# change was 2015-10-24 (the schemes of the seeds, 2018 onward, all fall under it).
_BENCH_NOTICE = "中国人民银行决定自{d}起下调金融机构人民币贷款和存款基准利率"
_BENCHMARK = [   # (date, up to 1 year, 1 to 5 years, over 5 years)
    (date(2014, 11, 22), "5.60", "6.00", "6.15"),   # 同时简并贷款基准利率期限档次
    (date(2015, 3, 1), "5.35", "5.75", "5.90"),
    (date(2015, 5, 11), "5.10", "5.50", "5.65"),
    (date(2015, 6, 28), "4.85", "5.25", "5.40"),
    (date(2015, 8, 26), "4.60", "5.00", "5.15"),
    (date(2015, 10, 24), "4.35", "4.75", "4.90"),
]


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# (kind, effective_from, min_months, max_months, rate %, source)
SEED_RATES = [row for d, one, five in _LPR for row in (
    ("lpr", d, 0, 60, one, _LPR_NOTICE.format(d=_cn(d))),
    ("lpr", d, 60, None, five, _LPR_NOTICE.format(d=_cn(d))))] + \
    [row for d, a, b, c in _BENCHMARK for row in (
        ("pboc_benchmark", d, 0, 12, a, _BENCH_NOTICE.format(d=_cn(d))),
        ("pboc_benchmark", d, 12, 60, b, _BENCH_NOTICE.format(d=_cn(d))),
        ("pboc_benchmark", d, 60, None, c, _BENCH_NOTICE.format(d=_cn(d))))]
# the generic sources of the first table, replaced by the row's own announcement on upgrade
_OLD_SOURCES = ("中国人民银行贷款基准利率（2015-10-24起）", "全国银行间同业拆借中心贷款市场报价利率")
KIND_LABELS = {"pboc_benchmark": N_("人民银行同期贷款基准利率"), "lpr": N_("贷款市场报价利率（LPR）")}  # shown as _(label)


class NoReferenceRate(LookupError):
    pass


def seed_reference_rates() -> None:
    """Add every published rate the table lacks (by kind, date and term bucket); rows an administrator
    entered or changed are kept, a row still carrying the first table's generic source gets its notice."""
    have = {(r.kind, r.effective_from, r.min_months): r for r in db.session.scalars(select(ReferenceRate))}
    for kind, eff, lo, hi, rate, source in SEED_RATES:
        row = have.get((kind, eff, lo))
        if row is None:
            db.session.add(ReferenceRate(kind=kind, effective_from=eff, min_months=lo, max_months=hi,
                                         rate=Decimal(rate), source=source))
        elif row.source in _OLD_SOURCES and row.rate == Decimal(rate):
            row.source = source
    db.session.flush()


def reference_rate(kind: str, term_months: int, on: date) -> ReferenceRate:
    rows = db.session.scalars(select(ReferenceRate).where(
        ReferenceRate.kind == kind, ReferenceRate.effective_from <= on)
        .order_by(ReferenceRate.effective_from.desc()))
    for r in rows:
        if term_months > r.min_months and (r.max_months is None or term_months <= r.max_months):
            return r
    raise NoReferenceRate(_("没有 {day} 适用于 {months} 个月期限的{kind}").format(day=on, months=term_months, kind=_(KIND_LABELS.get(kind, kind))))
