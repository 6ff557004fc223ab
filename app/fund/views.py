"""The fund page: balance, committed claims, utilisation, review flag, ledger (filter, Excel);
the finance bureau's inflow form; the financial office's resume and review-acknowledge actions."""
from __future__ import annotations


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

import app.fund.handlers  # noqa: F401  (registers the rectification task pages)
from app.applications.models import Attachment
from app.compensation.operations import payout_queue
from app.core import audit, transaction, uploads
from app.core.db import db
from app.core.exports import send_workbook
from app.core.i18n import _, localname
from app.core.timeutil import parse_date, today
from app.fund import operations as fund_ops
from app.fund import rectification, thresholds
from app.fund.export import ledger_workbook
from app.loanbook import operations as book_ops
from app.loans.models import CLASSIFICATIONS, NON_PERFORMING
from app.fund.models import (INFLOW_FORM_KINDS, KIND_LABELS, FundAccount, FundEntry, Suspension, can_manage_thresholds,
                             can_post_inflow, can_view_fund)
from app.policies.models import Scheme
from forms.fund import InflowForm, ResumeForm, ReviewAckForm

bp = Blueprint("fund", __name__, url_prefix="/fund")
LEDGER_PER_PAGE = 100


def _scheme_or_404(scheme_id: int) -> Scheme:
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or not can_view_fund(scheme, current_user):
        abort(404)
    return scheme


def visible_schemes(user) -> list[Scheme]:
    return [s for s in db.session.scalars(select(Scheme).order_by(Scheme.id)) if can_view_fund(s, user)]


def committed_claims(scheme_id: int):
    """Approved, unpaid compensation (app/compensation's payout queue)."""
    claims = payout_queue(scheme_id)
    return claims, sum((c.payout_amount or 0 for c in claims), fund_ops.Decimal("0.00"))


def _filters():
    kind = request.args.get("kind") or None
    if kind and kind not in KIND_LABELS:
        kind = None
    errors = []

    def parse(name):
        raw = (request.args.get(name) or "").strip()
        day = parse_date(raw)
        if raw and day is None:
            errors.append(_("日期格式应为 YYYY-MM-DD：{v}").format(v=raw))
        return day
    d_from, d_to = parse("date_from"), parse("date_to")
    if d_from and d_to and d_from > d_to:
        errors.append(_("起始日期晚于截止日期"))
    return kind, d_from, d_to, errors


def _inflow_form(scheme) -> InflowForm:
    form = InflowForm()
    form.kind.choices = [("", "—")] + [(k, str(KIND_LABELS[k])) for k in INFLOW_FORM_KINDS]
    form.bank_id.choices = [(0, "—")] + [(o.id, localname(o)) for o in scheme.member_orgs("bank")]
    if not form.is_submitted():
        form.booked_on.data = today()
    return form


def _page(scheme, inflow_form=None, resume_form=None, ack_form=None, status=200):
    kind, d_from, d_to, filter_errors = _filters()
    total = fund_ops.count_entries(scheme.id, kind=kind, date_from=d_from, date_to=d_to)
    pages = max(1, -(-total // LEDGER_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    entries = fund_ops.entries(scheme.id, kind=kind, date_from=d_from, date_to=d_to, limit=LEDGER_PER_PAGE,
                               offset=(page - 1) * LEDGER_PER_PAGE)
    acct = db.session.scalar(select(FundAccount).where(FundAccount.scheme_id == scheme.id)) or \
        FundAccount(scheme_id=scheme.id, review_flag=False)       # not added: a GET writes nothing
    suspensions = list(db.session.scalars(select(Suspension).where(Suspension.scheme_id == scheme.id)
                                          .order_by(Suspension.id.desc())))
    ctx = dict(
        scheme=scheme, balance=fund_ops.balance(scheme.id), totals=fund_ops.totals(scheme.id),
        committed=committed_claims(scheme.id), util=thresholds.utilisation(scheme),
        volume=thresholds.loan_volume(scheme), account=acct, entries=entries, kind=kind,
        ledger_total=total, ledger_page=page, ledger_pages=pages,
        date_from=d_from, date_to=d_to, filter_errors=filter_errors, kind_labels=KIND_LABELS,
        suspensions=suspensions, banks=[(m, thresholds.bank_npl(scheme.id, m.organisation_id))
                                        for m in scheme.members if m.role == "bank"],
        npl_rule=thresholds.npl_rule(scheme.params),
        events=[e for e in audit.timeline(thresholds.SCHEME_SUBJECT, scheme.id)][-20:],
        can_inflow=can_post_inflow(scheme, current_user), can_manage=can_manage_thresholds(scheme, current_user),
        inflow_form=inflow_form if inflow_form is not None else
        (_inflow_form(scheme) if can_post_inflow(scheme, current_user) else None),
        resume_form=resume_form or ResumeForm(), ack_form=ack_form or ReviewAckForm())
    return render_template("fund/show.html", **ctx), status


@bp.route("/")
@login_required
def index():
    schemes = visible_schemes(current_user)
    if not schemes:
        abort(403)
    rows = [(s, fund_ops.balance(s.id), thresholds.utilisation(s)) for s in schemes]
    return render_template("fund/index.html", rows=rows)


@bp.route("/<int:scheme_id>")
@login_required
def show(scheme_id):
    return _page(_scheme_or_404(scheme_id))


@bp.route("/<int:scheme_id>/ledger.xlsx")
@login_required
def export(scheme_id):
    scheme = _scheme_or_404(scheme_id)
    kind, d_from, d_to, errors = _filters()
    if errors:
        abort(400)
    entries = fund_ops.entries(scheme.id, kind=kind, date_from=d_from, date_to=d_to)
    label = "；".join(x for x in [str(KIND_LABELS[kind]) if kind else "", d_from and f"≥ {d_from}",
                                  d_to and f"≤ {d_to}"] if x)
    wb = ledger_workbook(scheme, entries, fund_ops.balance(scheme.id), label)
    return send_workbook(wb, f"fund-ledger-{scheme.code}-{today():%Y%m%d}.xlsx")


@bp.route("/<int:scheme_id>/inflow", methods=["POST"])
@login_required
def inflow(scheme_id):
    scheme = _scheme_or_404(scheme_id)
    if not can_post_inflow(scheme, current_user):
        abort(403)
    form = _inflow_form(scheme)
    if form.validate_on_submit():
        try:
            entry, created = fund_ops.record_inflow(scheme, current_user, fund_ops.Inflow(
                kind=form.kind.data, voucher_no=form.voucher_no.data, booked_on=form.booked_on.data,
                amount=form.amount.data, base_amount=form.base_amount.data, bank_id=form.bank_id.data or None,
                period=form.period.data, memo=form.memo.data))
            if created:
                flash(_("已入账：{kind} {amount} 元").format(kind=entry.kind_label, amount=f"{entry.amount:,}"),
                      "success")
            else:
                flash(_("凭证号 {no} 已入账，未重复登记").format(no=form.voucher_no.data), "info")
            return redirect(url_for("fund.show", scheme_id=scheme.id))
        except fund_ops.FundError as exc:
            transaction.rollback()
            field = getattr(form, exc.field, None) if exc.field else None
            if field is not None:
                field.errors = list(field.errors) + [str(exc)]
            else:
                form.form_errors.append(str(exc))
    return _page(scheme, inflow_form=form, status=400)


@bp.route("/<int:scheme_id>/resume", methods=["POST"])
@login_required
def resume(scheme_id):
    scheme = _scheme_or_404(scheme_id)
    if not can_manage_thresholds(scheme, current_user):
        abort(403)
    form = ResumeForm()
    if form.validate_on_submit():
        try:
            thresholds.resume_scheme(scheme.id, current_user, form.reason.data)
            flash(_("已恢复受理新增贷款"), "success")
            return redirect(url_for("fund.show", scheme_id=scheme.id))
        except fund_ops.FundError as exc:
            transaction.rollback()
            form.reason.errors = list(form.reason.errors) + [str(exc)]
    return _page(db.session.get(Scheme, scheme_id), resume_form=form, status=400)


@bp.route("/<int:scheme_id>/review-ack", methods=["POST"])
@login_required
def review_ack(scheme_id):
    scheme = _scheme_or_404(scheme_id)
    if not can_manage_thresholds(scheme, current_user) and not can_post_inflow(scheme, current_user):
        abort(403)
    form = ReviewAckForm()
    if form.validate_on_submit():
        try:
            thresholds.acknowledge_review(scheme.id, current_user, form.note.data)
            flash(_("基金规模评估提示已处理"), "success")
            return redirect(url_for("fund.show", scheme_id=scheme.id))
        except fund_ops.FundError as exc:
            transaction.rollback()
            form.note.errors = list(form.note.errors) + [str(exc)]
    return _page(db.session.get(Scheme, scheme_id), ack_form=form, status=400)


@bp.route("/suspensions/<int:suspension_id>")
@login_required
def suspension(suspension_id):
    s = db.session.get(Suspension, suspension_id)
    if s is None or not s.can_view(current_user):
        abort(404)
    return render_template("fund/suspension.html", s=s, events=audit.timeline(rectification.SUBJECT, s.id),
                           attachments=rectification.attachments_of(s.id))


@bp.route("/suspensions/attachments/<int:att_id>")
@login_required
def suspension_attachment(att_id):
    att = db.session.get(Attachment, att_id)
    if att is None or att.subject_type != rectification.SUBJECT:
        abort(404)
    s = db.session.get(Suspension, att.subject_id)
    if s is None or not s.can_view(current_user):
        abort(404)
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


__all__ = ["bp", "FundEntry"]


# ---------------------------------------------------------------------------- where a figure comes from

@bp.route("/<int:scheme_id>/trace/volume")
@login_required
def trace_volume(scheme_id):
    """The loans and loan-book rows behind 合作贷款余额 (the 10× review)."""
    scheme = _scheme_or_404(scheme_id)
    if current_user.is_kind("bank"):
        abort(404)
    return _trace(scheme, None, thresholds.volume_loans(scheme.id), thresholds.loan_volume(scheme).loans_total)


@bp.route("/<int:scheme_id>/trace/npl/<int:bank_id>")
@login_required
def trace_npl(scheme_id, bank_id):
    """The loans and loan-book rows behind one bank's NPL ratio."""
    scheme = _scheme_or_404(scheme_id)
    member = scheme.member(bank_id, "bank")
    if member is None or (current_user.is_kind("bank") and current_user.organisation_id != bank_id):
        abort(404)
    n = thresholds.bank_npl(scheme.id, bank_id)
    return _trace(scheme, member.organisation, thresholds.npl_loans(scheme.id, bank_id), n.total_principal, n)


def _trace(scheme, bank, loans, total, npl=None):
    return render_template("fund/trace.html", scheme=scheme, bank=bank, positions=book_ops.positions(loans),
                           total=total, npl=npl, non_performing=NON_PERFORMING, classifications=CLASSIFICATIONS)
