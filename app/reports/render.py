"""A report table (app/reports/tables.py) as an Excel file and a PDF: headers, notes and labels translated in
the current language (Chinese when archived), money to the fen with separators."""
from __future__ import annotations

import io
from decimal import Decimal

from flask import render_template
from openpyxl import Workbook
from openpyxl.styles import Font
from weasyprint import HTML

from app.core.exports import append_row
from app.core.i18n import _
from app.core.money import fmt_yuan
from app.reports.tables import Table

MONEY = "#,##0.00"


def columns(t: Table) -> list[str]:
    return [_(c) for c in t.columns]


def cells(t: Table, row: list) -> list:
    """A row as shown: msgid cells (labels, the total's name) translated, values as they are."""
    return [_(v) if isinstance(v, str) and (i in t.label_columns or (row is t.total and i == 0)) and v else v
            for i, v in enumerate(row)]


def summary(t: Table) -> list[tuple[str, object]]:
    return [(_(label), value) for label, value in t.summary]


def notes(t: Table) -> list[str]:
    return [_(msg).format(**args) for msg, args in t.notes]


def workbook_bytes(t: Table, title: str, recipients: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = t.period
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [_("报送对象：{to}").format(to=recipients), _("生成时间"), t.generated_at])
    append_row(ws, [])
    append_row(ws, columns(t))
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for row in t.rows + [t.total]:
        append_row(ws, cells(t, row))
        for i, v in enumerate(row, start=1):
            if isinstance(v, Decimal):
                ws.cell(ws.max_row, i).number_format = MONEY
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    append_row(ws, [])
    for label, value in summary(t):
        append_row(ws, [label, value])
        if isinstance(value, Decimal):
            ws.cell(ws.max_row, 2).number_format = MONEY
    for note in notes(t):
        append_row(ws, [note])
    ws.column_dimensions["A"].width = 30
    for col in "BCDEFGHIJKLMN":
        ws.column_dimensions[col].width = 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf_bytes(t: Table, title: str, recipients: str) -> bytes:
    html = render_template("reports/table_pdf.html", t=t, title=title, recipients=recipients, columns=columns(t),
                           rows=[cells(t, r) for r in t.rows], total=cells(t, t.total), summary=summary(t),
                           notes=notes(t), yuan=fmt_yuan)
    return HTML(string=html).write_pdf()
