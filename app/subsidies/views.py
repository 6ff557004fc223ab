"""Pages of interest subsidies: apply (firm or bank), the applications list and one application, the
budgets and a budget's ledger (finance bureau), guarantee-fee subsidy records."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

import app.subsidies.handlers  # noqa: F401  (registers the task pages of bpmn/interest_subsidy.bpmn)
from app.accounts.models import OrgKind
from app.core import audit, transaction
from app.core.db import db
from app.core.errors import DomainError, NotAllowed, NotFound
from app.core.i18n import _
from app.core.money import fmt_yuan
from app.policies.models import Scheme
from app.subsidies import operations as ops
from app.subsidies.models import SubsidyApplication
from forms.subsidies import BudgetAllocationForm, GuaranteeFeeForm, SubsidyApplyForm

bp = Blueprint("subsidies", __name__, url_prefix="/subsidies")


def _refused(form, exc: DomainError) -> None:
    """A refusal next to its field (or on top), after undoing what the operation flushed."""
    transaction.rollback()
    if isinstance(exc, (NotAllowed, NotFound)):
        abort(exc.status)
    target = getattr(form, getattr(exc, "field", None) or "", None)
    if target is not None:
        target.errors = list(target.errors) + [str(exc)]
    else:
        flash(str(exc), "danger")


@bp.route("/")
@login_required
def index():
    can_apply = current_user.is_kind(OrgKind.enterprise, OrgKind.bank)
    budgets = [s for s in ops.subsidy_schemes() if ops.can_view_budget(current_user, s)]
    return render_template("subsidies/index.html", applications=ops.applications_for(current_user),
                           can_apply=can_apply, budget_schemes=budgets)


def _apply_choices(form):
    loans = ops.loans_for_applicant(current_user)
    form.loan_id.choices = [(l.id, f"{l.no} · {l.enterprise.name} · {fmt_yuan(l.amount)}") for l in loans]
    progs = {}
    for s in {l.scheme_id: l.scheme for l in loans}.values():
        for p in s.params.subsidy_programmes:
            progs.setdefault(p.code, p.name)
    form.programme.choices = list(progs.items())
    return loans


@bp.route("/apply", methods=["GET", "POST"])
@login_required
def apply():
    if not current_user.is_kind(OrgKind.enterprise, OrgKind.bank):
        abort(403)
    form = SubsidyApplyForm()
    loans = _apply_choices(form)
    if form.validate_on_submit():
        try:
            a = ops.apply(current_user, form.loan_id.data, form.programme.data, form.period.data,
                          form.interest_paid.data, form.principal.data, form.note.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已提交贴息申请，等待银行确认"), "success")
            return redirect(url_for("subsidies.show", application_id=a.id))
    return render_template("subsidies/apply.html", form=form, loans=loans), 400 if form.is_submitted() else 200


@bp.route("/<int:application_id>")
@login_required
def show(application_id):
    a = db.session.get(SubsidyApplication, application_id)
    if a is None or not a.can_view(current_user):
        abort(404)
    return render_template("subsidies/show.html", a=a, prog=a.scheme.params.programme(a.programme),
                           events=audit.timeline(ops.SUBJECT, a.id))


def _budget_scheme(scheme_id: int, programme: str) -> Scheme:
    s = db.session.get(Scheme, scheme_id)
    if s is None or not ops.can_view_budget(current_user, s) or s.params.programme(programme) is None:
        abort(404)
    return s


def _ledger(s: Scheme, programme: str, form, fee_form, status=200):
    b = ops.budget(s.id, programme)
    if not form.token.data:
        form.token.data = uuid.uuid4().hex
    prog = s.params.programme(programme)
    return render_template("subsidies/budget.html", scheme=s, prog=prog, budget=b, balance=ops.balance(b.id),
                           entries=ops.entries(b.id), form=form, fee_form=fee_form,
                           fees=ops.guarantee_fees(s.id), can_post=ops.is_finance(current_user, s)), status


@bp.route("/budgets/<int:scheme_id>/<programme>", methods=["GET"])
@login_required
def budget(scheme_id, programme):
    s = _budget_scheme(scheme_id, programme)
    return _ledger(s, programme, BudgetAllocationForm(), GuaranteeFeeForm())


@bp.route("/budgets/<int:scheme_id>/<programme>/allocate", methods=["POST"])
@login_required
def allocate(scheme_id, programme):
    s = _budget_scheme(scheme_id, programme)
    form = BudgetAllocationForm()
    if form.validate_on_submit():
        try:
            ops.allocate(current_user, s.id, programme, form.amount.data, form.memo.data, form.token.data or None)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("预算已入账"), "success")
            return redirect(url_for("subsidies.budget", scheme_id=s.id, programme=programme))
    return _ledger(s, programme, form, GuaranteeFeeForm(), 400)


@bp.route("/budgets/<int:scheme_id>/<programme>/guarantee-fees", methods=["POST"])
@login_required
def guarantee_fee(scheme_id, programme):
    s = _budget_scheme(scheme_id, programme)
    form = GuaranteeFeeForm()
    if form.validate_on_submit():
        try:
            ops.record_guarantee_fee(current_user, s.id, form.loan_no.data, form.period.data, form.fee_paid.data,
                                     form.amount.data, form.note.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("担保费补贴已登记"), "success")
            return redirect(url_for("subsidies.budget", scheme_id=s.id, programme=programme))
    return _ledger(s, programme, BudgetAllocationForm(), form, 400)
