"""A register (台账) as data: columns, filters and sort keys over one scoped query; one page of it with
the true count, and the whole filtered set as an Excel workbook.

Filters come from the query string and may hold anything: a value that does not parse (a date
``9999-99-99``, an id beyond 64 bits, ``NaN`` as an amount, a choice that is not offered) is left
out of the query and named in ``Listing.errors``, which the page shows; the export refuses a
filter with errors (400) so that a file never holds a set other than the one the page described.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from app.core.db import db
from app.core.exports import append_row
from app.core.i18n import _
from app.core.timeutil import fmt, now, parse_date, today
from app.core.validation import INT64_MAX, date_problem

PER_PAGE_CHOICES = (20, 50, 100, 200)
DEFAULT_PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000
MAX_TEXT = 100
MAX_AMOUNT = Decimal("1e15")
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any                                   # lazy label
    value: Callable[[Any], Any]                  # row -> cell value (Decimal, date, str, int)
    sort: Any = None                             # SQL expression to sort by, None: not sortable
    kind: str = "text"                           # text | money | date | datetime | int | pct
    link: Callable[[Any], str | None] | None = None   # row -> URL for the table (the first column)


@dataclass(frozen=True)
class Filter:
    name: str
    label: Any
    kind: str                                    # text | choice | int_choice | date_from | date_to | amount_min | amount_max | int
    apply: Callable[[Any, Any], Any]             # (query, parsed value) -> query
    choices: Callable[[Any], list[tuple[Any, str]]] | None = None   # user -> [(value, label)]


@dataclass(frozen=True)
class Register:
    name: str
    title: Any
    query: Callable[[Any], Any]                  # user -> scoped select of the row entity
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...]
    default_sort: str                            # column key, "-" prefix for descending
    id_column: Any                               # tie-breaker: stable pages
    may_view: Callable[[Any], bool]
    options: tuple = ()                          # loader options (eager loading of what columns show)


@dataclass
class Listing:
    register: Register
    values: dict[str, Any] = field(default_factory=dict)     # parsed, valid filter values
    raw: dict[str, str] = field(default_factory=dict)        # as typed (for the form)
    errors: list[str] = field(default_factory=list)
    sort: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    total: int = 0
    rows: list = field(default_factory=list)
    choices: dict[str, list] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def args(self, **over) -> dict[str, Any]:
        """The query-string arguments of this listing (valid filters, sort, size), with changes."""
        out = {k: self.raw[k] for k in self.values if self.raw.get(k) not in (None, "")}
        out["sort"] = self.sort
        out["per_page"] = self.per_page
        out.update(over)
        return {k: v for k, v in out.items() if v not in (None, "")}

    def description(self) -> str:
        parts = []
        for f in self.register.filters:
            if f.name in self.values:
                shown = self.raw.get(f.name, "")
                for v, label in self.choices.get(f.name, []):
                    if str(v) == shown:
                        shown = label
                parts.append(f"{f.label}: {shown}")
        return "；".join(parts) or _("全部")


def _int(raw: str) -> int | None:
    try:
        n = int(raw.strip())
    except (ValueError, AttributeError):
        return None
    return n if -INT64_MAX <= n <= INT64_MAX else None


def _amount(raw: str) -> Decimal | None:
    try:
        d = Decimal(raw.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    if not d.is_finite() or abs(d) > MAX_AMOUNT:
        return None
    return d


def _parse(f: Filter, raw: str, choices: list[tuple[Any, str]] | None) -> tuple[Any, str | None]:
    """(value, error): value None and no error means "not filtered"."""
    raw = raw.strip()
    if not raw:
        return None, None
    bad = _("{label}：无效的值").format(label=f.label)
    if f.kind == "text":
        return (raw[:MAX_TEXT], None)
    if f.kind in ("choice", "int_choice"):
        allowed = {str(v): v for v, _label in choices or []}
        if raw not in allowed:
            return None, bad
        return allowed[raw], None
    if f.kind == "int":
        n = _int(raw)
        return (n, None) if n is not None else (None, bad)
    if f.kind in ("date_from", "date_to"):
        d = parse_date(raw)
        if d is None:
            return None, _("{label}：日期格式应为 YYYY-MM-DD").format(label=f.label)
        problem = date_problem(d, today())
        return (d, None) if problem is None else (None, f"{f.label}：{problem}")
    if f.kind in ("amount_min", "amount_max"):
        a = _amount(raw)
        return (a, None) if a is not None else (None, bad)
    return None, bad


def build(register: Register, user, args, *, paginate: bool = True) -> Listing:
    """Parse the query string, run the count and (when ``paginate``) one page."""
    lst = Listing(register)
    q = register.query(user)
    for f in register.filters:
        raw = args.get(f.name, "")
        if not isinstance(raw, str):
            raw = ""
        lst.raw[f.name] = raw
        choices = f.choices(user) if f.choices else None
        if choices is not None:
            lst.choices[f.name] = choices
        value, error = _parse(f, raw, choices)
        if error:
            lst.errors.append(error)
        elif value is not None:
            lst.values[f.name] = value
            q = f.apply(q, value)
    lo, hi = ([lst.values.get(f.name) for f in register.filters if f.kind == k] for k in ("date_from", "date_to"))
    if any(a and b and a > b for a, b in zip(lo, hi)):
        lst.errors.append(_("起始日期晚于截止日期"))
    lst.total = db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    lst.sort = _sort_key(register, args.get("sort", ""))
    q = q.order_by(None).order_by(*_order(register, lst.sort)).options(*register.options)
    if paginate:
        lst.per_page = _per_page(args.get("per_page", ""))
        page = _int(args.get("page", "") or "1") or 1
        lst.page = min(max(page, 1), lst.pages)
        q = q.offset((lst.page - 1) * lst.per_page).limit(lst.per_page)
    lst.rows = list(db.session.scalars(q).unique()) if (paginate or lst.total <= EXPORT_MAX_ROWS) else []
    return lst


def count(register: Register, user) -> int:
    """The number of rows the user sees in the register, unfiltered."""
    return db.session.scalar(select(func.count()).select_from(register.query(user).subquery())) or 0


def _per_page(raw) -> int:
    n = _int(raw) if isinstance(raw, str) and raw else None
    return n if n in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def _sort_key(register: Register, raw) -> str:
    raw = raw if isinstance(raw, str) else ""
    key = raw.lstrip("-")
    if any(c.key == key and c.sort is not None for c in register.columns):
        return raw if raw.count("-") <= 1 else key
    return register.default_sort


def _order(register: Register, sort: str) -> list:
    key = sort.lstrip("-")
    col = next(c for c in register.columns if c.key == key)
    desc = sort.startswith("-")
    return [col.sort.desc() if desc else col.sort.asc(), register.id_column.desc() if desc else register.id_column.asc()]


def workbook(listing: Listing, title: str) -> Workbook:
    """Every row of the filtered set, typed cells (amounts as numbers, dates as dates)."""
    wb = Workbook()
    ws = wb.active
    ws.title = str(listing.register.title)[:31]
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [_("筛选"), listing.description()])
    append_row(ws, [_("共 {n} 条").format(n=listing.total), _("导出时间"), fmt(now())])
    append_row(ws, [])
    cols = listing.register.columns
    append_row(ws, [str(c.label) for c in cols])
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    header_row = ws.max_row
    for row in listing.rows:
        append_row(ws, [_cell(c, row) for c in cols])
        r = ws.max_row
        for i, c in enumerate(cols, start=1):
            if c.kind == "money":
                ws.cell(r, i).number_format = MONEY_FORMAT
            elif c.kind == "date":
                ws.cell(r, i).number_format = "yyyy-mm-dd"
            elif c.kind == "pct":
                ws.cell(r, i).number_format = "0.00%"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[ws.cell(header_row, i).column_letter].width = 22 if c.kind != "text" else 28
    return wb


def _cell(col: Column, row):
    v = col.value(row)
    if col.kind == "datetime":
        return fmt(v) if v else ""
    if v is None:
        return ""
    if isinstance(v, (Decimal, int, date)):
        return v
    return str(v)
