"""The loan book as an Excel file: the downloadable template (the bank's loans of the month, with
their last reported values) and the reading of an uploaded file into rows for the one validation
(app/loanbook/operations.py).  Columns are found by their header (Chinese or English), so a bank
may reorder them or add its own; the row number shown with each error is Excel's."""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from app.core.exports import append_row
from app.core.i18n import _
from app.loanbook import operations as ops
from app.loanbook.models import BOOK_STATUSES
from app.loans.models import CLASSIFICATIONS

# field → (Chinese header, English header)
COLUMNS = [("loan_no", "贷款编号", "Loan no"), ("enterprise", "企业名称", "Enterprise"),
           ("amount", "贷款金额（元）", "Loan amount (yuan)"),
           ("outstanding_principal", "月末贷款余额（元）", "Outstanding principal (yuan)"),
           ("repaid_principal", "本月归还本金（元）", "Principal repaid in month (yuan)"),
           ("classification", "五级分类", "Classification"), ("status", "贷款状态", "Status")]
REQUIRED = ("loan_no", "outstanding_principal", "repaid_principal", "classification", "status")
MAX_COLUMNS = 50


def template(bank, month: str):
    """A workbook listing the bank's loans expected in the month's book, prefilled with the latest values."""
    wb = Workbook()
    ws = wb.active
    ws.title = month
    append_row(ws, [c[1] for c in COLUMNS])
    previous = ops.as_of(month, bank_id=bank.id)
    for loan in ops.expected_loans(bank.id, month):
        row = previous.get(loan.id)
        balance = row.outstanding_principal if row else loan.outstanding_principal
        cls = row.classification if row else loan.classification
        status = row.status if row else ("overdue" if loan.status == "overdue" else "performing")
        append_row(ws, [loan.no, loan.enterprise.name, loan.amount, balance, 0,
                        str(CLASSIFICATIONS[cls]), str(BOOK_STATUSES[status])])
    last = max(ws.max_row, 2) + 500
    dv_cls = DataValidation(type="list", formula1='"' + ",".join(str(x) for x in CLASSIFICATIONS.values()) + '"')
    dv_status = DataValidation(type="list", formula1='"' + ",".join(str(x) for x in BOOK_STATUSES.values()) + '"')
    dv_cls.add(f"F2:F{last}")
    dv_status.add(f"G2:G{last}")
    ws.add_data_validation(dv_cls)
    ws.add_data_validation(dv_status)
    for col, width in zip("ABCDEFG", (22, 30, 16, 18, 18, 10, 12)):
        ws.column_dimensions[col].width = width
    return wb


def _header_key(value) -> str | None:
    text = ops._text(value)
    for key, zh, en in COLUMNS:
        if text in (zh, en, key) or text.lower() == en.lower():
            return key
    return None


def read(data: bytes) -> list[ops.RowInput]:
    """The rows of an uploaded book; a file that is no readable workbook is refused (BookRefused)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError):
        raise ops.BookRefused([ops.RowError(0, "file", _("文件不是有效的 Excel（.xlsx）工作簿"))]) from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise ops.BookRefused([ops.RowError(0, "file", _("工作簿中没有工作表"))])
        it = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(it, None) or ()
        index: dict[str, int] = {}
        for i, cell in enumerate(header):
            key = _header_key(cell)
            if key and key not in index:
                index[key] = i
        missing = [k for k in REQUIRED if k not in index]
        if missing:
            names = "、".join(zh for key, zh, _en in COLUMNS if key in missing)
            raise ops.BookRefused([ops.RowError(1, "file", _("表头缺少列：{names}").format(names=names))])
        found: list[ops.RowInput] = []
        for n, values in enumerate(it, start=2):
            values = tuple(values or ())
            if all(x is None or ops._text(x) == "" for x in values):
                continue
            if len(found) >= ops.MAX_ROWS:
                raise ops.BookRefused([ops.RowError(n, "file", _("一次最多报送 {n} 笔贷款").format(n=ops.MAX_ROWS))])

            def get(key, values=values):
                i = index[key]
                return values[i] if i < len(values) else None
            found.append(ops.RowInput(get("loan_no"), get("outstanding_principal"), get("repaid_principal"),
                                     get("classification"), get("status"), line=n))
        return found
    finally:
        wb.close()
