"""What a performance evaluation measures, each figure defined once (the page shows these definitions).

Balances come from :func:`app.registers.figures.positions_as_of` (the one place balances are read);
lending from the loans; the order-taking rate and the times from the human-task history
(:class:`app.workflow.models.HumanTask`: created when a step reaches its organisation, completed
when it decides).  Working days are Chinese working days (:mod:`app.core.workdays`), counted
between Shanghai dates: a step decided the day it arrived took 0 working days.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.applications.models import LoanApplication
from app.core.db import db
from app.core.i18n import N_
from app.core.timeutil import SHANGHAI, local
from app.core.workdays import calendar
from app.loans.models import NON_PERFORMING, Loan
from app.registers import figures
from app.workflow.models import HumanTask

APPLICATION = "loan_application"          # app.applications.operations.SUBJECT
BANK_DECISION_FORM = "bank_due_diligence"  # the bank's decision step in every loan diagram
DEPARTMENT_FORM = "department_review"      # the department's recommendation step
RATIO = Decimal("0.0001")
DAYS = Decimal("0.1")

# shown on the page with every evaluation ({{ _(text) }})
DEFINITIONS = {
    "balance_growth": N_("余额增长：评价年度末（12 月末）政策内贷款余额减上年末余额（元）。余额取自贷款台账当月或之前最近一月的报送；"
                         "当年未结束时取当前余额；到期末仍未报送过的贷款按批准金额计。只计符合政策条件的贷款。"),
    "new_borrowers": N_("新增贷款户数：年度末有政策内贷款余额的企业数减上年末的企业数（户）。"),
    "npl_ratio": N_("不良率：年度末次级、可疑、损失类贷款余额 ÷ 年度末贷款余额。"),
    "first_loan_share": N_("首贷占比：年度内发放的政策内贷款中，申请时为首次贷款的笔数 ÷ 年度内发放的笔数（没有申请记录的贷款不计入）。"),
    "volume": N_("总量：年度内发放的政策内贷款金额合计（元）。"),
    "growth_rate": N_("增速：余额增长 ÷ 上年末余额（上年末余额为零时不计算）。"),
    "acceptance_rate": N_("接单率：年度内（按上海时间）银行办结的“银行贷前调查与审批”待办中，银行批准（生成贷款，含政策外自担风险发放）的件数 ÷ "
                          "办结件数。推送到该行而尚未办结的申请不计入分母。"),
    "decision_days": N_("推荐到决定用时：同一“银行贷前调查与审批”待办从推送到银行（待办创建）到银行作出决定（待办办结）的工作日数，"
                        "按上海时间的日期计、不含推送当日；列出中位数与平均数（保留一位小数）。"),
    "turnaround": N_("部门办理用时：年度内部门办结的“部门审核推荐”待办，从待办创建到办结的工作日数（中位数、平均数）；"
                     "另列办结件数与超过办理期限的件数。"),
}
METRIC_LABELS = {
    "balance_growth": N_("余额增长（元）"), "new_borrowers": N_("新增贷款户数"), "npl_ratio": N_("不良率"),
    "first_loan_share": N_("首贷占比"), "volume": N_("发放总量（元）"), "growth_rate": N_("余额增速"),
}


def period_problem(period) -> str | None:
    """None when ``period`` is a year ``YYYY`` the evaluation can use, else the reason (source language)."""
    if not isinstance(period, str) or len(period) != 4 or not period.isdigit():
        return N_("评价期间应为四位年份，如 2025")
    if not 2000 <= int(period) <= 2100:
        return N_("评价期间应为四位年份，如 2025")
    return None


def bounds(period: str) -> tuple[datetime, datetime]:
    """The year as aware datetimes: [1 January 00:00, next 1 January 00:00) in Shanghai."""
    y = int(period)
    return (datetime.combine(date(y, 1, 1), time(0), tzinfo=SHANGHAI),
            datetime.combine(date(y + 1, 1, 1), time(0), tzinfo=SHANGHAI))


def q(value: Decimal | None, unit=RATIO) -> Decimal | None:
    return None if value is None else value.quantize(unit, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------- the loan book

@dataclass
class Book:
    start: Decimal = Decimal("0.00")
    end: Decimal = Decimal("0.00")
    npl_end: Decimal = Decimal("0.00")
    borrowers_start: set = field(default_factory=set)
    borrowers_end: set = field(default_factory=set)
    lent: Decimal = Decimal("0.00")
    lent_count: int = 0
    first_loans: int = 0
    first_known: int = 0

    def actuals(self) -> dict:
        growth = self.end - self.start
        return {
            "balance_start": self.start, "balance_end": self.end, "balance_growth": growth,
            "new_borrowers": len(self.borrowers_end) - len(self.borrowers_start),
            "npl_principal": self.npl_end,
            "npl_ratio": q(self.npl_end / self.end) if self.end else None,
            "volume": self.lent, "loans_disbursed": self.lent_count,
            "first_loan_share": q(Decimal(self.first_loans) / self.first_known) if self.first_known else None,
            "growth_rate": q(growth / self.start) if self.start else None,
        }


def book(scheme_id: int, period: str) -> tuple[dict[int, Book], Book]:
    """Per bank and for the scheme: balances at the start and end of the year, lending in it."""
    y = int(period)
    per_bank: dict[int, Book] = defaultdict(Book)
    total = Book()
    for when, month in (("start", f"{y - 1}-12"), ("end", f"{y}-12")):
        for p in figures.positions_as_of(scheme_id, month):
            for b in (per_bank[p.bank_id], total):
                setattr(b, when, getattr(b, when) + p.outstanding)
                if p.outstanding > 0:
                    getattr(b, f"borrowers_{when}").add(p.enterprise_id)
                if when == "end" and p.classification in NON_PERFORMING:
                    b.npl_end += p.outstanding
    lent = db.session.execute(select(Loan.bank_id, Loan.amount, LoanApplication.first_loan).outerjoin(
        LoanApplication, LoanApplication.id == Loan.application_id).where(
        Loan.scheme_id == scheme_id, Loan.eligible.is_(True),
        Loan.disbursed_on >= date(y, 1, 1), Loan.disbursed_on <= date(y, 12, 31)))
    for bank_id, amount, first in lent:
        for b in (per_bank[bank_id], total):
            b.lent += Decimal(amount)
            b.lent_count += 1
            if first is not None:
                b.first_known += 1
                b.first_loans += 1 if first else 0
    return per_bank, total


# ---------------------------------------------------------------------------- the task history

def _days(tasks: list[HumanTask]) -> list[int]:
    cal = calendar()
    return [cal.working_days_between(local(t.created_at).date(), local(t.completed_at).date()) for t in tasks]


def _summary(days: list[int]) -> dict:
    if not days:
        return {"median_days": None, "mean_days": None}
    return {"median_days": q(Decimal(str(statistics.median(days))), DAYS),
            "mean_days": q(Decimal(sum(days)) / len(days), DAYS)}


def _completed(scheme_id: int, period: str, form_key: str) -> list[HumanTask]:
    start, end = bounds(period)
    return list(db.session.scalars(select(HumanTask).join(
        LoanApplication, LoanApplication.id == HumanTask.subject_id).where(
        HumanTask.subject_type == APPLICATION, LoanApplication.scheme_id == scheme_id,
        HumanTask.form_key == form_key, HumanTask.status == "completed",
        HumanTask.completed_at >= start, HumanTask.completed_at < end).order_by(HumanTask.id)))


def bank_decisions(scheme_id: int, period: str) -> dict[int, dict]:
    """Per bank: decided, accepted, the order-taking rate, and the working days to decide."""
    tasks = _completed(scheme_id, period, BANK_DECISION_FORM)
    accepted = set(db.session.scalars(select(Loan.application_id).where(
        Loan.application_id.in_([t.subject_id for t in tasks] or [0]))))
    by_bank: dict[int, list[HumanTask]] = defaultdict(list)
    for t in tasks:
        if t.org_id is not None:
            by_bank[t.org_id].append(t)
    out = {}
    for bank_id, ts in by_bank.items():
        n_ok = sum(1 for t in ts if t.subject_id in accepted)
        out[bank_id] = {"decided": len(ts), "accepted": n_ok,
                        "acceptance_rate": q(Decimal(n_ok) / len(ts)), **_summary(_days(ts))}
    return out


def department_turnaround(scheme_id: int, period: str) -> dict[int, dict]:
    """Per department: completed reviews, working days from arrival to decision, how many after the due time."""
    by_dept: dict[int, list[HumanTask]] = defaultdict(list)
    for t in _completed(scheme_id, period, DEPARTMENT_FORM):
        if t.org_id is not None:
            by_dept[t.org_id].append(t)
    out = {}
    for dept_id, ts in by_dept.items():
        late = sum(1 for t in ts if t.due_at is not None and t.completed_at > t.due_at)
        out[dept_id] = {"completed": len(ts), "late": late, **_summary(_days(ts))}
    return out
