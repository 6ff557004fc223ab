"""Reporting the loan book: ONE validation for the three ways in (form per loan, Excel upload, API).

:func:`report` takes the bank, the month and the rows (however they arrived), checks every row and
lists every problem at once (:class:`BookRefused`, one :class:`RowError` per problem with its line
and column); nothing is stored unless every row is valid.  Storing is idempotent per bank and
month: a row is keyed by (loan, month), so the same book sent twice changes nothing, and a book
(``replace=True``: Excel and the API send the whole month) also removes that month's rows of loans
it no longer lists.  The form sends one loan (``replace=False``).

After storing, each loan whose latest month was touched gets that row's values (its *current*
position, see app/loanbook/models.py), and the thresholds run on the new balances: the fund-size
review and, for every bank and scheme touched, the NPL suspension rule (app/fund/thresholds.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.core import audit
from app.core import validation as v
from app.core.db import db
from app.core.errors import DomainError, NotAllowed
from app.core.i18n import _, source_language
from app.core.money import MoneyError, yuan
from app.core.timeutil import now, today
from app.fund import thresholds
from app.loanbook.models import BOOK_STATUSES, CLOSED_BOOK_STATUSES, LoanBookRow
from app.loans.models import CLASSIFICATIONS, Loan

SUBJECT = "loan_book"          # timeline subject: the bank (subject_id = bank organisation id)
MAX_ROWS = 5000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# the loan's status for each reported book status (filing and compensated loans keep theirs while live)
LOAN_STATUS_OF = {"performing": "active", "renewed": "active", "overdue": "overdue", "repaid": "repaid",
                  "written_off": "written_off"}
# English names accepted beside the codes and the Chinese labels (Excel and API)
_CLASS_EN = {"normal": "normal", "special mention": "special_mention", "substandard": "substandard",
             "doubtful": "doubtful", "loss": "loss"}
_STATUS_EN = {"performing": "performing", "overdue": "overdue", "repaid": "repaid", "renewed": "renewed",
              "written off": "written_off"}


@dataclass
class RowInput:
    loan_no: object
    outstanding_principal: object
    repaid_principal: object
    classification: object
    status: object
    line: int = 0            # the Excel row number, the API list index, 0 for the form


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


class BookRefused(DomainError):
    """The book has invalid rows; ``errors`` lists every one."""

    status = 422

    def __init__(self, errors: list[RowError]):
        super().__init__(_("贷款台账有 {n} 处错误，未保存任何数据").format(n=len(errors)))
        self.errors = errors


@dataclass
class BookResult:
    bank_id: int
    month: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    stored: list[LoanBookRow] = field(default_factory=list)
    suspended: list = field(default_factory=list)


# ---------------------------------------------------------------------------- months

def month_problem(raw) -> str | None:
    if not isinstance(raw, str) or not _MONTH.match(raw):
        return _("月份格式应为 YYYY-MM")
    y, m = int(raw[:4]), int(raw[5:])
    if not 1 <= m <= 12 or y < v.DATE_MIN.year:
        return _("月份格式应为 YYYY-MM")
    if raw > current_month():
        return _("不能报送未来月份")
    return None


def current_month() -> str:
    return today().strftime("%Y-%m")


def month_end(month: str) -> date:
    first = date(int(month[:4]), int(month[5:]), 1)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def previous_month(month: str, n: int = 1) -> str:
    y, m = int(month[:4]), int(month[5:]) - n
    while m < 1:
        y, m = y - 1, m + 12
    return f"{y:04d}-{m:02d}"


# ---------------------------------------------------------------------------- one value at a time

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code(value, codes: dict, english: dict) -> str | None:
    raw = _text(value)
    if raw in codes:
        return raw
    for code, label in codes.items():
        if raw == str(label):
            return code
    return english.get(raw.lower().replace("_", " "))


def _amount(value, line: int, column: str, errors: list[RowError], cap: Decimal) -> Decimal | None:
    if isinstance(value, bool) or value is None or _text(value) == "":
        errors.append(RowError(line, column, _("请填写金额")))
        return None
    if isinstance(value, float):
        value = repr(value)       # Excel cells arrive as floats: take their shortest exact text
    try:
        d = yuan(value)
    except MoneyError:
        errors.append(RowError(line, column, _("金额无效（元，最多两位小数）")))
        return None
    if d < 0:
        errors.append(RowError(line, column, _("金额不能为负数")))
        return None
    if d > cap:
        errors.append(RowError(line, column, _("金额不能超过贷款金额 {amount} 元").format(amount=cap)))
        return None
    return d


# ---------------------------------------------------------------------------- the validation

def _closed_before(loan_ids: list[int], month: str) -> dict[int, str]:
    """Loans closed (repaid, written off) in a month before ``month``: loan id → that month."""
    if not loan_ids:
        return {}
    rows = db.session.execute(select(LoanBookRow.loan_id, func.min(LoanBookRow.month)).where(
        LoanBookRow.loan_id.in_(loan_ids), LoanBookRow.month < month,
        LoanBookRow.status.in_(CLOSED_BOOK_STATUSES)).group_by(LoanBookRow.loan_id)).all()
    return dict(rows)


def check(bank, month: str, rows: list[RowInput]) -> tuple[list[tuple[RowInput, Loan, dict]], list[RowError]]:
    """Every problem of the book at once; the valid rows with their loans and clean values."""
    errors: list[RowError] = []
    problem = month_problem(month)
    if problem:
        return [], [RowError(0, "month", problem)]
    if not rows:
        return [], [RowError(0, "rows", _("台账中没有任何贷款"))]
    if len(rows) > MAX_ROWS:
        return [], [RowError(0, "rows", _("一次最多报送 {n} 笔贷款").format(n=MAX_ROWS))]
    nos = {_text(r.loan_no) for r in rows}
    nos = {n for n in nos if n and len(n) <= 30 and not v.bad_character(n)}
    loans = {l.no: l for l in db.session.scalars(select(Loan).where(Loan.bank_id == bank.id, Loan.no.in_(nos)))} \
        if nos else {}
    closed = _closed_before([l.id for l in loans.values()], month)
    seen: dict[str, int] = {}
    good = []
    end = month_end(month)
    for r in rows:
        n_before = len(errors)
        no = _text(r.loan_no)
        loan = loans.get(no)
        if not no:
            errors.append(RowError(r.line, "loan_no", _("请填写贷款编号")))
        elif loan is None:
            errors.append(RowError(r.line, "loan_no", _("本行没有编号为 {no} 的政策内贷款").format(
                no=no[:30] if not v.bad_character(no) else "?")))
        elif no in seen:
            errors.append(RowError(r.line, "loan_no", _("贷款 {no} 在第 {line} 行已经出现").format(no=no, line=seen[no])))
        else:
            seen[no] = r.line
            if loan.disbursed_on > end:
                errors.append(RowError(r.line, "month", _("贷款 {no} 于 {day} 放款，不能报送此前月份").format(
                    no=no, day=loan.disbursed_on)))
            if loan.id in closed:
                errors.append(RowError(r.line, "status", _("贷款 {no} 已于 {month} 结清或核销").format(
                    no=no, month=closed[loan.id])))
        cap = loan.amount if loan is not None else v.MONEY_MAX
        balance = _amount(r.outstanding_principal, r.line, "outstanding_principal", errors, cap)
        repaid = _amount(r.repaid_principal, r.line, "repaid_principal", errors, cap)
        cls = _code(r.classification, CLASSIFICATIONS, _CLASS_EN)
        if cls is None:
            errors.append(RowError(r.line, "classification", _("五级分类应为 正常、关注、次级、可疑 或 损失")))
        status = _code(r.status, BOOK_STATUSES, _STATUS_EN)
        if status is None:
            errors.append(RowError(r.line, "status", _("贷款状态应为 正常还款、逾期、已结清、已续贷 或 已核销")))
        if status == "repaid" and balance is not None and balance != 0:
            errors.append(RowError(r.line, "outstanding_principal", _("已结清的贷款余额应为 0")))
        if status in ("performing", "overdue", "renewed") and balance is not None and balance == 0:
            errors.append(RowError(r.line, "outstanding_principal", _("余额为 0 的贷款状态应为已结清或已核销")))
        if status == "written_off" and cls is not None and cls != "loss":
            errors.append(RowError(r.line, "classification", _("已核销的贷款应为损失类")))
        if len(errors) == n_before:
            good.append((r, loan, {"outstanding_principal": balance, "repaid_principal": repaid,
                                   "classification": cls, "status": status}))
    return good, errors


# ---------------------------------------------------------------------------- storing

def _mirror(loan: Loan) -> bool:
    """Give the loan the values of its latest row; True when its classification changed."""
    latest = db.session.scalar(select(LoanBookRow).where(LoanBookRow.loan_id == loan.id)
                               .order_by(LoanBookRow.month.desc()).limit(1))
    if latest is None:
        return False
    before = loan.classification
    loan.outstanding_principal = latest.outstanding_principal
    loan.classification = latest.classification
    new_status = LOAN_STATUS_OF[latest.status]
    if new_status in ("repaid", "written_off") or loan.status not in ("filing", "compensated"):
        loan.status = new_status
    return before != loan.classification


def report(bank, month: str, rows: list[RowInput], *, source: str, user=None, token=None,
           replace: bool = True) -> BookResult:
    """Check the bank's book for the month and store it whole, or refuse it whole (BookRefused)."""
    if bank is None or bank.kind != "bank":
        raise NotAllowed(_("只有合作银行可以报送贷款台账"))
    if user is not None and user.organisation_id != bank.id:
        raise NotAllowed(_("只能报送本行的贷款台账"))
    good, errors = check(bank, month, rows)
    if errors:
        raise BookRefused(errors)
    result = BookResult(bank.id, month)
    existing = {r.loan_id: r for r in db.session.scalars(select(LoanBookRow).where(
        LoanBookRow.bank_id == bank.id, LoanBookRow.month == month).with_for_update())}
    touched: dict[int, Loan] = {}
    t = now()
    for _r, loan, values in good:
        row = existing.pop(loan.id, None)
        if row is None:
            row = LoanBookRow(loan_id=loan.id, bank_id=bank.id, scheme_id=loan.scheme_id, month=month,
                              source=source, reported_by_id=user.id if user else None,
                              api_token_id=token.id if token else None, created_at=t, updated_at=t, **values)
            row.loan = loan
            db.session.add(row)
            result.inserted += 1
            touched[loan.id] = loan
        elif any(getattr(row, k) != val for k, val in values.items()):
            for k, val in values.items():
                setattr(row, k, val)
            row.source, row.updated_at = source, t
            row.reported_by_id, row.api_token_id = (user.id if user else None), (token.id if token else None)
            result.updated += 1
            touched[loan.id] = loan
        else:
            result.unchanged += 1
        result.stored.append(row)
    if replace:
        for row in existing.values():
            touched[row.loan_id] = row.loan
            db.session.delete(row)
            result.removed += 1
    db.session.flush()
    reclassified = [loan for loan in touched.values() if _mirror(loan)]
    db.session.flush()
    with source_language():
        audit.record(SUBJECT, bank.id, "loan_book_reported", user, details={
            "month": month, "source": source, "token": token.prefix if token else None,
            "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged,
            "removed": result.removed, "reclassified": [l.no for l in reclassified]}, visible_to_enterprise=False)
    for scheme_id, bank_id in sorted({(l.scheme_id, l.bank_id) for l in touched.values()}):
        s = thresholds.after_balances_changed(scheme_id, bank_id,
                                              [l for l in reclassified if l.scheme_id == scheme_id])
        if s is not None:
            result.suspended.append(s)
    return result


# ---------------------------------------------------------------------------- reading

def expected_loans(bank_id: int, month: str, scheme_id: int | None = None) -> list[Loan]:
    """The bank's loans its book for the month must list: disbursed by the month's end, not closed before."""
    q = select(Loan).where(Loan.bank_id == bank_id, Loan.disbursed_on <= month_end(month))
    if scheme_id is not None:
        q = q.where(Loan.scheme_id == scheme_id)
    loans = list(db.session.scalars(q.order_by(Loan.disbursed_on, Loan.id)))
    closed = _closed_before([l.id for l in loans], month)
    return [l for l in loans if l.id not in closed]


def month_rows(bank_id: int, month: str, scheme_id: int | None = None) -> list[LoanBookRow]:
    q = select(LoanBookRow).join(Loan, Loan.id == LoanBookRow.loan_id).where(
        LoanBookRow.bank_id == bank_id, LoanBookRow.month == month)
    if scheme_id is not None:
        q = q.where(LoanBookRow.scheme_id == scheme_id)
    return list(db.session.scalars(q.order_by(Loan.no)))


@dataclass
class Coverage:
    month: str
    expected: list[Loan]
    reported: list[LoanBookRow]

    @property
    def missing(self) -> list[Loan]:
        have = {r.loan_id for r in self.reported}
        return [l for l in self.expected if l.id not in have]

    @property
    def complete(self) -> bool:
        return not self.missing


def coverage(bank_id: int, month: str, scheme_id: int | None = None) -> Coverage:
    return Coverage(month, expected_loans(bank_id, month, scheme_id), month_rows(bank_id, month, scheme_id))


def history(loan_id: int) -> list[LoanBookRow]:
    return list(db.session.scalars(select(LoanBookRow).where(LoanBookRow.loan_id == loan_id)
                                   .order_by(LoanBookRow.month.desc())))


def as_of(month: str, *, bank_id: int | None = None, scheme_id: int | None = None) -> dict[int, LoanBookRow]:
    """Each loan's position at the end of ``month``: its row of that month or the latest before (loan id → row)."""
    latest = select(LoanBookRow.loan_id, func.max(LoanBookRow.month).label("m")).where(LoanBookRow.month <= month)
    if bank_id is not None:
        latest = latest.where(LoanBookRow.bank_id == bank_id)
    if scheme_id is not None:
        latest = latest.where(LoanBookRow.scheme_id == scheme_id)
    latest = latest.group_by(LoanBookRow.loan_id).subquery()
    rows = db.session.scalars(select(LoanBookRow).join(
        latest, (latest.c.loan_id == LoanBookRow.loan_id) & (latest.c.m == LoanBookRow.month)))
    return {r.loan_id: r for r in rows}


def months_reported(bank_id: int | None = None, limit: int = 36) -> list[tuple]:
    """(bank id, month, rows, outstanding total) per bank and month, newest first."""
    q = select(LoanBookRow.bank_id, LoanBookRow.month, func.count(LoanBookRow.id),
               func.coalesce(func.sum(LoanBookRow.outstanding_principal), 0))
    if bank_id is not None:
        q = q.where(LoanBookRow.bank_id == bank_id)
    q = q.group_by(LoanBookRow.bank_id, LoanBookRow.month).order_by(LoanBookRow.month.desc(), LoanBookRow.bank_id)
    return [(b, m, n, Decimal(str(total)).quantize(Decimal("0.01"))) for b, m, n, total in
            db.session.execute(q.limit(limit))]


# ---------------------------------------------------------------------------- tracing a figure to its rows

@dataclass
class Position:
    """One loan inside a figure: the values used and where they come from."""
    loan: Loan
    row: LoanBookRow | None        # the loan's latest book row, if any

    @property
    def source(self) -> str:
        """``book`` (the latest row), ``approved`` (never reported: the approved amount) or ``event``
        (changed after the latest row, e.g. by an overdue report)."""
        if self.row is None:
            return "approved"
        same = (self.row.outstanding_principal == self.loan.outstanding_principal
                and self.row.classification == self.loan.classification)
        return "book" if same else "event"


def positions(loans: list[Loan]) -> list[Position]:
    ids = [l.id for l in loans]
    latest: dict[int, LoanBookRow] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        newest = select(LoanBookRow.loan_id, func.max(LoanBookRow.month).label("m")).where(
            LoanBookRow.loan_id.in_(chunk)).group_by(LoanBookRow.loan_id).subquery()
        for r in db.session.scalars(select(LoanBookRow).join(
                newest, (newest.c.loan_id == LoanBookRow.loan_id) & (newest.c.m == LoanBookRow.month))):
            latest[r.loan_id] = r
    return [Position(l, latest.get(l.id)) for l in loans]
