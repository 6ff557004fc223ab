"""The figures behind each dashboard chart, as a chart spec and the table it is drawn from.

A :class:`Chart` carries both: ``series`` for ECharts (drawn by app/static/dashboard.js from a JSON
script tag, never an inline script) and ``table`` (the same numbers, exact, shown one click away).
Months are Shanghai calendar months; money is summed as Decimal and handed to the chart as a number.
Loan balances and classifications come from app/registers/figures.py (switched to the loan book there).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from app.compensation.models import OPEN_STATUSES, STATUS_LABELS as CLAIM_STATUS, SUBJECT as CLAIM_SUBJECT, \
    CompensationClaim, Recovery
from app.accounts.models import Organisation
from app.applications.models import LoanApplication
from app.core.db import db
from app.core.i18n import _, localname, shown, translate_data
from app.core.money import FEN, fmt_yuan
from app.core.timeutil import local, now, today
from app.fund import ledger, thresholds
from app.fund.models import INFLOW, FundEntry
from app.loanbook.models import LIVE_BOOK_STATUSES, LoanBookRow
from app.loans.models import CLASSIFICATIONS, NON_PERFORMING, STATUS_LABELS as LOAN_STATUS, Loan
from app.registers import figures
from app.workflow.models import HumanTask

MONTHS = 12
ZERO = Decimal("0.00")


@dataclass
class Chart:
    key: str
    title: str
    kind: str                                   # line | bar | pie
    categories: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)    # {"name", "data", optional "type", "yAxisIndex", "stack"}
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    y_names: list[str] = field(default_factory=list)     # one per y axis (two: a second axis on the right)
    link: str | None = None                              # the register behind the chart
    note: str = ""

    def cells(self) -> list[list[tuple[str, bool]]]:
        """The table as (text, is a number) per cell: money to the fen with separators."""
        return [[(fmt_yuan(v), True) if isinstance(v, Decimal) else (str(v), isinstance(v, (int, float)))
                 for v in row] for row in self.rows]

    def spec(self) -> dict:
        return {"kind": self.kind, "title": self.title, "categories": self.categories,
                "series": self.series, "yNames": self.y_names}


def _num(d) -> float:
    return float(Decimal(d or 0).quantize(FEN))


def last_months(n: int = MONTHS, end: date | None = None) -> list[str]:
    end = end or today()
    y, m = end.year, end.month
    out = []
    for _i in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


# ------------------------------------------------------------------ fund (finance bureau, financial office, regulators)

def fund_balance(schemes) -> Chart:
    months = last_months()
    signed = case((FundEntry.direction == INFLOW, FundEntry.amount), else_=-FundEntry.amount)
    per = defaultdict(lambda: defaultdict(lambda: ZERO))
    for sid, booked, amount in db.session.execute(select(FundEntry.scheme_id, FundEntry.booked_on, signed).where(
            FundEntry.scheme_id.in_([s.id for s in schemes] or [0]))):
        key = _month(booked) if _month(booked) >= months[0] else "before"
        per[sid][key] += Decimal(amount)
    c = Chart("fund_balance", _("基金余额（月末，元）"), "line", months,
              columns=[_("月份")] + [localname(s) for s in schemes], y_names=[_("元")])
    table = {m: [] for m in months}
    for s in schemes:
        run, data = per[s.id]["before"], []
        for m in months:
            run += per[s.id][m]
            data.append(_num(run))
            table[m].append(run.quantize(FEN))
        c.series.append({"name": localname(s), "data": data})
    c.rows = [[m] + table[m] for m in months]
    return c


def utilisation(schemes) -> Chart:
    c = Chart("utilisation", _("基金使用与暂停阈值"), "bar", [localname(s) for s in schemes],
              columns=[_("政策"), _("净代偿（元）"), _("暂停阈值（元）"), _("使用率")], y_names=[_("元")])
    paid, limit = [], []
    for s in schemes:
        u = thresholds.utilisation(s)
        paid.append(_num(u.net_payouts))
        limit.append(_num(u.pause_amount) if u.pause_amount is not None else None)
        c.rows.append([localname(s), u.net_payouts, u.pause_amount if u.pause_amount is not None else "—",
                       f"{(u.ratio * 100).quantize(Decimal('0.01'))}%" if u.ratio is not None else "—"])
    c.series = [{"name": _("净代偿"), "data": paid}, {"name": _("暂停阈值"), "data": limit}]
    return c


def payouts_and_recoveries(schemes, bank_id: int | None = None) -> Chart:
    months = last_months()
    ids = [s.id for s in schemes] or [0]
    out = defaultdict(lambda: ZERO)
    back = defaultdict(lambda: ZERO)
    if bank_id is None:
        for booked, kind, amount in db.session.execute(select(FundEntry.booked_on, FundEntry.kind, FundEntry.amount).where(
                FundEntry.scheme_id.in_(ids), FundEntry.kind.in_(("advance", "payout", "recovery_return")))):
            (back if kind == "recovery_return" else out)[_month(booked)] += Decimal(amount)
    rec = defaultdict(lambda: ZERO)
    q = select(Recovery.received_on, Recovery.amount).join(CompensationClaim, CompensationClaim.id == Recovery.claim_id) \
        .where(CompensationClaim.scheme_id.in_(ids))
    if bank_id is not None:
        q = q.where(CompensationClaim.bank_id == bank_id)
        for paid_at, amount in db.session.execute(select(CompensationClaim.paid_at, CompensationClaim.fund_share_amount).where(
                CompensationClaim.bank_id == bank_id, CompensationClaim.paid_at.is_not(None))):
            out[_month(local(paid_at).date())] += Decimal(amount or 0)
    for received, amount in db.session.execute(q):
        rec[_month(received)] += Decimal(amount)
    c = Chart("payouts", _("按月代偿拨付与追偿"), "bar", months, y_names=[_("元")],
              columns=[_("月份"), _("代偿及补偿拨付（元）"), _("银行追偿入账（元）")] +
              ([_("追偿返还基金（元）")] if bank_id is None else []))
    c.series = [{"name": _("代偿及补偿拨付"), "data": [_num(out[m]) for m in months]},
                {"name": _("银行追偿入账"), "data": [_num(rec[m]) for m in months]}]
    if bank_id is None:
        c.series.append({"name": _("追偿返还基金"), "data": [_num(back[m]) for m in months]})
    c.rows = [[m, out[m], rec[m]] + ([back[m]] if bank_id is None else []) for m in months]
    return c


def claims_by_stage(schemes, bank_id: int | None = None) -> Chart:
    q = select(CompensationClaim.status, CompensationClaim.created_at).where(
        CompensationClaim.scheme_id.in_([s.id for s in schemes] or [0]), CompensationClaim.status.in_(OPEN_STATUSES))
    if bank_id is not None:
        q = q.where(CompensationClaim.bank_id == bank_id)
    ages = defaultdict(list)
    t = today()
    for status, created in db.session.execute(q):
        ages[status].append((t - local(created).date()).days)
    stages = [s for s in OPEN_STATUSES if ages.get(s)]
    c = Chart("claims", _("在办补偿案件（按阶段）与案龄"), "bar", [str(CLAIM_STATUS[s]) for s in stages],
              columns=[_("阶段"), _("件数"), _("平均案龄（天）"), _("最长案龄（天）")], y_names=[_("件"), _("天")])
    c.series = [{"name": _("件数"), "data": [len(ages[s]) for s in stages]},
                {"name": _("平均案龄（天）"), "data": [round(sum(ages[s]) / len(ages[s]), 1) for s in stages],
                 "type": "line", "yAxisIndex": 1}]
    c.rows = [[str(CLAIM_STATUS[s]), len(ages[s]), round(sum(ages[s]) / len(ages[s]), 1), max(ages[s])] for s in stages]
    return c


def _scheme_task_query(schemes):
    ids = [s.id for s in schemes] or [0]
    claims = select(CompensationClaim.id).where(CompensationClaim.scheme_id.in_(ids))
    apps = select(LoanApplication.id).where(LoanApplication.scheme_id.in_(ids))
    return select(HumanTask).where(HumanTask.status == "open", (
        ((HumanTask.subject_type == CLAIM_SUBJECT) & HumanTask.subject_id.in_(claims)) |
        ((HumanTask.subject_type == "loan_application") & HumanTask.subject_id.in_(apps))))


def overdue_steps(schemes) -> Chart:
    at = now()
    tasks = list(db.session.scalars(_scheme_task_query(schemes).where(
        HumanTask.due_at.is_not(None), HumanTask.due_at < at).order_by(HumanTask.due_at)))
    by_step = defaultdict(int)
    for t in tasks:
        by_step[translate_data(t.name)] += 1
    steps = sorted(by_step, key=lambda k: -by_step[k])
    c = Chart("overdue", _("逾期未办步骤"), "bar", steps, columns=[_("步骤"), _("事项"), _("办理单位"), _("期限"),
                                                                    _("逾期天数")], y_names=[_("件")])
    c.series = [{"name": _("逾期件数"), "data": [by_step[s] for s in steps]}]
    c.rows = [[translate_data(t.name), shown(t.title), localname(db.session.get(Organisation, t.org_id)) if t.org_id else "—",
               local(t.due_at).strftime("%Y-%m-%d %H:%M"), (today() - local(t.due_at).date()).days] for t in tasks]
    return c


def npl_by_bank(schemes) -> Chart:
    cats, ratios = [], []
    c = Chart("npl", _("合作银行不良率（当前）"), "bar", columns=[_("政策"), _("银行"), _("不良本金（元）"),
                                                              _("贷款余额（元）"), _("不良率")], y_names=["%"])
    for s in schemes:
        for bank, n in figures.npl_by_bank(s):
            cats.append(f"{localname(bank)} · {localname(s)}" if len(schemes) > 1 else localname(bank))
            ratios.append(float((n.ratio * 100).quantize(Decimal("0.01"))))
            c.rows.append([localname(s), localname(bank), n.npl_principal, n.total_principal,
                           f"{(n.ratio * 100).quantize(Decimal('0.01'))}%"])
    c.categories = cats
    c.series = [{"name": _("不良率（%）"), "data": ratios}]
    return c


def npl_history(schemes, months: list[str] | None = None) -> Chart:
    """Each member bank's NPL ratio at each month's end, from the loan book's history: a loan's position at
    a month's end is its row of that month or the latest before (the loan book's as-of rule); a loan with
    no row up to then is not counted.  Ratio = non-performing outstanding / outstanding of live rows,
    a percentage rounded half up to 0.01."""
    months = months or last_months()
    ids = [s.id for s in schemes] or [0]
    history = defaultdict(list)           # (scheme, bank, loan) → [(month, outstanding, npl)] ascending
    for sid, bank_id, loan_id, month, amount, cls, status in db.session.execute(select(
            LoanBookRow.scheme_id, LoanBookRow.bank_id, LoanBookRow.loan_id, LoanBookRow.month,
            LoanBookRow.outstanding_principal, LoanBookRow.classification, LoanBookRow.status).where(
            LoanBookRow.scheme_id.in_(ids), LoanBookRow.month <= months[-1]).order_by(LoanBookRow.month)):
        live = status in LIVE_BOOK_STATUSES
        out = Decimal(amount) if live else ZERO
        history[(sid, bank_id, loan_id)].append((month, out, out if live and cls in NON_PERFORMING else ZERO))
    c = Chart("npl_history", _("合作银行不良率（按月，贷款台账）"), "line", months,
              columns=[_("月份"), _("政策"), _("银行"), _("不良本金（元）"), _("贷款余额（元）"), _("不良率")],
              y_names=["%"], note=_("按各月末贷款台账计；尚未报送台账的贷款不计入"))
    for s in schemes:
        for bank in s.member_orgs("bank"):
            loans = [h for (sid, b, _l), h in history.items() if sid == s.id and b == bank.id]
            data = []
            for m in months:
                npl = total = ZERO
                for h in loans:
                    last = None
                    for row in h:
                        if row[0] > m:
                            break
                        last = row
                    if last is not None:
                        total += last[1]
                        npl += last[2]
                ratio = (npl * 100 / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if total else None
                data.append(float(ratio) if ratio is not None else None)
                c.rows.append([m, localname(s), localname(bank), npl.quantize(FEN), total.quantize(FEN),
                               f"{ratio}%" if ratio is not None else "—"])
            name = f"{localname(bank)} · {localname(s)}" if len(schemes) > 1 else localname(bank)
            c.series.append({"name": name, "data": data})
    return c


# ------------------------------------------------------------------ bank

def portfolio(bank_id: int, schemes) -> Chart:
    """The bank's scheme loans by five-tier class: outstanding principal and count."""
    cls = figures.classification()
    rows = db.session.execute(select(cls, func.count(Loan.id), func.coalesce(func.sum(figures.outstanding()), 0)).where(
        Loan.bank_id == bank_id, Loan.scheme_id.in_([s.id for s in schemes] or [0]),
        Loan.status.in_(thresholds.VOLUME_STATUSES)).group_by(cls))
    got = {k: (n, Decimal(str(total))) for k, n, total in rows}
    keys = [k for k in CLASSIFICATIONS if k in got]
    c = Chart("portfolio", _("本行在贷余额（按五级分类）"), "pie", [_(CLASSIFICATIONS[k]) for k in keys],
              columns=[_("五级分类"), _("笔数"), _("贷款余额（元）")])
    c.series = [{"name": _("贷款余额"), "data": [{"name": _(CLASSIFICATIONS[k]), "value": _num(got[k][1])} for k in keys]}]
    c.rows = [[_(CLASSIFICATIONS[k]), got[k][0], got[k][1].quantize(FEN)] for k in keys]
    return c


def lending_by_month(bank_id: int, schemes) -> Chart:
    months = last_months()
    amounts, counts = defaultdict(lambda: ZERO), defaultdict(int)
    for disbursed, amount in db.session.execute(select(Loan.disbursed_on, Loan.amount).where(
            Loan.bank_id == bank_id, Loan.scheme_id.in_([s.id for s in schemes] or [0]))):
        amounts[_month(disbursed)] += Decimal(amount)
        counts[_month(disbursed)] += 1
    c = Chart("lending", _("按月放款"), "bar", months, columns=[_("月份"), _("笔数"), _("金额（元）")],
              y_names=[_("元"), _("笔")])
    c.series = [{"name": _("金额"), "data": [_num(amounts[m]) for m in months]},
                {"name": _("笔数"), "data": [counts[m] for m in months], "type": "line", "yAxisIndex": 1}]
    c.rows = [[m, counts[m], amounts[m]] for m in months]
    return c


DEADLINE_BUCKETS = ("overdue", "today", "week", "later", "none")


def deadlines(org_id: int) -> Chart:
    at, t = now(), today()
    tasks = list(db.session.scalars(select(HumanTask).where(HumanTask.org_id == org_id, HumanTask.status == "open")
                                    .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)))
    labels = {"overdue": _("已逾期"), "today": _("今日到期"), "week": _("7日内到期"), "later": _("7日以后"),
              "none": _("无期限")}
    counts = defaultdict(int)
    rows = []
    for task in tasks:
        if task.due_at is None:
            b = "none"
        elif task.due_at < at:
            b = "overdue"
        else:
            days = (local(task.due_at).date() - t).days
            b = "today" if days <= 0 else "week" if days <= 7 else "later"
        counts[b] += 1
        rows.append([translate_data(task.name), shown(task.title), local(task.due_at).strftime("%Y-%m-%d %H:%M")
                     if task.due_at else "—", labels[b]])
    c = Chart("deadlines", _("本行待办期限"), "bar", [labels[b] for b in DEADLINE_BUCKETS],
              columns=[_("步骤"), _("事项"), _("期限"), _("状态")], y_names=[_("件")])
    c.series = [{"name": _("待办件数"), "data": [counts[b] for b in DEADLINE_BUCKETS]}]
    c.rows = rows
    return c


def loan_status(bank_id: int, schemes) -> dict:
    """Count of the bank's loans per status (for the summary line)."""
    rows = db.session.execute(select(Loan.status, func.count(Loan.id)).where(
        Loan.bank_id == bank_id, Loan.scheme_id.in_([s.id for s in schemes] or [0])).group_by(Loan.status))
    return {str(LOAN_STATUS.get(k, k)): n for k, n in rows}


def balances(schemes) -> list[tuple]:
    return [(s, ledger.balance(s.id)) for s in schemes]
