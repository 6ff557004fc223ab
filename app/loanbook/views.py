"""Loan-book pages: a bank's months and the Excel upload, one month's rows, a loan's history and its form."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.models import OVERSIGHT_KINDS, Organisation
from app.core import transaction
from app.core.db import db
from app.core.exports import send_workbook
from app.core.i18n import _
from app.loanbook import excel
from app.loanbook import operations as ops
from app.loanbook.models import BOOK_STATUSES
from app.loans.models import CLASSIFICATIONS, Loan
from forms.loanbook import BookUploadForm, LoanRowForm

bp = Blueprint("loanbook", __name__, url_prefix="/loanbook")


def _is_bank() -> bool:
    return current_user.is_kind("bank")


def _can_read_bank(bank_id: int) -> bool:
    org = current_user.organisation
    return org.id == bank_id if org.kind == "bank" else org.kind in OVERSIGHT_KINDS


def _default_month() -> str:
    return ops.previous_month(ops.current_month())


def _month_arg() -> str:
    month = (request.args.get("month") or "").strip() or _default_month()
    return month if ops.month_problem(month) is None else _default_month()


def _index(form=None, errors=None, status=200):
    org = current_user.organisation
    if org.kind != "bank" and org.kind not in OVERSIGHT_KINDS:
        abort(403)
    month = _month_arg()
    form = form or BookUploadForm(formdata=None, month=month)
    months = ops.months_reported(org.id if org.kind == "bank" else None, limit=60)
    banks = {o.id: o for o in db.session.query(Organisation).filter(Organisation.id.in_({b for b, *_ in months}))} \
        if months else {}
    cov = ops.coverage(org.id, month) if org.kind == "bank" else None
    return render_template("loanbook/index.html", form=form, errors=errors, months=months, banks=banks,
                           coverage=cov, month=month, is_bank=org.kind == "bank"), status


@bp.route("/")
@login_required
def index():
    return _index()


@bp.route("/template.xlsx")
@login_required
def template():
    if not _is_bank():
        abort(403)
    month = _month_arg()
    return send_workbook(excel.template(current_user.organisation, month), f"loan_book_{month}")


@bp.route("/upload", methods=["POST"])
@login_required
def upload():
    if not _is_bank():
        abort(403)
    form = BookUploadForm()
    errors = None
    if form.validate_on_submit():
        f = request.files.get(form.file.name)
        if f is None or not f.filename:
            form.file.errors = [_("请选择文件")]
        else:
            try:
                rows = excel.read(f.read())
                result = ops.report(current_user.organisation, form.month.data, rows, source="excel",
                                    user=current_user)
            except ops.BookRefused as exc:
                transaction.rollback()
                errors = exc.errors
            else:
                flash(_("{month} 贷款台账已保存：新增 {i} 笔，更新 {u} 笔，未变 {n} 笔，删除 {r} 笔").format(
                    month=result.month, i=result.inserted, u=result.updated, n=result.unchanged,
                    r=result.removed), "success")
                return redirect(url_for("loanbook.month", bank_id=current_user.organisation_id,
                                        month=result.month), 303)
    return _index(form=form, errors=errors, status=400)


@bp.route("/<int:bank_id>/<month>")
@login_required
def month(bank_id, month):
    if not _can_read_bank(bank_id) or ops.month_problem(month) is not None:
        abort(404)
    bank = db.session.get(Organisation, bank_id)
    if bank is None or bank.kind != "bank":
        abort(404)
    cov = ops.coverage(bank.id, month)
    return render_template("loanbook/month.html", bank=bank, month=month, coverage=cov,
                           classifications=CLASSIFICATIONS, statuses=BOOK_STATUSES)


def _loan_or_404(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None or not loan.can_view(current_user):
        abort(404)
    return loan


@bp.route("/loan/<int:loan_id>", methods=["GET", "POST"])
@login_required
def loan(loan_id):
    loan = _loan_or_404(loan_id)
    can_report = current_user.organisation_id == loan.bank_id
    form = None
    status = 200
    if can_report:
        form = LoanRowForm(month=_default_month(), outstanding_principal=loan.outstanding_principal,
                           repaid_principal=0, classification=loan.classification,
                           status="overdue" if loan.status == "overdue" else "performing")
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    ops.report(current_user.organisation, form.month.data, [ops.RowInput(
                        loan.no, form.outstanding_principal.data, form.repaid_principal.data,
                        form.classification.data, form.status.data)], source="form", user=current_user,
                        replace=False)
                except ops.BookRefused as exc:
                    transaction.rollback()
                    for e in exc.errors:
                        target = getattr(form, e.column, None)
                        if target is not None and e.column != "loan_no":
                            target.errors = [*target.errors, e.message]
                        else:
                            form.form_errors.append(e.message)
                else:
                    flash(_("{month} 贷款状况已保存").format(month=form.month.data), "success")
                    return redirect(url_for("loanbook.loan", loan_id=loan.id), 303)
            status = 400
    elif request.method == "POST":
        abort(403)
    return render_template("loanbook/loan.html", loan=loan, form=form, rows=ops.history(loan.id),
                           classifications=CLASSIFICATIONS), status
