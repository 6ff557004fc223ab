"""The monthly statistics to 人民银行 (黔江 实施方案: 各银行每月统计依托"信用黔江"平台贷款发放的企业数量、贷款金额,
按月填报《成果统计表》, 次月5日前报送人行): figures per cooperating bank for one month, as a page, an
Excel file and a PDF, and the archive of what was issued.

Decisions where the text is silent:

* A loan counts in the month it was disbursed, when eligible for the scheme (the filing duty's rule).
* "Through the credit platform" (依托信用平台): the bank opened the firm's credit data on the platform
  (a granted entry of the credit-access log by that bank) on or before the day of disbursement.
* Outstanding principal is read through app/registers/figures.py: the loan row today, the loan book's
  month once it exists.  The banks' own filing of the month (the monthly filing duty) is shown beside
  the computed figures so that a difference is visible, never merged into them.
* Offered for every scheme with a 人民银行 member (the report's recipient).
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask import render_template
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from weasyprint import HTML

from app.applications.models import CreditAccessLog
from app.core.db import db
from app.core.exports import append_row
from app.core.i18n import _, localname, source_language
from app.core.money import FEN, fmt_yuan
from app.core.timeutil import SHANGHAI, now, today
from app.duties.models import Duty
from app.fund.models import INFLOW, FundEntry
from app.loans.models import Loan
from app.registers import figures
from app.reports.models import ArchivedReport, report_key

KIND = "monthly_statistics"
PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
ZERO = Decimal("0.00")
MONEY = "#,##0.00"


def parse_period(raw: str) -> tuple[date, date] | None:
    """(first day, first day of the next month) of a finished month ``YYYY-MM`` since 2000, else None."""
    m = PERIOD_RE.match(raw or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or year < 2000:
        return None
    start = date(year, month, 1)
    if start > today().replace(day=1) - timedelta(days=1):       # the current month is not finished
        return None
    return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def recent_periods(n: int = 12) -> list[str]:
    first = today().replace(day=1)
    out = []
    for _i in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(f"{first:%Y-%m}")
    return out


def applies_to(scheme) -> bool:
    return bool(scheme.member_orgs("pboc"))


@dataclass
class BankRow:
    bank_id: int
    bank: str
    firms: int = 0
    loans: int = 0
    amount: Decimal = ZERO
    platform_firms: int = 0
    platform_loans: int = 0
    platform_amount: Decimal = ZERO
    cumulative_loans: int = 0
    cumulative_amount: Decimal = ZERO
    outstanding: Decimal = ZERO
    filed: dict | None = None                  # the bank's own filing of the month, as filed


@dataclass
class MonthlyStats:
    scheme_id: int
    scheme: str
    period: str
    rows: list[BankRow] = field(default_factory=list)
    total: BankRow | None = None
    fund_in: Decimal = ZERO
    fund_out: Decimal = ZERO
    fund_returned: Decimal = ZERO
    fund_balance: Decimal = ZERO
    generated_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> MonthlyStats:
        data = json.loads(text)
        rows = [_row(r) for r in data.pop("rows")]
        total = _row(data.pop("total"))
        for k in MONEY_FIELDS:
            data[k] = Decimal(data[k])
        return cls(**data, rows=rows, total=total)


MONEY_FIELDS = ("fund_in", "fund_out", "fund_returned", "fund_balance")
ROW_MONEY = ("amount", "platform_amount", "cumulative_amount", "outstanding")


def _row(d: dict) -> BankRow:
    return BankRow(**{k: Decimal(v) if k in ROW_MONEY else v for k, v in d.items()})


def _utc(d: date) -> datetime:
    return datetime.combine(d, time.min, SHANGHAI).astimezone(timezone.utc)


def compute(scheme, period: str, name=localname) -> MonthlyStats:
    """``name``: how organisations and the scheme are named (the reader's language; the archive: Chinese)."""
    start, end = parse_period(period)
    stats = MonthlyStats(scheme.id, name(scheme), period, generated_at=now().isoformat(timespec="seconds"))
    for bank in scheme.member_orgs("bank"):
        row = BankRow(bank.id, name(bank))
        loans = list(db.session.scalars(select(Loan).where(
            Loan.scheme_id == scheme.id, Loan.bank_id == bank.id, Loan.eligible.is_(True), Loan.disbursed_on < end)))
        month = [loan for loan in loans if loan.disbursed_on >= start]
        platform = [loan for loan in month if _through_platform(loan)]
        row.firms, row.loans = len({x.enterprise_id for x in month}), len(month)
        row.amount = sum((x.amount for x in month), ZERO)
        row.platform_firms, row.platform_loans = len({x.enterprise_id for x in platform}), len(platform)
        row.platform_amount = sum((x.amount for x in platform), ZERO)
        row.cumulative_loans, row.cumulative_amount = len(loans), sum((x.amount for x in loans), ZERO)
        row.outstanding = sum((figures.outstanding_of(x) for x in loans if x.status in ("active", "overdue")), ZERO)
        duty = db.session.scalar(select(Duty).where(Duty.kind == "monthly_filing", Duty.scheme_id == scheme.id,
                                                    Duty.org_id == bank.id, Duty.period == period))
        if duty is not None and duty.status == "done":
            result = json.loads(duty.result_json or "{}")
            row.filed = {k: result.get(k) for k in ("firm_count", "loan_count", "total_amount")}
        stats.rows += [row]
    stats.total = BankRow(0, _("合计"), **{k: sum(getattr(r, k) for r in stats.rows) for k in (
        "firms", "loans", "platform_firms", "platform_loans", "cumulative_loans")},
        **{k: sum((getattr(r, k) for r in stats.rows), ZERO) for k in (
            "amount", "platform_amount", "cumulative_amount", "outstanding")})
    entries = select(FundEntry.kind, FundEntry.direction, func.sum(FundEntry.amount)).where(
        FundEntry.scheme_id == scheme.id, FundEntry.booked_on >= start, FundEntry.booked_on < end) \
        .group_by(FundEntry.kind, FundEntry.direction)
    for kind, direction, amount in db.session.execute(entries):
        amount = Decimal(str(amount)).quantize(FEN)
        if kind == "recovery_return":
            stats.fund_returned += amount
        elif direction == INFLOW:
            stats.fund_in += amount
        else:
            stats.fund_out += amount
    signed = func.sum(FundEntry.amount).filter(FundEntry.direction == INFLOW)
    out = func.sum(FundEntry.amount).filter(FundEntry.direction != INFLOW)
    got_in, got_out = db.session.execute(select(signed, out).where(
        FundEntry.scheme_id == scheme.id, FundEntry.booked_on < end)).one()
    stats.fund_balance = (Decimal(str(got_in or 0)) - Decimal(str(got_out or 0))).quantize(FEN)
    return stats


def _through_platform(loan: Loan) -> bool:
    return db.session.scalar(select(CreditAccessLog.id).where(
        CreditAccessLog.enterprise_id == loan.enterprise_id, CreditAccessLog.bank_id == loan.bank_id,
        CreditAccessLog.granted.is_(True), CreditAccessLog.at < _utc(loan.disbursed_on + timedelta(days=1)))
        .limit(1)) is not None


# ------------------------------------------------------------------ files

def columns() -> list[str]:
    return [_("合作银行"), _("本月发放企业数"), _("本月发放笔数"), _("本月发放金额（元）"),
            _("其中依托信用平台企业数"), _("依托信用平台笔数"), _("依托信用平台金额（元）"),
            _("累计发放笔数"), _("累计发放金额（元）"), _("贷款余额（元）"), _("银行报送（企业数/笔数/金额）")]


def cells(row: BankRow) -> list:
    filed = (f"{row.filed['firm_count']} / {row.filed['loan_count']} / {row.filed['total_amount']}"
             if row.filed else ("—" if row.bank_id == 0 else _("未报送")))
    return [row.bank, row.firms, row.loans, row.amount, row.platform_firms, row.platform_loans, row.platform_amount,
            row.cumulative_loans, row.cumulative_amount, row.outstanding, filed]


def title(stats: MonthlyStats) -> str:
    return _("{scheme} 金融服务实体经济成果统计表（{period}）").format(scheme=stats.scheme, period=stats.period)


def workbook_bytes(stats: MonthlyStats) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = stats.period
    append_row(ws, [title(stats)])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [_("报送单位：人民银行"), _("生成时间"), stats.generated_at])
    append_row(ws, [])
    append_row(ws, columns())
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for row in stats.rows + [stats.total]:
        append_row(ws, cells(row))
        for i in (4, 7, 9, 10):
            ws.cell(ws.max_row, i).number_format = MONEY
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    append_row(ws, [])
    for label, value in ((_("本月基金流入（元）"), stats.fund_in), (_("本月代偿及补偿拨付（元）"), stats.fund_out),
                         (_("本月追偿返还基金（元）"), stats.fund_returned), (_("月末基金余额（元）"), stats.fund_balance)):
        append_row(ws, [label, value])
        ws.cell(ws.max_row, 2).number_format = MONEY
    ws.column_dimensions["A"].width = 30
    for col in "BCDEFGHIJK":
        ws.column_dimensions[col].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf_bytes(stats: MonthlyStats) -> bytes:
    html = render_template("reports/monthly_pdf.html", stats=stats, title=title(stats), columns=columns(),
                           rows=[cells(r) for r in stats.rows], total=cells(stats.total), yuan=fmt_yuan)
    return HTML(string=html).write_pdf()


# ------------------------------------------------------------------ archive

def archived(scheme_id: int, period: str) -> ArchivedReport | None:
    return db.session.scalar(select(ArchivedReport).where(
        ArchivedReport.kind == KIND, ArchivedReport.scheme_id == scheme_id, ArchivedReport.period == period))


def archive(scheme, period: str, user) -> tuple[ArchivedReport, bool]:
    """Store the month's figures and both files once; archiving again returns the stored one."""
    existing = archived(scheme.id, period)
    if existing is not None:
        return existing, False
    with source_language():              # issued in Chinese, whatever language the archiving user reads
        stats = compute(scheme, period, name=lambda o: o.name)
        xlsx, pdf = workbook_bytes(stats), pdf_bytes(stats)
    rep = ArchivedReport(key=report_key(KIND, scheme.id, period), kind=KIND, scheme_id=scheme.id, period=period, figures_json=stats.to_json(),
                         xlsx=xlsx, pdf=pdf, archived_by_id=user.id, archived_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(rep)
    except IntegrityError:   # a concurrent archive of the same period won: keep that one
        existing = archived(scheme.id, period)
        if existing is None:
            raise
        return existing, False
    return rep, True
