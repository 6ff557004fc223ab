"""Administrators' pages for the API: issue and revoke organisation tokens, read the call log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import Organisation
from app.api import tokens
from app.api.models import ApiCall
from app.core import transaction
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _, localname
from forms.loanbook import IssueTokenForm, RevokeTokenForm

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api")


def _admin():
    if not current_user.is_kind("admin"):
        abort(403)


def _issue_form() -> IssueTokenForm:
    form = IssueTokenForm()
    orgs = db.session.scalars(select(Organisation).where(Organisation.kind.not_in(("admin", "enterprise")))
                              .order_by(Organisation.kind, Organisation.id))
    form.organisation_id.choices = [(0, "—")] + [(o.id, _("{name}（{detail}）").format(name=localname(o), detail=o.kind_label))
                                                for o in orgs]
    return form


def _page(form=None, new_token=None, status=200):
    return render_template("admin/api_tokens.html", form=form or _issue_form(), revoke_form=RevokeTokenForm(),
                           tokens=tokens.all_tokens(), new_token=new_token), status


@bp.route("/tokens")
@login_required
def index():
    _admin()
    return _page()


@bp.route("/tokens", methods=["POST"])
@login_required
def issue():
    _admin()
    form = _issue_form()
    if form.validate_on_submit():
        try:
            token, raw = tokens.issue(form.organisation_id.data, form.name.data, current_user)
        except DomainError as exc:
            transaction.rollback()
            target = getattr(form, exc.field or "", None)
            (target.errors.append if target is not None else form.form_errors.append)(str(exc))
        else:
            # shown on this answer only: never flashed (the session cookie is signed, not encrypted)
            return _page(new_token=(token, raw))
    return _page(form=form, status=400)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id):
    _admin()
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        abort(400)
    token = tokens.revoke(token_id, current_user)
    flash(_("令牌 {prefix}… 已吊销").format(prefix=token.prefix), "success")
    return redirect(url_for("api_admin.index"), 303)


@bp.route("/calls")
@login_required
def calls():
    _admin()
    rows = list(db.session.scalars(select(ApiCall).order_by(ApiCall.id.desc()).limit(500)))
    return render_template("admin/api_calls.html", calls=rows)
