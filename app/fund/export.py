"""The ledger as an Excel workbook (openpyxl): amounts as exact numbers with two decimals.

Rows go through ``app.core.exports.append_row``: text that looks like a formula stays text."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font

from app.core.exports import append_row
from app.core.i18n import _, shown
from app.core.labels import subject_ref
from app.core.timeutil import fmt
from app.fund.models import DIRECTION_LABELS

MONEY = "#,##0.00"


def ledger_workbook(scheme, entries, balance, filters: str = "") -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = _("基金台账")
    append_row(ws, [scheme.name])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, [_("当前余额（元）"), balance])
    ws["B2"].number_format = MONEY
    append_row(ws, [_("筛选"), filters or _("全部")])
    append_row(ws, [])
    header = [_("序号"), _("到账/记账日期"), _("类型"), _("方向"), _("金额（元）"), _("记账后余额（元）"),
              _("说明"), _("关联"), _("经办人"), _("经办单位"), _("记账时间")]
    append_row(ws, header)
    for c in ws[5]:
        c.font = Font(bold=True)
    for e in entries:
        append_row(ws, [e.id, e.booked_on, e.kind_label, str(DIRECTION_LABELS[e.direction]), e.signed_amount,
                        e.balance_after, shown(e.memo), subject_ref(e.ref_type, e.ref_id),
                        e.actor.display_name if e.actor else _("系统"), e.actor_org.name if e.actor_org else "",
                        fmt(e.posted_at)])   # the idempotency key is internal: not exported
        row = ws.max_row
        ws.cell(row, 2).number_format = "yyyy-mm-dd"
        ws.cell(row, 5).number_format = MONEY
        ws.cell(row, 6).number_format = MONEY
    for col, width in zip("ABCDEFGHIJK", (8, 14, 16, 8, 18, 20, 50, 18, 16, 24, 18)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A6"
    return wb
