from functools import wraps

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import Organisation, User
from app.core.db import db
from app.policies.models import ReferenceRate, Scheme

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(fn):
    @wraps(fn)
    @login_required
    def wrapper(*a, **kw):
        if not current_user.is_kind("admin"):
            abort(403)
        return fn(*a, **kw)
    return wrapper


@bp.route("/")
@admin_required
def index():
    orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.id)))
    users = list(db.session.scalars(select(User).order_by(User.organisation_id, User.id)))
    return render_template("admin/index.html", orgs=orgs, users=users)


@bp.route("/schemes")
@admin_required
def schemes():
    rows = list(db.session.scalars(select(Scheme).order_by(Scheme.id)))
    rates = list(db.session.scalars(select(ReferenceRate).order_by(ReferenceRate.kind, ReferenceRate.effective_from)))
    return render_template("admin/schemes.html", schemes=rows, rates=rates)
