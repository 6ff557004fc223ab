"""Reference lending rates (PBoC benchmark, LPR) with effective dates and term buckets."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.core.db import db
from app.core.i18n import N_, _
from app.policies.models import ReferenceRate

# (kind, effective_from, min_months, max_months, rate %)
SEED_RATES = [
    ("pboc_benchmark", date(2015, 10, 24), 0, 12, "4.35"),
    ("pboc_benchmark", date(2015, 10, 24), 12, 60, "4.75"),
    ("pboc_benchmark", date(2015, 10, 24), 60, None, "4.90"),
    ("lpr", date(2019, 8, 20), 0, 60, "4.25"),
    ("lpr", date(2019, 8, 20), 60, None, "4.85"),
    ("lpr", date(2020, 4, 20), 0, 60, "3.85"),
    ("lpr", date(2020, 4, 20), 60, None, "4.65"),
    ("lpr", date(2022, 8, 22), 0, 60, "3.65"),
    ("lpr", date(2022, 8, 22), 60, None, "4.30"),
    ("lpr", date(2023, 8, 21), 0, 60, "3.45"),
    ("lpr", date(2023, 8, 21), 60, None, "4.20"),
    ("lpr", date(2024, 10, 21), 0, 60, "3.10"),
    ("lpr", date(2024, 10, 21), 60, None, "3.60"),
    ("lpr", date(2025, 5, 20), 0, 60, "3.00"),
    ("lpr", date(2025, 5, 20), 60, None, "3.50"),
]
SOURCE = {"pboc_benchmark": "中国人民银行贷款基准利率（2015-10-24起）", "lpr": "全国银行间同业拆借中心贷款市场报价利率"}
KIND_LABELS = {"pboc_benchmark": N_("人民银行同期贷款基准利率"), "lpr": N_("贷款市场报价利率（LPR）")}  # shown as _(label)


class NoReferenceRate(LookupError):
    pass


def seed_reference_rates() -> None:
    if db.session.scalar(select(ReferenceRate.id).limit(1)) is not None:
        return
    for kind, eff, lo, hi, rate in SEED_RATES:
        db.session.add(ReferenceRate(kind=kind, effective_from=eff, min_months=lo, max_months=hi,
                                     rate=Decimal(rate), source=SOURCE[kind]))
    db.session.flush()


def reference_rate(kind: str, term_months: int, on: date) -> ReferenceRate:
    rows = db.session.scalars(select(ReferenceRate).where(
        ReferenceRate.kind == kind, ReferenceRate.effective_from <= on)
        .order_by(ReferenceRate.effective_from.desc()))
    for r in rows:
        if term_months > r.min_months and (r.max_months is None or term_months <= r.max_months):
            return r
    raise NoReferenceRate(_("没有 {day} 适用于 {months} 个月期限的{kind}").format(day=on, months=term_months, kind=_(KIND_LABELS.get(kind, kind))))
