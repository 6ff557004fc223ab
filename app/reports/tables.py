"""江津's monthly reports (each bank's, the guarantee company's) and 黔江's quarterly 通报: their figures as one
table each, computed from the loans, the loan book and the claims.

Seeds:

* 江津 (001) 第六条 3-5 (lines 134, 137-139, 153-155): 诚信担保公司 "对在保主体进行数据统计，按月向区财政局、人行江津
  中心支行及江津银保监分局报送'增信贷'收放情况"; 合作银行 "按月向区财政局、人行江津中心支行及江津银保监分局报送
  '增信贷'收放情况".
* 黔江 (000) 实施方案 （七） line 111: "金管办按季召开办公室成员单位联席会，通报……成果及存在问题".

Decisions where the texts are silent:

* 收放 (lent and collected): loans disbursed in the period (eligible scheme loans, as the monthly statistics
  count them), principal repaid in the period (the loan book's ``repaid_principal`` of the period's months),
  the position at the period's end (outstanding, overdue, non-performing) from the loan book as of the
  period's last month.  A loan that has no loan-book row up to then counts at its disbursed amount as
  normal and performing; the table says how many loans that is.
* The guarantee company's report: the platform records no guarantee contracts, fees or guaranteed shares.
  Its "guarantees carried" (在保) are approximated by the scheme loans filed with it (备案 recipient) that
  are live at the period's end, at their outstanding principal; its advances (代偿垫付) are the claims'
  advances it paid in the period.
* NPL ratio = non-performing outstanding / outstanding, as a percentage rounded half up to 0.01 (四舍五入).
* The 通报's claims and payouts: claims reported in the quarter, and the fund's share of the claims paid
  in the quarter, with their cumulative counterparts (since the scheme began).

Column headers, notes and summary labels are msgids (translated where shown); names are data.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.compensation.models import CompensationClaim
from app.core.db import db
from app.core.i18n import N_, localname
from app.core.money import FEN
from app.core.timeutil import SHANGHAI, now
from app.loanbook import operations as book_ops
from app.loanbook.models import BOOK_STATUSES, LoanBookRow
from app.loans.models import CLASSIFICATIONS, NON_PERFORMING, Filing, Loan

ZERO = Decimal("0.00")
PERCENT = Decimal("0.01")


@dataclass
class Table:
    kind: str
    scheme_id: int
    scheme: str
    period: str
    org_id: int | None
    org: str
    columns: list[str]                          # msgids
    rows: list[list] = field(default_factory=list)
    total: list = field(default_factory=list)
    summary: list[list] = field(default_factory=list)   # [msgid, value]
    notes: list[list] = field(default_factory=list)     # [msgid, {placeholders}]
    label_columns: list[int] = field(default_factory=list)   # columns whose cells are msgids
    generated_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=_enc)

    @classmethod
    def from_json(cls, text: str) -> Table:
        return cls(**json.loads(text, object_hook=_dec))


def _enc(v):
    if isinstance(v, Decimal):
        return {"$d": str(v)}
    raise TypeError(type(v))


def _dec(d: dict):
    return Decimal(d["$d"]) if set(d) == {"$d"} else d


# ------------------------------------------------------------------ periods

def months_of(period: str) -> list[str]:
    """The months a period covers: ``YYYY-MM`` itself, or the three of ``YYYYQn``."""
    if "Q" in period:
        year, q = int(period[:4]), int(period[-1])
        return [f"{year:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    return [period]


def bounds(period: str) -> tuple[date, date]:
    """(first day, first day after) of a period."""
    months = months_of(period)
    start = date.fromisoformat(months[0] + "-01")
    return start, book_ops.month_end(months[-1]) + timedelta(days=1)


def _utc(d: date) -> datetime:
    return datetime.combine(d, time.min, SHANGHAI).astimezone(timezone.utc)


def ratio(npl: Decimal, outstanding: Decimal) -> str:
    if not outstanding:
        return "—"
    return f"{(npl * 100 / outstanding).quantize(PERCENT, rounding=ROUND_HALF_UP)}%"


# ------------------------------------------------------------------ positions from the loan book

@dataclass
class Position:
    outstanding: Decimal
    classification: str
    status: str
    reported: bool

    @property
    def live(self) -> bool:
        return self.status in ("performing", "overdue", "renewed")

    @property
    def npl(self) -> bool:
        return self.live and self.classification in NON_PERFORMING


def positions(scheme_id: int, loans: list[Loan], month: str) -> dict[int, Position]:
    """Each loan's position at the end of ``month`` (loan id → Position), from the loan book."""
    book = book_ops.as_of(month, scheme_id=scheme_id)
    out = {}
    for loan in loans:
        row = book.get(loan.id)
        if row is None:
            out[loan.id] = Position(loan.amount, "normal", "performing", False)
        else:
            out[loan.id] = Position(row.outstanding_principal if row.live else ZERO, row.classification,
                                    row.status, True)
    return out


def repaid_in(scheme_id: int, loan_ids: list[int], months: list[str]) -> dict[int, Decimal]:
    got: dict[int, Decimal] = {}
    if not loan_ids:
        return got
    for loan_id, amount in db.session.execute(select(LoanBookRow.loan_id, LoanBookRow.repaid_principal).where(
            LoanBookRow.scheme_id == scheme_id, LoanBookRow.loan_id.in_(loan_ids), LoanBookRow.month.in_(months))):
        got[loan_id] = got.get(loan_id, ZERO) + Decimal(amount)
    return got


def _loans(scheme_id: int, end: date, *, bank_id: int | None = None, loan_ids=None) -> list[Loan]:
    q = select(Loan).where(Loan.scheme_id == scheme_id, Loan.eligible.is_(True), Loan.disbursed_on < end)
    if bank_id is not None:
        q = q.where(Loan.bank_id == bank_id)
    if loan_ids is not None:
        q = q.where(Loan.id.in_(loan_ids))
    return list(db.session.scalars(q.order_by(Loan.disbursed_on, Loan.id)))


@dataclass
class Figures:
    """收放 of a set of loans over a period."""
    loans: int = 0
    firms: int = 0
    lent: Decimal = ZERO
    repaid: Decimal = ZERO
    live_loans: int = 0
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    npl: Decimal = ZERO
    cumulative_loans: int = 0
    cumulative_lent: Decimal = ZERO
    unreported: int = 0


def figures_of(scheme_id: int, loans: list[Loan], period: str) -> Figures:
    start, _end = bounds(period)
    months = months_of(period)
    pos = positions(scheme_id, loans, months[-1])
    repaid = repaid_in(scheme_id, [x.id for x in loans], months)
    new = [x for x in loans if x.disbursed_on >= start]
    f = Figures(loans=len(new), firms=len({x.enterprise_id for x in new}), lent=sum((x.amount for x in new), ZERO),
                repaid=sum(repaid.values(), ZERO), cumulative_loans=len(loans),
                cumulative_lent=sum((x.amount for x in loans), ZERO))
    for loan in loans:
        p = pos[loan.id]
        f.unreported += 0 if p.reported else 1
        if p.live:
            f.live_loans += 1
            f.outstanding += p.outstanding
            if p.status == "overdue":
                f.overdue += p.outstanding
            if p.npl:
                f.npl += p.outstanding
    return f


# ------------------------------------------------------------------ 江津: a bank's monthly report

BANK_COLUMNS = [N_("贷款编号"), N_("企业"), N_("放款日期"), N_("发放金额（元）"), N_("本月收回本金（元）"),
                N_("月末贷款余额（元）"), N_("五级分类"), N_("台账状态")]


def bank_monthly(scheme, bank, period: str, kind: str, name=localname) -> Table:
    """One bank's 增信贷 收放 of the month: a row per scheme loan it holds at the month's end or lent in it."""
    from_, end = bounds(period)
    loans = _loans(scheme.id, end, bank_id=bank.id)
    pos = positions(scheme.id, loans, period)
    repaid = repaid_in(scheme.id, [x.id for x in loans], [period])
    t = Table(kind, scheme.id, name(scheme), period, bank.id, name(bank), BANK_COLUMNS,
              generated_at=now().isoformat(timespec="seconds"))
    shown = [x for x in loans if pos[x.id].live or x.disbursed_on >= from_ or x.id in repaid]
    for loan in shown:
        p = pos[loan.id]
        t.rows.append([loan.no, name(loan.enterprise), loan.disbursed_on.isoformat(), loan.amount,
                       repaid.get(loan.id, ZERO), p.outstanding, CLASSIFICATIONS.get(p.classification, p.classification),
                       BOOK_STATUSES.get(p.status, p.status)])
    t.label_columns = [6, 7]
    f = figures_of(scheme.id, loans, period)
    t.total = [N_("合计"), "", "", sum((r[3] for r in t.rows), ZERO), f.repaid, f.outstanding, "", ""]
    t.summary = _summary(f)
    if f.unreported:
        t.notes.append([N_("{n} 笔贷款截至本期未报送月度贷款台账，按发放金额、正常类计"), {"n": f.unreported}])
    return t


def _summary(f: Figures) -> list[list]:
    return [[N_("本期发放笔数"), f.loans], [N_("本期发放企业数"), f.firms], [N_("本期发放金额（元）"), f.lent],
            [N_("本期收回本金（元）"), f.repaid], [N_("期末在贷笔数"), f.live_loans],
            [N_("期末贷款余额（元）"), f.outstanding], [N_("期末逾期贷款余额（元）"), f.overdue],
            [N_("期末不良贷款余额（元）"), f.npl], [N_("不良率"), ratio(f.npl, f.outstanding)],
            [N_("累计发放笔数"), f.cumulative_loans], [N_("累计发放金额（元）"), f.cumulative_lent]]


# ------------------------------------------------------------------ 江津: the guarantee company's monthly report

GUARANTEE_COLUMNS = [N_("合作银行"), N_("本月发放笔数"), N_("本月发放金额（元）"), N_("本月收回本金（元）"),
                     N_("月末在保笔数"), N_("月末在保余额（元）"), N_("月末逾期余额（元）"), N_("月末不良余额（元）"),
                     N_("本月代偿垫付（元）")]


def _advances(scheme_id: int, bank_id: int, start: date, end: date) -> Decimal:
    got = db.session.scalars(select(CompensationClaim.advance_amount).where(
        CompensationClaim.scheme_id == scheme_id, CompensationClaim.bank_id == bank_id,
        CompensationClaim.advance_paid_at >= _utc(start), CompensationClaim.advance_paid_at < _utc(end)))
    return sum((Decimal(a) for a in got if a is not None), ZERO)


def guarantee_monthly(scheme, org, period: str, kind: str, name=localname) -> Table:
    start, end = bounds(period)
    filed = select(Filing.loan_id).where(Filing.recipient_id == org.id)
    t = Table(kind, scheme.id, name(scheme), period, org.id, name(org), GUARANTEE_COLUMNS,
              generated_at=now().isoformat(timespec="seconds"))
    all_loans = []
    sums = [0, ZERO, ZERO, 0, ZERO, ZERO, ZERO, ZERO]
    for bank in scheme.member_orgs("bank"):
        loans = _loans(scheme.id, end, bank_id=bank.id, loan_ids=filed)
        all_loans += loans
        f = figures_of(scheme.id, loans, period)
        row = [f.loans, f.lent, f.repaid, f.live_loans, f.outstanding, f.overdue, f.npl,
               _advances(scheme.id, bank.id, start, end)]
        t.rows.append([name(bank)] + row)
        sums = [a + b for a, b in zip(sums, row)]
    t.total = [N_("合计")] + sums
    f = figures_of(scheme.id, all_loans, period)
    t.summary = _summary(f)
    t.notes.append([N_("在保余额按在本公司备案、期末未结清的政策内贷款本金余额计（平台未记录担保合同、担保费率和担保比例）"), {}])
    if f.unreported:
        t.notes.append([N_("{n} 笔贷款截至本期未报送月度贷款台账，按发放金额、正常类计"), {"n": f.unreported}])
    return t


# ------------------------------------------------------------------ 黔江: the quarterly 通报 for the joint meeting

QUARTER_COLUMNS = [N_("合作银行"), N_("本季发放笔数"), N_("本季发放金额（元）"), N_("累计发放笔数"), N_("累计发放金额（元）"),
                   N_("季末贷款余额（元）"), N_("季末逾期余额（元）"), N_("季末不良余额（元）"), N_("不良率"),
                   N_("本季补偿申请件数"), N_("累计补偿申请件数"), N_("本季补偿拨付（元）"), N_("累计补偿拨付（元）")]


def _claims(scheme_id: int, bank_id: int, start: date, end: date) -> tuple[int, int, Decimal, Decimal]:
    rows = db.session.execute(select(CompensationClaim.created_at, CompensationClaim.paid_at,
                                     CompensationClaim.fund_share_amount).where(
        CompensationClaim.scheme_id == scheme_id, CompensationClaim.bank_id == bank_id,
        CompensationClaim.created_at < _utc(end))).all()
    lo, hi = _utc(start), _utc(end)
    new = sum(1 for c, _p, _a in rows if c >= lo)
    paid = [(p, Decimal(a or 0)) for _c, p, a in rows if p is not None and p < hi]
    return new, len(rows), sum((a for p, a in paid if p >= lo), ZERO), sum((a for _p, a in paid), ZERO)


def quarterly(scheme, period: str, kind: str, org=None, name=localname) -> Table:
    start, end = bounds(period)
    t = Table(kind, scheme.id, name(scheme), period, None, name(org) if org else "", QUARTER_COLUMNS,
              generated_at=now().isoformat(timespec="seconds"))
    sums = [0, ZERO, 0, ZERO, ZERO, ZERO, ZERO, 0, 0, ZERO, ZERO]
    all_loans = []
    for bank in scheme.member_orgs("bank"):
        loans = _loans(scheme.id, end, bank_id=bank.id)
        all_loans += loans
        f = figures_of(scheme.id, loans, period)
        new, claims, paid, paid_all = _claims(scheme.id, bank.id, start, end)
        nums = [f.loans, f.lent, f.cumulative_loans, f.cumulative_lent, f.outstanding, f.overdue, f.npl]
        tail = [new, claims, paid, paid_all]
        t.rows.append([name(bank)] + nums + [ratio(f.npl, f.outstanding)] + tail)
        sums = [a + b for a, b in zip(sums, nums + tail)]
    t.total = [N_("合计")] + sums[:7] + [ratio(sums[6], sums[4])] + sums[7:]
    f = figures_of(scheme.id, all_loans, period)
    t.summary = _summary(f)
    if f.unreported:
        t.notes.append([N_("{n} 笔贷款截至本期未报送月度贷款台账，按发放金额、正常类计"), {"n": f.unreported}])
    return t


def quantized(v):
    return v.quantize(FEN) if isinstance(v, Decimal) else v
