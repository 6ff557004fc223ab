"""Reports pages: the monthly statistics to 人民银行 per scheme and month (page, Excel, PDF) and their archive;
the reports routed as duties (江津's monthly reports of each bank and the guarantee company, 黔江's quarterly
通报) under ``/reports/r/<kind>/<scheme>/<org or 0>/<period>``.

Who: the members of the scheme that oversee it (finance bureau, financial office, 人民银行, 银保监) and
administrators read; the financial office and 人民银行 archive a month.  A reporting organisation (a bank,
the guarantee company) reads and issues its own reports only; the receiving organisations read them.
A period once archived (issued) is shown and downloaded as archived; issuing completes the period's duty."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

import app.reports.handlers  # noqa: F401  (registers the report duty task page)
from app.core.db import db
from app.core.exports import XLSX_TYPE
from app.core.i18n import _
from app.policies.models import Scheme
from app.registers import scope
from app.reports import monthly, render
from app.reports.models import ArchivedReport
from app.reports import operations as ops
from forms.reports import ArchiveForm

bp = Blueprint("reports", __name__, url_prefix="/reports")
ARCHIVER_KINDS = ("financial_office", "pboc")


def _may_read(scheme, user) -> bool:
    kind = user.organisation.kind
    if kind == "admin":
        return True
    return kind in scope.SCHEME_KINDS and scheme.member(user.organisation_id, kind) is not None


def _may_archive(scheme, user) -> bool:
    kind = user.organisation.kind
    return kind in ARCHIVER_KINDS and scheme.member(user.organisation_id, kind) is not None


def _schemes(user) -> list[Scheme]:
    return [s for s in db.session.scalars(select(Scheme).order_by(Scheme.id))
            if monthly.applies_to(s) and _may_read(s, user)]


def _scheme_period_or_404(scheme_id: int, period: str) -> Scheme:
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or not monthly.applies_to(scheme) or not _may_read(scheme, current_user):
        abort(404)
    if monthly.parse_period(period) is None:
        abort(404)
    return scheme


READER_KINDS = scope.SCHEME_KINDS + ("admin", "bank", "guarantee")


def _routed(user) -> list[tuple]:
    """(report type, scheme, reporting organisation or None, periods) the user may read, routed reports only."""
    out = []
    for scheme in db.session.scalars(select(Scheme).order_by(Scheme.id)):
        for rtype in ops.kinds_of(scheme):
            if rtype.kind == "monthly_statistics":
                continue
            orgs = ops.reporters(rtype, scheme) if rtype.per_org else [None]
            for org in orgs:
                if ops.may_read(rtype, scheme, org.id if org else None, user):
                    out.append((rtype, scheme, org, ops.recent_periods(rtype)))
    return out


@bp.route("/")
@login_required
def index():
    if current_user.organisation.kind not in READER_KINDS:
        abort(403)
    schemes = _schemes(current_user) if current_user.organisation.kind in scope.SCHEME_KINDS + ("admin",) else []
    periods = monthly.recent_periods()
    archive = {(r.scheme_id, r.period): r for s in schemes for r in [monthly.archived(s.id, p) for p in periods] if r}
    routed = _routed(current_user)
    issued = {(r.kind, r.scheme_id, r.org_id or 0, r.period): r for r in db.session.scalars(
        select(ArchivedReport).where(ArchivedReport.kind.in_({rt.kind for rt, *_x in routed} or {""}),
                                     ArchivedReport.scheme_id.in_({s.id for _rt, s, *_x in routed} or {0})))}
    return render_template("reports/index.html", schemes=schemes, periods=periods, archive=archive,
                           routed=routed, issued=issued)


def _stats(scheme, period):
    rep = monthly.archived(scheme.id, period)
    if rep is None:
        return monthly.compute(scheme, period), None
    return monthly.MonthlyStats.from_json(rep.figures_json), rep


@bp.route("/<int:scheme_id>/<period>")
@login_required
def show(scheme_id, period):
    scheme = _scheme_period_or_404(scheme_id, period)
    stats, rep = _stats(scheme, period)
    return render_template("reports/monthly.html", scheme=scheme, stats=stats, rep=rep, title=monthly.title(stats),
                           columns=monthly.columns(), rows=[monthly.cells(r) for r in stats.rows],
                           total=monthly.cells(stats.total), can_archive=_may_archive(scheme, current_user),
                           form=ArchiveForm())


@bp.route("/<int:scheme_id>/<period>.xlsx")
@login_required
def xlsx(scheme_id, period):
    scheme = _scheme_period_or_404(scheme_id, period)
    rep = monthly.archived(scheme.id, period)
    data = rep.xlsx if rep else monthly.workbook_bytes(monthly.compute(scheme, period))
    return _send(data, f"monthly-{scheme.code}-{period}.xlsx", XLSX_TYPE)


@bp.route("/<int:scheme_id>/<period>.pdf")
@login_required
def pdf(scheme_id, period):
    scheme = _scheme_period_or_404(scheme_id, period)
    rep = monthly.archived(scheme.id, period)
    data = rep.pdf if rep else monthly.pdf_bytes(monthly.compute(scheme, period))
    return _send(data, f"monthly-{scheme.code}-{period}.pdf", "application/pdf")


def _send(data: bytes, name: str, mimetype: str):
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:150]
    resp = send_file(io.BytesIO(data), as_attachment=True, download_name=safe, mimetype=mimetype)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/<int:scheme_id>/<period>/archive", methods=["POST"])
@login_required
def archive(scheme_id, period):
    scheme = _scheme_period_or_404(scheme_id, period)
    if not _may_archive(scheme, current_user):
        abort(403)
    if not ArchiveForm().validate_on_submit():
        abort(400)
    _rep, created = ops.issue(ops.REPORTS["monthly_statistics"], scheme, period, None, current_user)
    flash(_("已归档 {period} 月度统计表").format(period=period) if created else _("该月报表已归档，未重复归档"),
          "success" if created else "info")
    return redirect(url_for("reports.show", scheme_id=scheme.id, period=period))


# ------------------------------------------------------------------ reports routed as duties

def _routed_or_404(kind: str, scheme_id: int, org_id: int, period: str):
    rtype = ops.report_type(kind)
    scheme = db.session.get(Scheme, scheme_id)
    if rtype is None or rtype.kind == "monthly_statistics" or scheme is None or not ops.applies(rtype, scheme):
        abort(404)
    org = ops.reporter_or_none(rtype, scheme, org_id) if rtype.per_org else None
    if (rtype.per_org and org is None) or (not rtype.per_org and org_id != 0):
        abort(404)
    if not ops.may_read(rtype, scheme, org.id if org else None, current_user):
        abort(404)
    if ops.parse_period(rtype, period) is None:
        abort(404)
    return rtype, scheme, org


@bp.route("/r/<kind>/<int:scheme_id>/<int:org_id>/<period>")
@login_required
def routed(kind, scheme_id, org_id, period):
    rtype, scheme, org = _routed_or_404(kind, scheme_id, org_id, period)
    t, rep = ops.table_of(rtype, scheme, period, org)
    return render_template("reports/table.html", rtype=rtype, scheme=scheme, org_id=org_id, t=t, rep=rep,
                           title=ops.title(rtype, t), columns=render.columns(t),
                           rows=[render.cells(t, r) for r in t.rows], total=render.cells(t, t.total),
                           summary=render.summary(t), notes=render.notes(t),
                           can_issue=ops.may_issue(rtype, scheme, org.id if org else None, current_user),
                           form=ArchiveForm())


@bp.route("/r/<kind>/<int:scheme_id>/<int:org_id>/<period>.xlsx")
@login_required
def routed_xlsx(kind, scheme_id, org_id, period):
    rtype, scheme, org = _routed_or_404(kind, scheme_id, org_id, period)
    return _send(ops.xlsx_of(rtype, scheme, period, org), f"{kind}-{scheme.code}-{org_id}-{period}.xlsx", XLSX_TYPE)


@bp.route("/r/<kind>/<int:scheme_id>/<int:org_id>/<period>.pdf")
@login_required
def routed_pdf(kind, scheme_id, org_id, period):
    rtype, scheme, org = _routed_or_404(kind, scheme_id, org_id, period)
    return _send(ops.pdf_of(rtype, scheme, period, org), f"{kind}-{scheme.code}-{org_id}-{period}.pdf",
                 "application/pdf")


@bp.route("/r/<kind>/<int:scheme_id>/<int:org_id>/<period>/issue", methods=["POST"])
@login_required
def routed_issue(kind, scheme_id, org_id, period):
    rtype, scheme, org = _routed_or_404(kind, scheme_id, org_id, period)
    if not ops.may_issue(rtype, scheme, org.id if org else None, current_user):
        abort(403)
    if not ArchiveForm().validate_on_submit():
        abort(400)
    _rep, created = ops.issue(rtype, scheme, period, org, current_user)
    flash(_("已报送并归档 {period} 报表").format(period=period) if created else _("该期报表已归档，未重复归档"),
          "success" if created else "info")
    return redirect(url_for("reports.routed", kind=kind, scheme_id=scheme.id, org_id=org_id, period=period))
