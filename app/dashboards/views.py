"""Dashboards: the scheme members' (finance bureau, financial office; 人民银行 and 银保监 read-only) across
their schemes, and each bank's own.  Charts are drawn by app/static/dashboard.js from JSON script tags."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.core.db import db
from app.core.i18n import _
from app.dashboards import data
from app.policies.models import Scheme
from app.registers import scope

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")
SCHEME_VIEWERS = ("admin",) + scope.SCHEME_KINDS


def _schemes(user) -> list[Scheme]:
    ids = scope.visible_scheme_ids(user)
    q = select(Scheme).order_by(Scheme.id)
    if ids is not None:
        q = q.where(Scheme.id.in_(ids or [0]))
    return list(db.session.scalars(q))


def may_view(user) -> bool:
    return user.organisation.kind in SCHEME_VIEWERS + ("bank",)


@bp.route("/")
@login_required
def index():
    kind = current_user.organisation.kind
    if not may_view(current_user):
        abort(403)
    schemes = _schemes(current_user)
    if kind != "admin":
        schemes = [s for s in schemes if s.member(current_user.organisation_id, kind) is not None]
    chosen, error = schemes, None
    raw = request.args.get("scheme", "")
    if raw:
        chosen = [s for s in schemes if str(s.id) == raw.strip()]
        if not chosen:
            chosen, error = schemes, _("政策：无效的值")
    if kind == "bank":
        bank_id = current_user.organisation_id
        charts = [data.portfolio(bank_id, chosen), data.lending_by_month(bank_id, chosen),
                  data.claims_by_stage(chosen, bank_id), data.payouts_and_recoveries(chosen, bank_id),
                  data.deadlines(bank_id)]
        links = {"portfolio": url_for("loans.index"), "lending": url_for("loans.index", sort="-disbursed"),
                 "claims": url_for("compensation.index", stage="open"), "payouts": url_for("compensation.index"),
                 "deadlines": url_for("tasks.queue")}
        title, summary = _("本行业务看板"), data.loan_status(bank_id, chosen)
    else:
        charts = [data.fund_balance(chosen), data.utilisation(chosen), data.payouts_and_recoveries(chosen),
                  data.claims_by_stage(chosen), data.overdue_steps(chosen), data.npl_by_bank(chosen), data.npl_history(chosen)]
        links = {"fund_balance": url_for("registers.show", name="fund"),
                 "payouts": url_for("registers.show", name="fund", direction="out"),
                 "claims": url_for("compensation.index", stage="open"), "npl": url_for("loans.index"),
                 "npl_history": url_for("loanbook.index")}
        title, summary = _("风险补偿业务看板"), None
    for c in charts:
        c.link = links.get(c.key)
    read_only = kind in ("pboc", "regulator")
    return render_template("dashboards/show.html", title=title, charts=charts, schemes=schemes, chosen=chosen,
                           error=error, summary=summary, read_only=read_only,
                           balances=data.balances(chosen) if kind != "bank" else [])
