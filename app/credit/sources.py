"""Credit data loaded from its source units (信用黔江, 黔江 seed 000 方案二(二)1 and 附件1 arts. 7-8).

* The **categories** of source units (tax, social insurance, housing fund, water, power, gas,
  business registration, courts, ...) and each one's column template are data:
  ``app/credit/data/source_categories.json``, loaded once at import (:data:`CATEGORIES`).
* Each source unit (organisation of kind ``data_source``) reports one category
  (:class:`~app.credit.models.CreditSourceUnit`, set by an administrator on ``/credit/sources``).
* :func:`template_workbook` / :func:`template_csv`: the downloadable template of a category.
* :func:`read_table` + :func:`validate_rows` (pure, no database): every problem of a file as
  (row, column, message) in the reader's language; :func:`load_file` stores nothing unless the file
  is clean, and a clean load **replaces** the unit's earlier load of the same category and period.
* :func:`facts_of`: the credit facts a scheme's gates read (rating, credit report, 失信 records) --
  from loaded data only, never from what the firm declared.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import delete, or_, select

from app.accounts.models import Organisation, OrgKind
from app.core import audit, uscc
from app.core.db import db
from app.core.errors import DomainError, NotAllowed
from app.core.exports import append_row
from app.core.i18n import _, get_locale
from app.core.timeutil import now
from app.credit.models import CreditDataUpload, CreditRecord, CreditSourceUnit
from app.policies.params import RATINGS

DATA_FILE = Path(__file__).parent / "data" / "source_categories.json"
SUBJECT = "credit_data_upload"
TYPES = ("uscc", "text", "period", "amount", "quantity", "integer", "date", "choice", "rating")
MAX_ROWS = 50000
MAX_AMOUNT = Decimal("1e14")
PERIOD_RE = re.compile(r"(\d{4})Q([1-4])")
DISHONEST = "失信被执行人"       # the judicial record kind that is a 失信 record (凌源 seed 003 line 74)


# ---------------------------------------------------------------------------- the categories (data)

@dataclass(frozen=True)
class Column:
    key: str
    header: str                 # the template's header (source language)
    header_en: str
    type: str
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 200
    not_before: str | None = None   # key of a date column this one may not precede

    @property
    def label(self) -> str:
        return self.header_en if self.header_en and _english() else self.header


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    units: str                  # which source units report it (from the seeds)
    source: str                 # seed citation
    columns: tuple[Column, ...]
    unique_by: tuple[str, ...] = ("uscc",)

    @property
    def label(self) -> str:
        return self.name_en if self.name_en and _english() else self.name

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def _english() -> bool:
    try:
        return get_locale() == "en"
    except RuntimeError:        # outside an application context
        return False


def load_categories(path: Path = DATA_FILE) -> dict[str, Category]:
    """Read and check the categories file; a wrong file fails loudly at start-up."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Category] = {}
    for c in doc["categories"]:
        cols = tuple(Column(key=k["key"], header=k["header"], header_en=k.get("header_en", ""), type=k["type"],
                            required=bool(k.get("required", True)), choices=tuple(k.get("choices", ())),
                            max_length=int(k.get("max_length", 200)), not_before=k.get("not_before"))
                     for k in c["columns"])
        keys = [k.key for k in cols]
        problems = [f"unknown type {k.type!r}" for k in cols if k.type not in TYPES]
        problems += [f"duplicate column {k}" for k in set(keys) if keys.count(k) > 1]
        problems += [f"column {k.key!r} of type choice has no choices" for k in cols if k.type == "choice" and not k.choices]
        problems += [f"not_before names unknown column {k.not_before!r}" for k in cols
                     if k.not_before and k.not_before not in keys]
        if [k.key for k in cols[:3]] != ["uscc", "firm_name", "period"]:
            problems.append("the first columns must be uscc, firm_name, period")
        unique_by = tuple(c.get("unique_by", ["uscc"]))
        problems += [f"unique_by names unknown column {k!r}" for k in unique_by if k not in keys]
        if c["code"] in out:
            problems.append("duplicate category")
        if problems:
            raise ValueError(f"{path}: category {c['code']!r}: " + "; ".join(problems))
        out[c["code"]] = Category(code=c["code"], name=c["name"], name_en=c.get("name_en", ""), units=c.get("units", ""),
                                  source=c.get("source", ""), columns=cols, unique_by=unique_by)
    return out


CATEGORIES: dict[str, Category] = load_categories()


def category_label(code: str) -> str:
    cat = CATEGORIES.get(code)
    return cat.label if cat else code


# ---------------------------------------------------------------------------- templates

def template_workbook(cat: Category) -> Workbook:
    """Sheet 1: the header row to fill in; sheet 2 (填写说明): what each column takes."""
    wb = Workbook()
    ws = wb.active
    ws.title = cat.name[:31]
    append_row(ws, [c.header for c in cat.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, c in enumerate(cat.columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(14, len(c.header) * 2 + 2)
    notes = wb.create_sheet("填写说明")
    append_row(notes, ["列", "必填", "格式", "Column", "Format"])
    for c in cat.columns:
        zh, en = _format_note(c)
        append_row(notes, [c.header, "是" if c.required else "否", zh, c.header_en, en])
    return wb


def _format_note(c: Column) -> tuple[str, str]:
    if c.type in ("choice", "rating"):
        opts = "、".join(c.choices if c.type == "choice" else RATINGS)
        return f"以下之一：{opts}", f"one of: {opts}"
    return {
        "uscc": ("18 位统一社会信用代码（GB 32100-2015，含校验位）", "18-character USCC with its check character"),
        "text": (f"文字，最多 {c.max_length} 字", f"text, at most {c.max_length} characters"),
        "period": ("采集期间，如 2025Q3", "the collection period, e.g. 2025Q3"),
        "amount": ("金额（元），最多两位小数，不为负", "amount in yuan, at most two decimals, not negative"),
        "quantity": ("数量，最多四位小数，不为负", "quantity, at most four decimals, not negative"),
        "integer": ("非负整数", "whole number, not negative"),
        "date": ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
    }[c.type]


def template_csv(cat: Category) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese headers correctly."""
    buf = io.StringIO()
    csv.writer(buf).writerow([c.header for c in cat.columns])
    return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------- reading and validating

@dataclass(frozen=True)
class RowError:
    row: int          # the spreadsheet's row number (1: the header row; 0: the file as a whole)
    column: str       # the column's header in the reader's language ("" for the whole row or file)
    message: str


class FileRefused(DomainError):
    """The file has problems: nothing was stored; ``errors`` lists every one of them."""

    def __init__(self, errors: list[RowError]):
        super().__init__(_("文件有 {n} 处错误，未载入任何记录").format(n=len(errors)))
        self.errors = errors


def read_table(file_name: str, data: bytes) -> list[list]:
    """The rows of an .xlsx workbook (first sheet) or a .csv file (UTF-8, or GB18030 as saved by a
    Chinese Excel).  Raises :class:`FileRefused` when it is neither."""
    name = (file_name or "").lower()
    if not data:
        raise FileRefused([RowError(0, "", _("文件是空的"))])
    if name.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FileRefused([RowError(0, "", _("CSV 文件应为 UTF-8 或 GB18030 编码"))])
        return [list(r) for r in csv.reader(io.StringIO(text))]
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:   # openpyxl raises many kinds for a file that is not a workbook
            raise FileRefused([RowError(0, "", _("文件不是有效的 Excel（.xlsx）工作簿"))]) from None
        try:
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    raise FileRefused([RowError(0, "", _("请上传按模板填写的 .xlsx 或 .csv 文件"))])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _number(value) -> Decimal:
    """A spreadsheet number or text as an exact Decimal (a float cell by its shortest decimal form)."""
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, float):
        value = repr(value)
    d = Decimal(_text(value).replace(",", "").replace("，", ""))
    if not d.is_finite():
        raise InvalidOperation
    return d


def _cell(col: Column, raw, period: str):
    """(value to store, None) or (None, message)."""
    if col.type == "uscc":
        code = _text(raw).upper()
        problem = uscc.validate(code)
        return (None, problem) if problem else (code, None)
    if col.type == "text":
        text = _text(raw)
        if len(text) > col.max_length:
            return None, _("最多 {n} 个字").format(n=col.max_length)
        return text, None
    if col.type == "period":
        text = _text(raw).upper()
        if not PERIOD_RE.fullmatch(text):
            return None, _("期间格式应为 YYYYQn（如 2025Q3）")
        if text != period:
            return None, _("期间应为本次采集的 {period}，不是 {given}").format(period=period, given=text)
        return text, None
    if col.type in ("amount", "quantity", "integer"):
        try:
            d = _number(raw)
        except (InvalidOperation, ValueError):
            d = None
        places = {"amount": 2, "quantity": 4, "integer": 0}[col.type]
        if d is None or d < 0 or d >= MAX_AMOUNT or d != d.quantize(Decimal(1).scaleb(-places)):
            return None, {"amount": _("应为以元为单位、最多两位小数的非负金额"),
                          "quantity": _("应为最多四位小数的非负数"),
                          "integer": _("应为非负整数")}[col.type]
        if col.type == "integer":
            return int(d), None
        return str(d.quantize(Decimal(1).scaleb(-places))), None
    if col.type == "date":
        if isinstance(raw, datetime):
            return raw.date().isoformat(), None
        if isinstance(raw, date):
            return raw.isoformat(), None
        try:
            return date.fromisoformat(_text(raw)).isoformat(), None
        except ValueError:
            return None, _("应为日期 YYYY-MM-DD（如 2025-09-30）")
    if col.type == "rating":
        text = _text(raw).upper()
        return (text, None) if text in RATINGS else (None, _("应为以下信用等级之一：{opts}").format(opts="、".join(RATINGS)))
    # choice
    text = _text(raw)
    return (text, None) if text in col.choices else (None, _("应为以下之一：{opts}").format(opts="、".join(col.choices)))


@dataclass
class Row:
    row: int
    values: dict = field(default_factory=dict)


def validate_rows(cat: Category, period: str, rows: list[list]) -> tuple[list[Row], list[RowError]]:
    """Every problem of the file at once; the clean rows only mean something when there is none."""
    errors: list[RowError] = []
    if not rows or all(_text(h) == "" for h in rows[0]):
        return [], [RowError(1, "", _("第 1 行应为模板的表头"))]
    by_name = {}
    for c in cat.columns:
        for name in (c.header, c.header_en, c.key):
            if name:
                by_name[name] = c
    positions: dict[str, int] = {}
    for i, h in enumerate(rows[0]):
        name = _text(h)
        if not name:
            continue
        col = by_name.get(name)
        if col is None:
            errors.append(RowError(1, name, _("不是“{cat}”模板中的列").format(cat=cat.label)))
        elif col.key in positions:
            errors.append(RowError(1, col.label, _("列重复")))
        else:
            positions[col.key] = i
    for c in cat.columns:
        if c.required and c.key not in positions:
            errors.append(RowError(1, c.label, _("缺少必填列")))
    if errors:
        return [], errors

    out: list[Row] = []
    seen: dict[tuple, int] = {}
    for n, raw in enumerate(rows[1:], start=2):
        cells = {k: (raw[i] if i < len(raw) else None) for k, i in positions.items()}
        if all(_text(v) == "" for v in cells.values()):
            continue
        if len(out) >= MAX_ROWS:
            errors.append(RowError(n, "", _("一个文件最多 {n} 行数据").format(n=MAX_ROWS)))
            break
        row = Row(n)
        row_errors = []
        for c in cat.columns:
            raw_value = cells.get(c.key)
            if isinstance(raw_value, str) and "\x00" in raw_value:
                row_errors.append(RowError(n, c.label, _("含有不允许的控制字符")))
                continue
            if _text(raw_value) == "":
                if c.required:
                    row_errors.append(RowError(n, c.label, _("必填")))
                continue
            value, problem = _cell(c, raw_value, period)
            if problem:
                row_errors.append(RowError(n, c.label, problem))
            else:
                row.values[c.key] = value
        for c in cat.columns:
            if c.not_before and c.key in row.values and c.not_before in row.values \
                    and row.values[c.key] < row.values[c.not_before]:
                row_errors.append(RowError(n, c.label, _("不能早于“{other}”").format(other=cat.column(c.not_before).label)))
        if not row_errors:
            key = tuple(row.values.get(k) for k in cat.unique_by)
            if key in seen:
                row_errors.append(RowError(n, "", _("与第 {row} 行重复（{cols}）").format(
                    row=seen[key], cols="、".join(cat.column(k).label for k in cat.unique_by))))
            else:
                seen[key] = n
        errors += row_errors
        if not row_errors:
            out.append(row)
    if not out and not errors:
        errors.append(RowError(0, "", _("文件中没有数据行")))
    return out, errors


# ---------------------------------------------------------------------------- source units and loading

def unit_category(org_id: int) -> Category | None:
    code = db.session.scalar(select(CreditSourceUnit.category).where(CreditSourceUnit.org_id == org_id))
    return CATEGORIES.get(code) if code else None


def assign_unit(org: Organisation, code: str, user=None) -> CreditSourceUnit:
    """An administrator sets which category a source unit reports (one per unit)."""
    if org.kind != OrgKind.data_source.value:
        raise DomainError(_("只有信用信息来源单位可以指定信用信息类别"))
    if code not in CATEGORIES:
        raise DomainError(_("没有这个信用信息类别：{code}").format(code=code))
    row = db.session.scalar(select(CreditSourceUnit).where(CreditSourceUnit.org_id == org.id))
    before = row.category if row else None
    if row is None:
        row = CreditSourceUnit(org_id=org.id, category=code)
        db.session.add(row)
    row.category, row.assigned_by_id, row.assigned_at = code, user.id if user else None, now()
    db.session.flush()
    audit.record("organisation", org.id, "credit_source_assigned", user, details={"from": before, "to": code})
    return row


def _summary(cat: Category, values: dict) -> str:
    """The row in one line, in the source language (stored)."""
    return "；".join(f"{c.header}：{values[c.key]}" for c in cat.columns[3:] if c.key in values)


def load_file(user, source_org: Organisation, period: str, file_name: str, data: bytes,
              duty_id: int | None = None) -> CreditDataUpload:
    """Validate the whole file against the unit's category; store nothing unless it is clean.  A
    clean load replaces the unit's earlier load of the same category and period (idempotent: loading
    the same file twice leaves one set of records)."""
    if user.organisation_id != source_org.id:
        raise NotAllowed(_("只有信用信息来源单位本身可以报送其信用信息"))
    cat = unit_category(source_org.id)
    if cat is None:
        raise DomainError(_("本单位尚未指定报送的信用信息类别，请联系管理员"))
    rows, errors = validate_rows(cat, period, read_table(file_name, data))
    if errors:
        raise FileRefused(errors)
    earlier = list(db.session.scalars(select(CreditDataUpload).where(
        CreditDataUpload.source_org_id == source_org.id, CreditDataUpload.category == cat.code,
        CreditDataUpload.period == period, CreditDataUpload.replaced_at.is_(None)).with_for_update()))
    upload = CreditDataUpload(source_org_id=source_org.id, category=cat.code, period=period, duty_id=duty_id,
                              file_name=file_name[:255], sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                              row_count=len(rows), uploaded_by_id=user.id, uploaded_at=now())
    db.session.add(upload)
    db.session.flush()
    if earlier:
        db.session.execute(delete(CreditRecord).where(CreditRecord.upload_id.in_([u.id for u in earlier])))
        for u in earlier:
            u.replaced_at, u.replaced_by_id = upload.uploaded_at, upload.id
    codes = {r.values["uscc"] for r in rows}
    firms = dict(db.session.execute(select(Organisation.code, Organisation.id).where(
        Organisation.kind == OrgKind.enterprise.value, Organisation.code.in_(codes))).all()) if codes else {}
    db.session.add_all([CreditRecord(
        enterprise_id=firms.get(r.values["uscc"]), uscc=r.values["uscc"], firm_name=r.values["firm_name"],
        category=cat.code, period=period, summary=_summary(cat, r.values),
        values_json=json.dumps(r.values, ensure_ascii=False, sort_keys=True), source_org_id=source_org.id,
        upload_id=upload.id, row_no=r.row, created_at=upload.uploaded_at) for r in rows])
    audit.record(SUBJECT, upload.id, "credit_data_loaded", user, details={
        "category": cat.code, "period": period, "rows": len(rows), "file": upload.file_name,
        "sha256": upload.sha256, "replaced_uploads": [u.id for u in earlier]})
    db.session.flush()
    return upload


# ---------------------------------------------------------------------------- reading what was loaded

def records_of(firm: Organisation) -> list[CreditRecord]:
    """The firm's loaded records (by USCC, or by the firm for rows from before the loader), newest period first."""
    cond = CreditRecord.enterprise_id == firm.id
    if firm.code:
        cond = or_(cond, CreditRecord.uscc == firm.code)
    return list(db.session.scalars(select(CreditRecord).where(cond).order_by(
        CreditRecord.category, CreditRecord.period.desc(), CreditRecord.id)))


@dataclass
class CreditFacts:
    """What the loaded data says about a firm on a day (the gates read these, never the firm's form)."""
    rating: str | None = None
    rating_source: str = ""                      # "信用报告 编号（机构，报告日期）"
    has_report: bool = False
    dishonesty: list[str] = field(default_factory=list)   # 失信 records in force


def facts_of(firm: Organisation, on: date, records: list[CreditRecord] | None = None) -> CreditFacts:
    records = records_of(firm) if records is None else records
    f = CreditFacts()
    reports = [(r.values, r) for r in records if r.category == "credit_report"]
    reports = [(v, r) for v, r in reports if v.get("report_date", "") <= on.isoformat()]
    if reports:
        v, r = max(reports, key=lambda vr: (vr[0].get("report_date", ""), vr[1].period, vr[1].id))
        f.has_report, f.rating = True, v.get("rating")
        f.rating_source = f"信用报告 {v.get('report_no', '')}（{v.get('issuer', '')}，{v.get('report_date', '')}）"
    for r in records:
        if r.category != "judicial":
            continue
        v = r.values
        if v.get("record_kind") != DISHONEST or v.get("listed_on", "9999") > on.isoformat():
            continue
        if v.get("removed_on") and v["removed_on"] <= on.isoformat():
            continue
        f.dishonesty.append(f"{DISHONEST} {v.get('case_no', '')}（{v.get('court', '')}，{v.get('listed_on', '')}）")
    return f


def declaration_mismatch(declared_rating: str | None, facts: CreditFacts) -> str | None:
    """A message for the bank when what the firm declared differs from the loaded data (or None)."""
    declared = (declared_rating or "").strip().upper() or None
    if declared == facts.rating or declared is None:
        return None
    return _("企业申报的信用等级为 {declared}，已归集的信用信息为 {loaded}").format(
        declared=declared, loaded=facts.rating or _("无信用报告"))
