from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

import app.applications.handlers  # noqa: F401  (registers the task pages)
from app.accounts.models import Sector
from app.applications import operations as ops
from app.applications.models import Attachment, LoanApplication
from app.core import audit, transaction, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _, localname
from app.core.timeutil import today
from app.credit import sources as credit_sources
from app.loans.models import Loan
from app.policies.gates import ACTIVITY_LABELS
from app.policies.models import Scheme
from app.registers import views as registers
from app.workflow.models import HumanTask
from app.workflow.views import register_subject
from forms import ApplicationForm

bp = Blueprint("applications", __name__, url_prefix="/applications")


def _visible_or_404(app_id: int) -> LoanApplication:
    a = db.session.get(LoanApplication, app_id)
    if a is None or not a.can_view(current_user):
        abort(404)
    return a


@bp.route("/")
@login_required
def index():
    """The application register (filters, pages, Excel: app/registers) with each row's next step: its
    open tasks (who acts; a link when it is the user's own). A firm lands here (我的贷款申请)."""
    def next_steps(rows):
        ids = [a.instance_id for a in rows if a.instance_id]
        steps: dict[int, list[HumanTask]] = {}
        if ids:
            for t in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                                HumanTask.status == "open").order_by(HumanTask.id)):
                steps.setdefault(t.instance_id, []).append(t)
        heading = _("我的贷款申请") if current_user.is_kind("enterprise") else None
        return {"next_steps": steps, "heading": heading}
    return registers.render("applications", "applications.index", extra=next_steps)


def _fill_choices(form: ApplicationForm):
    schemes = list(db.session.scalars(select(Scheme).where(Scheme.active.is_(True)).order_by(Scheme.id)))
    form.scheme_id.choices = [(s.id, localname(s)) for s in schemes]
    form.sector_id.choices = [(s.id, localname(s)) for s in db.session.scalars(select(Sector).order_by(Sector.id))]
    scheme = None
    if form.scheme_id.data:
        scheme = db.session.get(Scheme, form.scheme_id.data)
    scheme = scheme or (schemes[0] if schemes else None)
    banks = ops.bank_choices(scheme) if scheme else []
    form.preferred_bank_id.choices = [(0, _("不指定"))] + banks
    form.consent_bank_id.choices = banks
    return schemes


def _bank_map(schemes) -> dict[int, list]:
    """Each policy's bank choices (held banks marked), for the form's script to follow the chosen policy."""
    return {s.id: [list(c) for c in ops.bank_choices(s)] for s in schemes}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not current_user.is_kind("enterprise"):
        abort(403)
    form = ApplicationForm()
    if not form.is_submitted():
        form.sector_id.data = current_user.organisation.sector_id
        form.consent_valid_until.data = today() + timedelta(days=180)
    schemes = _fill_choices(form)
    if form.validate_on_submit():
        written: list[str] = []
        transaction.on_rollback(lambda: uploads.discard(written))   # a refused or failed request keeps no files
        licence = [(f.filename, f.read()) for f in request.files.getlist("business_licence") if f and f.filename]
        statements = [(f.filename, f.read()) for f in request.files.getlist("financial_statements") if f and f.filename]
        if _file_errors(form, {"business_licence": licence, "financial_statements": statements}):
            return render_template("applications/new.html", form=form, schemes=schemes, bank_map=_bank_map(schemes)), 400
        try:
            a = ops.submit_application(current_user, ops.ApplicationInput(
                scheme_id=form.scheme_id.data, sector_id=form.sector_id.data, amount=form.amount.data,
                term_months=form.term_months.data, purpose=form.purpose.data, activity=form.activity.data,
                repayment_plan=form.repayment_plan.data, repayment_source=form.repayment_source.data,
                preferred_bank_id=form.preferred_bank_id.data or None, consent_bank_id=form.consent_bank_id.data,
                consent_valid_until=form.consent_valid_until.data, consent_purpose=form.consent_purpose.data,
                credit_rating=form.credit_rating.data or None, first_loan=form.first_loan.data),
                licence, statements, written)
        except DomainError as exc:
            transaction.rollback()
            target = getattr(form, getattr(exc, "field", None) or "", None)
            if target is not None:
                target.errors = list(target.errors) + [str(exc)]
            else:
                flash(str(exc), "danger")
        else:
            flash(_("贷款需求 {no} 已提交，等待 {dept} 审核").format(no=a.no, dept=localname(a.department)), "success")
            return redirect(url_for("applications.show", app_id=a.id))
        return render_template("applications/new.html", form=form, schemes=schemes, bank_map=_bank_map(schemes)), 400
    status = 400 if form.is_submitted() else 200
    return render_template("applications/new.html", form=form, schemes=schemes, bank_map=_bank_map(schemes)), status


def _file_errors(form, files_by_field: dict) -> bool:
    """Check uploads by content and size; put each error next to its field."""
    bad = False
    for field, files in files_by_field.items():
        for name, data in files:
            try:
                uploads.inspect(data, name)
            except uploads.UploadError as exc:
                getattr(form, field).errors = list(getattr(form, field).errors) + [str(exc)]
                bad = True
    return bad


@bp.route("/<int:app_id>")
@login_required
def show(app_id):
    a = _visible_or_404(app_id)
    events = audit.timeline(ops.SUBJECT, a.id)
    if current_user.is_kind("enterprise"):
        events = [e for e in events if e.visible_to_enterprise]
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    open_tasks = list(db.session.scalars(select(HumanTask).where(
        HumanTask.subject_type == ops.SUBJECT, HumanTask.subject_id == a.id, HumanTask.status == "open")))
    return render_template("applications/show.html", application=a, events=events, loan=loan,
                           attachments=ops.attachments_of(ops.SUBJECT, a.id), open_tasks=open_tasks,
                           activity_labels=ACTIVITY_LABELS)


@bp.route("/attachments/<int:att_id>")
@login_required
def attachment(att_id):
    att = db.session.get(Attachment, att_id)
    if att is None or att.subject_type != ops.SUBJECT:
        abort(404)
    _visible_or_404(att.subject_id)
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


@bp.route("/<int:app_id>/credit", methods=["POST"])
@login_required
def credit(app_id):
    """Opening the credit data writes the access log: a POST with the CSRF token, never a GET."""
    a = _visible_or_404(app_id)
    if not current_user.is_kind("bank"):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        consent, records = ops.open_credit_data(current_user, a)
    except ops.OperationError as exc:   # not rolled back: the redirect commits the refused attempt's access log
        flash(str(exc), "danger")
        return redirect(url_for("applications.show", app_id=a.id))
    # the way back: the bank's open task on this application (the page the officer came from)
    task_id = db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == a.instance_id, HumanTask.status == "open",
        HumanTask.org_id == current_user.organisation_id).order_by(HumanTask.id.desc()).limit(1)) if a.instance_id else None
    facts = credit_sources.facts_of(a.enterprise, today(), records)
    return render_template("applications/credit.html", application=a, consent=consent, records=records,
                           categories=credit_sources.CATEGORIES, facts=facts, task_id=task_id,
                           mismatch=credit_sources.declaration_mismatch(a.credit_rating, facts))


def _register_diagram_access():
    register_subject(ops.SUBJECT, lambda i: db.session.get(LoanApplication, i))


_register_diagram_access()
