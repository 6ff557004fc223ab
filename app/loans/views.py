from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import OVERSIGHT_KINDS
from app.applications.models import LoanApplication
from app.core.db import db
from app.loans.models import CLASSIFICATIONS, Filing, Loan

bp = Blueprint("loans", __name__, url_prefix="/loans")


def visible_loans(user):
    q = select(Loan)
    org = user.organisation
    if org.kind == "bank":
        q = q.where(Loan.bank_id == org.id)
    elif org.kind == "enterprise":
        q = q.where(Loan.enterprise_id == org.id)
    elif org.kind == "department":
        q = q.join(LoanApplication, LoanApplication.id == Loan.application_id).where(
            LoanApplication.department_id == org.id)
    elif org.kind in ("service_centre", "guarantee"):
        q = q.join(Filing, Filing.loan_id == Loan.id).where(Filing.recipient_id == org.id)
    elif org.kind not in OVERSIGHT_KINDS:
        q = q.where(False)
    return q.order_by(Loan.created_at.desc())


@bp.route("/")
@login_required
def index():
    loans = list(db.session.scalars(visible_loans(current_user).limit(500)))
    return render_template("loans/index.html", loans=loans, classifications=CLASSIFICATIONS)


@bp.route("/<int:loan_id>")
@login_required
def show(loan_id):
    loan = db.session.get(Loan, loan_id)
    if loan is None or not loan.can_view(current_user):
        abort(404)
    return render_template("loans/show.html", loan=loan, classifications=CLASSIFICATIONS)
