"""Compensation pages: the overdue report, the claim page, recovery entries, the financial office's dashboard."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

import app.compensation.handlers  # noqa: F401  (registers the task pages and forms)
from app.applications.models import Attachment
from app.compensation import batches as batch_ops, operations as ops
from app.compensation.handlers import days_left
from app.compensation.models import (BATCH_SUBJECT, MATERIAL_KINDS, OPEN_STATUSES, SUBJECT, BatchObjection,
                                     CompensationBatch, CompensationClaim)
from app.core import audit, transaction, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _, localname
from app.core.timeutil import now, today
from app.loans.models import CLASSIFICATIONS, Loan
from app.registers import views as registers
from app.workflow.models import HumanTask
from app.workflow.views import register_subject
from app.policies.models import Scheme, SchemeMember
from forms.compensation import (LitigationCostForm, ObjectionForm, ObjectionResolveForm, OpenBatchForm,
                                OverdueReportForm, RecoveryForm)

bp = Blueprint("compensation", __name__, url_prefix="/compensation")


def _visible_or_404(claim_id: int) -> CompensationClaim:
    claim = db.session.get(CompensationClaim, claim_id)
    if claim is None or not claim.can_view(current_user):
        abort(404)
    return claim


@bp.route("/")
@login_required
def index():
    """The claims register (filters, pages, Excel): app/registers."""
    return registers.render("claims", "compensation.index")


@bp.route("/report/<int:loan_id>", methods=["GET", "POST"])
@login_required
def report(loan_id):
    loan = db.session.get(Loan, loan_id)
    if loan is None or not loan.can_view(current_user):
        abort(404)
    if loan.bank_id != current_user.organisation_id:
        abort(403)
    form = OverdueReportForm()
    existing = ops.existing_claim(loan.id)
    if not form.is_submitted():
        form.overdue_on.data = today()
        form.overdue_principal.data = loan.outstanding_principal
        form.classification.data = "substandard"
    if form.validate_on_submit():
        try:
            claim = ops.report_overdue(current_user, loan.id, ops.OverdueReport(
                overdue_on=form.overdue_on.data, overdue_principal=form.overdue_principal.data,
                classification=form.classification.data, note=form.note.data))
        except DomainError as exc:
            transaction.rollback()
            _field_error(form, exc)
        else:
            flash(_("已报告逾期，补偿案件 {no} 已启动").format(no=claim.no), "success")
            return redirect(url_for("compensation.show", claim_id=claim.id))
        return render_template("compensation/report.html", form=form, loan=loan, existing=existing), 400
    status = 400 if form.is_submitted() else 200
    return render_template("compensation/report.html", form=form, loan=loan, existing=existing), status


def _may_record_or_403(claim):
    """A party that may see the claim but not record on it (the borrower, a regulator) gets 403."""
    if not claim.can_record_recovery(current_user):
        abort(403)


def _field_error(form, exc, default=None):
    target = getattr(form, getattr(exc, "field", None) or default or "", None)
    if target is not None:
        target.errors = list(target.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))


def _show(claim, recovery_form=None, cost_form=None, status=200):
    internals = claim.shows_internals_to(current_user)
    events = audit.timeline(SUBJECT, claim.id)
    if current_user.is_kind("enterprise"):
        events = [e for e in events if e.visible_to_enterprise]
    if not internals:
        events = _outcome_only(events)
    open_tasks = list(db.session.scalars(select(HumanTask).where(
        HumanTask.subject_type == SUBJECT, HumanTask.subject_id == claim.id, HumanTask.status == "open")
        .order_by(HumanTask.id)))
    can_record = claim.can_record_recovery(current_user) and claim.status in ops.RECOVERY_OPEN
    recovery_form = recovery_form or RecoveryForm(formdata=None)
    cost_form = cost_form or LitigationCostForm(formdata=None)
    if recovery_form.received_on.data is None:
        recovery_form.received_on.data = today()
    if cost_form.incurred_on.data is None:
        cost_form.incurred_on.data = today()
    preview = None
    if claim.computation is None and claim.is_open and claim.status not in ("in_review",):
        try:
            preview = ops.compute_claim(claim).to_dict()
        except DomainError:     # e.g. the policy sets no share for the loan's product
            preview = None
    rounds = sorted({o.round for o in claim.opinions})
    return render_template(
        "compensation/show.html", claim=claim, loan=claim.loan, events=events, open_tasks=open_tasks,
        attachments=ops.attachments_of(claim.id) if internals else [], show_internals=internals,
        material_kinds=MATERIAL_KINDS, can_record=can_record,
        recovery_form=recovery_form, cost_form=cost_form, classifications=CLASSIFICATIONS,
        recovered=ops.recovered_total(claim), costs=ops.costs_total(claim), returned=ops.returned_total(claim),
        cost_documents=ops.cost_documents(claim), costs_limit=ops.litigation_costs_limit(claim),
        preview=preview, rounds=rounds, days_left={t.id: days_left(t.due_at) for t in open_tasks},
        now=now()), status


def _outcome_only(events):
    """The borrower's timeline: each step and when, without the members' individual opinions
    (review_*) or anybody's remarks."""
    return [SimpleNamespace(action=e.action, at=e.at, actor=e.actor, actor_org=e.actor_org, opinion="",
                            details_dict=e.details_dict)
            for e in events if not e.action.startswith("review_")]


@bp.route("/<int:claim_id>")
@login_required
def show(claim_id):
    return _show(_visible_or_404(claim_id))


@bp.route("/<int:claim_id>/recoveries", methods=["POST"])
@login_required
def add_recovery(claim_id):
    claim = _visible_or_404(claim_id)
    _may_record_or_403(claim)
    form = RecoveryForm()
    if form.validate_on_submit():
        try:
            rec = ops.record_recovery(current_user, claim.id, form.kind.data, form.received_on.data,
                                      form.amount.data, form.note.data)
        except DomainError as exc:
            transaction.rollback()
            _field_error(form, exc)
        else:
            msg = _("已登记追偿入账 {amount} 元").format(amount=f"{rec.amount:,}")
            if rec.fund_return:
                msg += _("，按政策返还基金 {amount} 元").format(amount=f"{rec.fund_return:,}")
            flash(msg, "success")
            return redirect(url_for("compensation.show", claim_id=claim.id))
    return _show(db.session.get(CompensationClaim, claim_id), recovery_form=form, status=400)


@bp.route("/<int:claim_id>/costs", methods=["POST"])
@login_required
def add_cost(claim_id):
    claim = _visible_or_404(claim_id)
    _may_record_or_403(claim)
    form = LitigationCostForm()
    if form.validate_on_submit():
        written: list[str] = []
        documents = [(f.filename, f.read()) for f in request.files.getlist("document") if f and f.filename]
        try:
            transaction.on_rollback(lambda: uploads.discard(written))   # a refused or failed request keeps no files
            ops.record_cost(current_user, claim.id, form.incurred_on.data, form.amount.data, form.note.data,
                            documents, written)
        except DomainError as exc:
            transaction.rollback()
            _field_error(form, exc, default="document" if isinstance(exc, uploads.UploadError) else None)
        else:
            flash(_("已登记诉讼等费用"), "success")
            return redirect(url_for("compensation.show", claim_id=claim.id))
    return _show(db.session.get(CompensationClaim, claim_id), cost_form=form, status=400)


@bp.route("/attachments/<int:att_id>")
@login_required
def attachment(att_id):
    att = db.session.get(Attachment, att_id)
    if att is None or att.subject_type not in (SUBJECT, ops.COST_SUBJECT):
        abort(404)
    claim = _visible_or_404(att.subject_id if att.subject_type == SUBJECT else ops.claim_id_of_cost(att.subject_id))
    if not claim.shows_internals_to(current_user):
        abort(403)   # the bank's materials: the borrower sees the outcome, not the file
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


@bp.route("/dashboard")
@login_required
def dashboard():
    """The financial office's view: open compensation tasks, overdue ones first, and the payout queue."""
    if not current_user.is_kind("financial_office", "admin"):
        abort(403)
    claims_q = ops.visible_claims(current_user).where(CompensationClaim.status.in_(OPEN_STATUSES))
    claims = {c.id: c for c in db.session.scalars(claims_q)}
    tasks = list(db.session.scalars(select(HumanTask).where(
        HumanTask.subject_type == SUBJECT, HumanTask.status == "open",
        HumanTask.subject_id.in_(list(claims) or [0]))
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at)))
    at = now()
    overdue = [t for t in tasks if t.overdue or (t.due_at is not None and t.due_at < at)]
    schemes = sorted({c.scheme for c in claims.values()}, key=lambda s: s.id)
    queues = [(s, ops.payout_queue(s.id)) for s in schemes]
    return render_template("compensation/dashboard.html", tasks=tasks, overdue=overdue, claims=claims,
                           queues=[q for q in queues if q[1]], days_left={t.id: days_left(t.due_at) for t in tasks},
                           now=at)


# ------------------------------------------------------------------ yearly batches (凌源 办法 art.17)

def _office_schemes():
    """Batch schemes in which the user's organisation is the leading-group office."""
    rows = db.session.scalars(select(Scheme).join(SchemeMember, SchemeMember.scheme_id == Scheme.id).where(
        SchemeMember.organisation_id == current_user.organisation_id).order_by(Scheme.id))
    return [s for s in dict.fromkeys(rows) if s.params.batch is not None
            and s.member(current_user.organisation_id, s.params.batch.office_role) is not None]


def _open_batch_form():
    schemes = _office_schemes()
    if not schemes:
        return None
    form = OpenBatchForm()
    form.scheme_id.choices = [(s.id, localname(s)) for s in schemes]
    if not form.is_submitted():
        form.year.data = today().year
    return form


def _batches_page(form, status=200):
    rows = list(db.session.scalars(batch_ops.visible_batches(current_user).limit(200)))
    return render_template("compensation/batches.html", rows=rows, form=form), status


@bp.route("/batches", methods=["GET", "POST"])
@login_required
def batches():
    form = _open_batch_form()
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                b = batch_ops.open_batch(current_user, form.scheme_id.data, form.year.data)
            except DomainError as exc:
                transaction.rollback()
                _field_error(form, exc)
            else:
                flash(_("已汇总 {y} 年度批次 {no}，共 {n} 笔").format(y=b.year, no=b.no, n=len(b.claims)), "success")
                return redirect(url_for("compensation.batch", batch_id=b.id))
        return _batches_page(form, 400)
    return _batches_page(form)


def _batch_or_404(batch_id: int) -> CompensationBatch:
    b = db.session.get(CompensationBatch, batch_id)
    if b is None or not b.can_view(current_user):
        abort(404)
    return b


def _may_handle(b: CompensationBatch) -> bool:
    rules = b.scheme.params.batch
    return rules is not None and b.scheme.member(current_user.organisation_id, rules.office_role) is not None


def _objection_form(b, formdata=True):
    form = ObjectionForm() if formdata else ObjectionForm(formdata=None)
    form.claim_id.choices = [(0, _("（整个批次）"))] + [(c.id, c.no) for c in batch_ops.included(b)]
    if form.received_on.data is None:
        form.received_on.data = today()
    return form


def _batch_page(b, objection_form=None, resolve_form=None, status=200):
    handle = _may_handle(b)
    return render_template("compensation/batch.html", batch=b, events=audit.timeline(BATCH_SUBJECT, b.id),
                           may_handle=handle, objection_form=objection_form or _objection_form(b, False),
                           resolve_form=resolve_form or ObjectionResolveForm(formdata=None)), status


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id):
    return _batch_page(_batch_or_404(batch_id))


@bp.route("/batches/<int:batch_id>/objections", methods=["POST"])
@login_required
def objection_add(batch_id):
    b = _batch_or_404(batch_id)
    if not _may_handle(b):
        abort(403)
    form = _objection_form(b)
    if form.validate_on_submit():
        try:
            batch_ops.record_objection(current_user, b.id, form.claim_id.data or None, form.received_on.data,
                                       form.objector.data, form.content.data)
        except DomainError as exc:
            transaction.rollback()
            _field_error(form, exc)
        else:
            flash(_("已登记公示异议"), "success")
            return redirect(url_for("compensation.batch", batch_id=b.id))
    return _batch_page(_batch_or_404(batch_id), objection_form=form, status=400)


@bp.route("/batches/<int:batch_id>/objections/<int:objection_id>", methods=["POST"])
@login_required
def objection_resolve(batch_id, objection_id):
    b = _batch_or_404(batch_id)
    if not _may_handle(b):
        abort(403)
    obj = db.session.get(BatchObjection, objection_id)
    if obj is None or obj.batch_id != b.id:
        abort(404)
    form = ObjectionResolveForm()
    if form.validate_on_submit():
        try:
            batch_ops.resolve_objection(current_user, obj.id, form.decision.data == "upheld", form.reason.data)
        except DomainError as exc:
            transaction.rollback()
            _field_error(form, exc)
        else:
            flash(_("已处理公示异议"), "success")
            return redirect(url_for("compensation.batch", batch_id=b.id))
    return _batch_page(_batch_or_404(batch_id), resolve_form=form, status=400)


def _register_diagram_access():
    register_subject(SUBJECT, lambda i: db.session.get(CompensationClaim, i))
    register_subject(BATCH_SUBJECT, lambda i: db.session.get(CompensationBatch, i))


_register_diagram_access()
