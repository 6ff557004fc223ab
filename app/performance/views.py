"""Performance-evaluation pages: the list, one evaluation (its rows scoped to the viewer), compute, confirm.

The finance bureau and the financial office of a scheme (and administrators) see every row; a bank
sees its own row, a department its own; anyone else gets 403 on the list and 404 on an evaluation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import Organisation
from app.core import exports, transaction
from app.core.db import db
from app.core.i18n import _, localname
from app.core.money import ROUNDING_LABELS
from app.performance import export as perf_export
from app.performance import metrics
from app.performance import operations as ops
from app.performance.models import Evaluation
from app.policies.models import Scheme
from forms.performance import ComputeForm, ConfirmForm

bp = Blueprint("performance", __name__, url_prefix="/performance")
VIEWER_KINDS = ops.READER_KINDS + ("bank", "department", "admin")


def _compute_form(form=None) -> ComputeForm | None:
    schemes = [s for s in db.session.scalars(select(Scheme).order_by(Scheme.id)) if ops.can_compute(s, current_user)]
    if not schemes:
        return None
    form = form or ComputeForm()
    form.scheme_id.choices = [(s.id, localname(s)) for s in schemes]
    return form


def _index(form=None, status=200):
    return render_template("performance/index.html", evaluations=ops.evaluations_for(current_user),
                           compute_form=_compute_form(form)), status


@bp.route("/")
@login_required
def index():
    if current_user.organisation.kind not in VIEWER_KINDS:
        abort(403)
    return _index()


@bp.route("/compute", methods=["POST"])
@login_required
def compute():
    form = _compute_form()
    if form is None:
        abort(403)
    if form.validate_on_submit():
        try:
            ev = ops.compute(form.scheme_id.data, (form.period.data or "").strip(), current_user)
            flash(_("已计算 {period} 年度绩效评价（第 {rev} 稿，草稿）").format(period=ev.period, rev=ev.revision), "success")
            return redirect(url_for("performance.show", evaluation_id=ev.id))
        except ops.PerformanceError as exc:
            transaction.rollback()
            field = getattr(form, exc.field, None) if exc.field else None
            (field.errors if field is not None else form.form_errors).append(str(exc))
    return _index(form, 400)


def _visible_or_404(evaluation_id: int):
    ev = db.session.get(Evaluation, evaluation_id)
    rows = ops.visible_rows(ev, current_user) if ev is not None else None
    if rows is None:
        abort(404)
    return ev, rows


@bp.route("/<int:evaluation_id>")
@login_required
def show(evaluation_id, form=None, status=200):
    ev, rows = _visible_or_404(evaluation_id)
    can_confirm = ev.status == "draft" and ops.can_confirm(ev.scheme, current_user)
    total = next((r for r in rows if r.kind == "scheme"), None)
    why_not = total.figures.get("pool_not_computed") if total is not None else None
    if why_not:
        why_not = {**why_not, "orgs": list(db.session.scalars(
            select(Organisation).where(Organisation.id.in_(why_not["banks"] or [0])).order_by(Organisation.id)))}
    return render_template(
        "performance/show.html", ev=ev, banks=[r for r in rows if r.kind == "bank"],
        total=total, why_not=why_not,
        departments=[r for r in rows if r.kind == "department"], definitions=metrics.DEFINITIONS,
        labels=metrics.METRIC_LABELS, rounding_labels=ROUNDING_LABELS,
        confirm_form=(form or ConfirmForm()) if can_confirm else None,
        can_compute=ops.can_compute(ev.scheme, current_user)), status


@bp.route("/<int:evaluation_id>.xlsx")
@login_required
def export(evaluation_id):
    """The evaluation as the reader sees it (the same rows), as an Excel file."""
    ev, rows = _visible_or_404(evaluation_id)
    return exports.send_workbook(perf_export.workbook(ev, rows), f"performance-{ev.scheme.code}-{ev.period}-r{ev.revision}")


@bp.route("/<int:evaluation_id>/confirm", methods=["POST"])
@login_required
def confirm(evaluation_id):
    ev, _rows = _visible_or_404(evaluation_id)
    if not ops.can_confirm(ev.scheme, current_user):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        ops.confirm(ev.id, current_user, form.note.data or "")     # a refusal (already confirmed) is flashed
        flash(_("已确认 {period} 年度绩效评价").format(period=ev.period), "success")
        return redirect(url_for("performance.show", evaluation_id=ev.id))
    return show(evaluation_id, form=form, status=400)
