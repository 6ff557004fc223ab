"""Excel exports: every workbook row goes through :func:`append_row`, every download through :func:`send_workbook`.

A cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or their full-width forms), a tab or a
carriage return would be taken by a spreadsheet as a formula ("CSV/formula injection": a firm
names itself ``=HYPERLINK(...)`` and the finance bureau's export runs it).  Such text is written
as a string cell with Excel's quote prefix: shown exactly as typed, never evaluated, and still a
string if the user edits the cell.  Numbers, dates and Decimals stay typed values.
"""
from __future__ import annotations

import io

from flask import send_file


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def as_text(cell) -> None:
    """Make one cell a plain string cell when its text could be read as a formula."""
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def append_row(ws, values) -> None:
    """``ws.append`` for untrusted values: formula-like text becomes literal text."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        as_text(cell)


def set_cell(ws, ref: str, value) -> None:
    ws[ref] = value
    as_text(ws[ref])


def send_workbook(wb, filename: str):
    """The workbook as an attachment with a sanitised ASCII-safe name and ``nosniff``."""
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename.rsplit(".", 1)[0])[:150] or "export"
    resp = send_file(buf, as_attachment=True, download_name=f"{name}.xlsx", mimetype=XLSX_TYPE)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
