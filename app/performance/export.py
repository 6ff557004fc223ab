"""An evaluation as an Excel workbook: the rows the reader may see (as on the page), one sheet for the
banks (with each target's figures) and one for the departments.  Text cells go through
``exports.append_row`` (never read as formulas); amounts are Decimal cells, ratios numbers."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook

from app.core import exports
from app.core.i18n import _, localname
from app.performance import metrics


def _d(value):
    return Decimal(str(value)) if value not in (None, "") else None


def _targets(row) -> str:
    parts = []
    for t in row.figures.get("targets", []):
        metric = t.get("metric")
        label = _(metrics.METRIC_LABELS[metric])
        if t.get("evaluated"):
            parts.append(_("{metric}：目标 {target}，实际 {actual}，完成比例 {c}").format(
                metric=label, target=t.get("target"), actual=t.get("actual"), c=t.get("completion")))
        else:
            parts.append(_("{metric}：不评价").format(metric=label))
    return "；".join(parts)


def workbook(ev, rows) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = str(_("合作银行"))[:31]
    exports.append_row(ws, [_("{year} 年度绩效评价").format(year=ev.period), localname(ev.scheme),
                            _("第 {rev} 稿").format(rev=ev.revision), _(ev.status_label)])
    exports.append_row(ws, [_("银行"), _("上年末余额（元）"), _("年末余额（元）"), _("接单率"), _("办结"), _("批准"),
                            _("决定用时中位数（工作日）"), _("决定用时平均数（工作日）"), _("目标完成情况"),
                            _("应存（元）"), _("本次存入（元）")])
    for r in rows:
        if r.kind not in ("bank", "scheme"):
            continue
        a, pool = r.figures.get("actuals", {}), r.figures.get("pool") or {}
        name = localname(r.organisation) if r.kind == "bank" else _("全辖合计")
        exports.append_row(ws, [name, _d(a.get("balance_start")), _d(a.get("balance_end")),
                                _d(a.get("acceptance_rate")), a.get("decided"), a.get("accepted"),
                                a.get("median_days"), a.get("mean_days"), _targets(r), _d(pool.get("due")),
                                r.deposit])
    deps = [r for r in rows if r.kind == "department"]
    if deps:
        ws2 = wb.create_sheet(str(_("行业主管部门"))[:31])
        exports.append_row(ws2, [_("部门"), _("办结件数"), _("超期件数"), _("办理用时中位数（工作日）"),
                                 _("办理用时平均数（工作日）")])
        for r in deps:
            a = r.figures.get("actuals", {})
            exports.append_row(ws2, [localname(r.organisation), a.get("completed"), a.get("late"),
                                     a.get("median_days"), a.get("mean_days")])
    return wb
