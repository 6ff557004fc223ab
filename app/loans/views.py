from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app.core.db import db
from app.loans.models import CLASSIFICATIONS, Loan
from app.registers import views as registers

bp = Blueprint("loans", __name__, url_prefix="/loans")


@bp.route("/")
@login_required
def index():
    """The loan register (filters, pages, Excel): app/registers."""
    return registers.render("loans", "loans.index")


@bp.route("/<int:loan_id>")
@login_required
def show(loan_id):
    loan = db.session.get(Loan, loan_id)
    if loan is None or not loan.can_view(current_user):
        abort(404)
    return render_template("loans/show.html", loan=loan, classifications=CLASSIFICATIONS)
