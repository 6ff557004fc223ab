"""Pages of the credit side: the public 公示 page (no login), the recommended list, blacklists, persons."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

import app.credit.handlers  # noqa: F401  (registers the recommended-list task pages)
from app.accounts.models import Organisation, OrgKind
from app.accounts.throttle import limiter
from app.applications.models import Attachment
from app.compensation.models import CompensationClaim
from app.core import audit, transaction, uploads
from app.core.db import db
from app.core.errors import DomainError, NotAllowed, NotFound
from app.core.i18n import _, localname
from app.core.timeutil import today
from app.core.exports import send_workbook
from app.credit import blacklist, commitments, recommended, sources as credit_sources
from app.credit.models import (BLACKLIST_SOURCES, PERSON_ROLES, BlacklistEntry, CreditCommitment, CreditSourceUnit,
                               ListEntry, ListNomination)
from app.policies.models import Scheme
from forms.credit import (AppealDecisionForm, AppealForm, BlacklistEntryForm, BlacklistImportForm,
                          CommitmentGenerateForm, CommitmentUploadForm, ConfirmForm, NominationForm, ObjectionForm, PersonForm, ProposeForm, ReasonForm, ResolveObjectionForm,
                          SourceUnitForm)

bp = Blueprint("credit", __name__)


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


def _files(*names) -> dict[str, list[tuple[str, bytes]]]:
    return {n: [(f.filename, f.read()) for f in request.files.getlist(n) if f and f.filename] for n in names}


# ---------------------------------------------------------------------------- the public page (no login)

def objection_limit() -> str:
    return current_app.config.get("OBJECTION_LIMIT", "5 per hour")


@bp.route("/public/list")
def public_list():
    on = recommended.today()
    return render_template("credit/public.html", notices=recommended.public_notices(on),
                           listed=recommended.public_listed(on), form=ObjectionForm(), on=on,
                           commitments=commitments.public())


@bp.route("/public/list/<int:nomination_id>/objection", methods=["POST"])
@limiter.limit(objection_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 302)
def lodge_objection(nomination_id):
    form = ObjectionForm()
    n = db.session.get(ListNomination, nomination_id)
    if n is None or not recommended.in_notice(n, recommended.today()):
        abort(404)
    if form.validate_on_submit():
        try:
            recommended.lodge_objection(n.id, form.name.data, form.contact.data, form.text.data,
                                        request.remote_addr or "")
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("异议已登记，领导小组办公室将逐件处理并告知结果"), "success")
            return redirect(url_for("credit.public_list"))
    on = recommended.today()
    return render_template("credit/public.html", notices=recommended.public_notices(on),
                           listed=recommended.public_listed(on), form=form, on=on, failed=n.id,
                           commitments=commitments.public()), 400


@bp.route("/public/commitments/<int:commitment_id>")
def public_commitment(commitment_id):
    c = db.session.get(CreditCommitment, commitment_id)
    if c is None or c not in commitments.public() or c.attachment_id is None:
        abort(404)
    att = db.session.get(Attachment, c.attachment_id)
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


# ---------------------------------------------------------------------------- the recommended list

def _nomination(nomination_id) -> ListNomination:
    n = db.session.get(ListNomination, nomination_id)
    if n is None or not recommended.can_view(n, current_user):
        abort(404)
    return n


@bp.route("/credit/list")
@login_required
def list_index():
    if current_user.is_kind(OrgKind.enterprise, OrgKind.bank, OrgKind.data_source, OrgKind.guarantee,
                            OrgKind.service_centre):
        abort(403)
    return render_template("credit/list_index.html", nominations=recommended.nominations_for(current_user),
                           entries=recommended.entries_for_office(current_user), on=recommended.today(),
                           can_nominate=current_user.is_kind(OrgKind.department))


def _nomination_choices(form):
    form.scheme_id.choices = [(s.id, localname(s)) for s in recommended.list_schemes()]
    firms = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrgKind.enterprise.value, Organisation.verification == "verified",
        Organisation.sector.has(department_id=current_user.organisation_id)).order_by(Organisation.name).limit(1000))
    form.firm_id.choices = [(f.id, _("{name}（{detail}）").format(name=localname(f), detail=f.code or "")) for f in firms]


@bp.route("/credit/list/nominate", methods=["GET", "POST"])
@login_required
def nominate():
    if not current_user.is_kind(OrgKind.department):
        abort(403)
    form = NominationForm()
    _nomination_choices(form)
    if form.validate_on_submit():
        written: list[str] = []
        transaction.on_rollback(lambda: uploads.discard(written))
        try:
            n = recommended.nominate(current_user, form.scheme_id.data, form.firm_id.data, form.screening_opinion.data,
                                     form.operations.data, form.loan_plan.data,
                                     _files("licence", "tax_proof", "credit_report", "other"), written)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已推荐，等待领导小组办公室审核"), "success")
            return redirect(url_for("credit.nomination", nomination_id=n.id))
    return render_template("credit/nominate.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/credit/list/nominations/<int:nomination_id>")
@login_required
def nomination(nomination_id):
    n = _nomination(nomination_id)
    scheme = db.session.get(Scheme, n.scheme_id)
    return render_template("credit/nomination.html", n=n, events=audit.timeline(recommended.SUBJECT, n.id),
                           materials=recommended.materials_of(n.id), labels=recommended.MATERIALS,
                           is_office=recommended.is_office(current_user, scheme),
                           resolve_form=ResolveObjectionForm())


@bp.route("/credit/list/materials/<int:attachment_id>")
@login_required
def material(attachment_id):
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.subject_type != recommended.SUBJECT:
        abort(404)
    _nomination(att.subject_id)
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


@bp.route("/credit/list/objections/<int:objection_id>/resolve", methods=["POST"])
@login_required
def resolve_objection(objection_id):
    form = ResolveObjectionForm()
    from_task = request.args.get("task", type=int)
    if form.validate_on_submit():
        try:
            o = recommended.resolve_objection(objection_id, current_user, form.outcome.data, form.reason.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("异议已处理"), "success")
            if from_task:
                return redirect(url_for("tasks.show", task_id=from_task))
            return redirect(url_for("credit.nomination", nomination_id=o.nomination_id))
    for errs in form.errors.values():
        for e in errs:
            flash(e, "danger")
    return render_template("errors/refused.html", message=_("异议未处理，请填写处理结果和理由"), status=400), 400


def _entry_action(entry_id, fn, done):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            fn(entry_id, current_user, form.reason.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for("credit.list_index"))
    e = db.session.get(ListEntry, entry_id)
    if e is None:
        abort(404)
    return render_template("credit/list_index.html", nominations=recommended.nominations_for(current_user),
                           entries=recommended.entries_for_office(current_user), on=recommended.today(), can_nominate=False,
                           failed_form=form, failed_entry=entry_id), 400


@bp.route("/credit/list/entries/<int:entry_id>/renew", methods=["POST"])
@login_required
def renew_entry(entry_id):
    return _entry_action(entry_id, recommended.renew, _("复核通过，名单有效期已续期"))


@bp.route("/credit/list/entries/<int:entry_id>/remove", methods=["POST"])
@login_required
def remove_entry(entry_id):
    return _entry_action(entry_id, recommended.remove, _("已移出推荐名单"))


# ---------------------------------------------------------------------------- blacklist

def _manager():
    if not blacklist.can_manage(current_user):
        abort(403)


def _entry_form(form=None):
    form = form or BlacklistEntryForm()
    form.source.choices = [(k, _(v)) for k, v in BLACKLIST_SOURCES.items()]
    form.scheme_id.choices = [(0, "—")] + [(s.id, localname(s)) for s in db.session.scalars(
        select(Scheme).where(Scheme.active.is_(True)).order_by(Scheme.id))]
    if not form.is_submitted():
        form.starts_on.data = today()
    return form


def _blacklist_page(status=200, **kw):
    kw.setdefault("form", _entry_form())
    kw.setdefault("import_form", BlacklistImportForm())
    return render_template("credit/blacklist.html", entries=blacklist.entries(), on=today(),
                           reason_form=ReasonForm(), confirm_form=ConfirmForm(),
                           decision_form=AppealDecisionForm(), **kw), status


@bp.route("/credit/blacklist")
@login_required
def blacklist_index():
    _manager()
    return _blacklist_page()


@bp.route("/credit/blacklist/new", methods=["POST"])
@login_required
def blacklist_new():
    _manager()
    form = _entry_form()
    if form.validate_on_submit():
        d = blacklist.EntryInput(subject=form.subject.data, source=form.source.data, reason=form.reason.data,
                                 basis=form.basis.data or "", uscc=form.uscc.data or "",
                                 firm_name=form.firm_name.data or "", person_name=form.person_name.data or "",
                                 id_number=form.id_number.data or "", starts_on=form.starts_on.data,
                                 expires_on=form.expires_on.data, scheme_id=form.scheme_id.data or None)
        errors = blacklist.check_input(d)
        for field, message in errors.items():
            getattr(form, field).errors = list(getattr(form, field).errors) + [message]
        if not errors:
            try:
                blacklist.add_entry(current_user, d)
            except DomainError as exc:
                _refused(form, exc)
            else:
                flash(_("已列入黑名单"), "success")
                return redirect(url_for("credit.blacklist_index"))
    form.id_number.data = ""          # never shown back in clear
    return _blacklist_page(400, form=form)


@bp.route("/credit/blacklist/import", methods=["POST"])
@login_required
def blacklist_import():
    _manager()
    form = BlacklistImportForm()
    errors = []
    if form.validate_on_submit():
        f = request.files.get("file")
        if f is None or not f.filename:
            form.file.errors = list(form.file.errors) + [_("请选择 .xlsx 文件")]
        else:
            try:
                rows = blacklist.import_workbook(current_user, f.read())
            except blacklist.ImportRefused as exc:
                transaction.rollback()
                errors = exc.errors
                form.file.errors = list(form.file.errors) + [str(exc)]
            else:
                flash(_("已导入 {n} 条黑名单记录").format(n=len(rows)), "success")
                return redirect(url_for("credit.blacklist_index"))
    return _blacklist_page(400, import_form=form, import_errors=errors)


def _entry(entry_id) -> BlacklistEntry:
    e = db.session.get(BlacklistEntry, entry_id)
    if e is None:
        abort(404)
    return e


@bp.route("/credit/blacklist/<int:entry_id>")
@login_required
def blacklist_entry(entry_id):
    e = _entry(entry_id)
    if not (blacklist.can_manage(current_user) or current_user.organisation_id == e.enterprise_id):
        abort(404)
    return render_template("credit/blacklist_entry.html", e=e, events=audit.timeline(blacklist.SUBJECT, e.id),
                           reason_form=ReasonForm(), appeal_form=AppealForm(), decision_form=AppealDecisionForm(),
                           confirm_form=ConfirmForm(), can_manage=blacklist.can_manage(current_user),
                           can_appeal=blacklist.can_appeal(current_user, e))


def _entry_post(entry_id, form, fn, done):
    if form.validate_on_submit():
        try:
            fn(form)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for("credit.blacklist_entry", entry_id=entry_id))
    for errs in form.errors.values():
        for msg in errs:
            flash(msg, "danger")
    return blacklist_entry(entry_id), 400


@bp.route("/credit/blacklist/<int:entry_id>/remove", methods=["POST"])
@login_required
def blacklist_remove(entry_id):
    _manager()
    return _entry_post(entry_id, ReasonForm(), lambda f: blacklist.remove(current_user, entry_id, f.reason.data),
                       _("已移出黑名单"))


@bp.route("/credit/blacklist/<int:entry_id>/appeal", methods=["POST"])
@login_required
def blacklist_appeal(entry_id):
    e = _entry(entry_id)
    if not blacklist.can_appeal(current_user, e):
        abort(404)
    return _entry_post(entry_id, AppealForm(), lambda f: blacklist.appeal(current_user, entry_id, f.text.data),
                       _("申诉已提交"))


@bp.route("/credit/blacklist/<int:entry_id>/appeal/decide", methods=["POST"])
@login_required
def blacklist_appeal_decide(entry_id):
    _manager()
    return _entry_post(entry_id, AppealDecisionForm(),
                       lambda f: blacklist.decide_appeal(current_user, entry_id, f.outcome.data, f.reason.data),
                       _("申诉已处理"))


@bp.route("/credit/blacklist/<int:entry_id>/confirm", methods=["POST"])
@login_required
def blacklist_confirm(entry_id):
    if not current_user.is_kind(OrgKind.financial_office):
        abort(403)
    return _entry_post(entry_id, ConfirmForm(),
                       lambda f: blacklist.confirm(current_user, entry_id, f.decision.data == "confirm", f.reason.data),
                       _("已处理"))


@bp.route("/credit/claims/<int:claim_id>/propose", methods=["GET", "POST"])
@login_required
def propose(claim_id):
    claim = db.session.get(CompensationClaim, claim_id)
    if claim is None or not blacklist.can_propose(current_user, claim):
        abort(404)
    form = ProposeForm()
    if form.validate_on_submit():
        try:
            e = blacklist.propose_from_claim(current_user, claim.id, form.reason.data, form.basis.data or "")
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已提议列入黑名单，待金融办确认"), "success")
            return redirect(url_for("credit.blacklist_entry", entry_id=e.id) if blacklist.can_manage(current_user)
                            else url_for("compensation.show", claim_id=claim.id))
    return render_template("credit/propose.html", claim=claim, form=form), 400 if form.is_submitted() else 200


# ---------------------------------------------------------------------------- persons of a firm

def _persons_page(form=None, status=200):
    firm = current_user.organisation
    form = form or PersonForm()
    form.role.choices = [(k, _(v)) for k, v in PERSON_ROLES.items()]
    form.id_number.data = ""          # never shown back in clear
    return render_template("credit/persons.html", form=form, persons=blacklist.persons_of(firm.id),
                           entries=blacklist.entries_of_firm(firm.id), remove_form=ReasonForm()), status


@bp.route("/credit/persons", methods=["GET", "POST"])
@login_required
def persons():
    if not current_user.is_kind(OrgKind.enterprise):
        abort(403)
    form = PersonForm()
    form.role.choices = [(k, _(v)) for k, v in PERSON_ROLES.items()]
    if form.validate_on_submit():
        try:
            blacklist.record_person(current_user, current_user.organisation, form.role.data, form.name.data,
                                    form.id_number.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已登记"), "success")
            return redirect(url_for("credit.persons"))
    return _persons_page(form, 400 if form.is_submitted() else 200)


@bp.route("/credit/persons/<int:person_id>/remove", methods=["POST"])
@login_required
def remove_person(person_id):
    if not current_user.is_kind(OrgKind.enterprise):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("请填写删除理由"), "danger")
        return _persons_page(status=400)
    try:
        blacklist.remove_person(current_user, person_id, form.reason.data)
    except NotFound:
        abort(404)
    flash(_("已删除"), "success")
    return redirect(url_for("credit.persons"))


# ---------------------------------------------------------------------------- credit commitments

def _commitment_page(form=None, status=200):
    firm = current_user.organisation
    valid, why = commitments.gate_fact(firm)
    return render_template("credit/commitment.html", rows=commitments.of_firm(firm.id), valid=valid, why=why,
                           generate_form=CommitmentGenerateForm(), upload_form=form or CommitmentUploadForm(),
                           firm=firm), status


@bp.route("/credit/commitment")
@login_required
def commitment():
    if not current_user.is_kind(OrgKind.enterprise):
        abort(403)
    return _commitment_page()


@bp.route("/credit/commitment/generate", methods=["POST"])
@login_required
def commitment_generate():
    if not current_user.is_kind(OrgKind.enterprise):
        abort(403)
    form = CommitmentGenerateForm()
    if not form.validate_on_submit():
        flash(_("请求已失效，请刷新页面后重试"), "danger")
        return _commitment_page(status=400)
    try:
        c, _pdf = commitments.generate(current_user)
    except DomainError as exc:
        _refused(form, exc)
        return _commitment_page(status=400)
    flash(_("承诺书已生成：请下载，由法定代表人签字并加盖公章后上传"), "success")
    return redirect(url_for("credit.commitment", _anchor=f"c-{c.id}"))


@bp.route("/credit/commitment/<int:commitment_id>.pdf")
@login_required
def commitment_pdf(commitment_id):
    c = db.session.get(CreditCommitment, commitment_id)
    if c is None or not (c.enterprise_id == current_user.organisation_id
                         or current_user.is_kind(OrgKind.financial_office, OrgKind.admin)):
        abort(404)
    resp = current_app.response_class(commitments.pdf_of(c), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename=commitment-{c.id}.pdf"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/credit/commitment/<int:commitment_id>/upload", methods=["POST"])
@login_required
def commitment_upload(commitment_id):
    if not current_user.is_kind(OrgKind.enterprise):
        abort(403)
    form = CommitmentUploadForm()
    if form.validate_on_submit():
        f = request.files.get("file")
        written: list[str] = []
        transaction.on_rollback(lambda: uploads.discard(written))
        try:
            commitments.upload_signed(current_user, commitment_id, f.filename if f else "",
                                      f.read() if f and f.filename else b"", written)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已上传，等待接受承诺单位确认"), "success")
            return redirect(url_for("credit.commitment"))
    return _commitment_page(form, 400)


@bp.route("/credit/commitments")
@login_required
def commitments_index():
    if not current_user.is_kind(OrgKind.financial_office, OrgKind.admin):
        abort(403)
    return render_template("credit/commitments.html", rows=commitments.pending(), form=ConfirmForm())


@bp.route("/credit/commitments/<int:commitment_id>/decide", methods=["POST"])
@login_required
def commitment_decide(commitment_id):
    if not current_user.is_kind(OrgKind.financial_office):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            commitments.decide(current_user, commitment_id, form.decision.data == "confirm", form.reason.data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            flash(_("已处理"), "success")
            return redirect(url_for("credit.commitments_index"))
    return render_template("credit/commitments.html", rows=commitments.pending(), form=form,
                           failed=commitment_id), 400


@bp.route("/credit/commitments/<int:commitment_id>/signed")
@login_required
def commitment_signed(commitment_id):
    c = db.session.get(CreditCommitment, commitment_id)
    if c is None or c.attachment_id is None or not (
            c.enterprise_id == current_user.organisation_id or current_user.is_kind(OrgKind.financial_office,
                                                                                     OrgKind.admin)):
        abort(404)
    att = db.session.get(Attachment, c.attachment_id)
    return uploads.send_stored(att.stored_name, att.original_name, att.content_type)


# ---------------------------------------------------------------------------- credit data from its sources

def _unit_form() -> SourceUnitForm:
    form = SourceUnitForm()
    form.category.choices = [(c.code, c.label) for c in credit_sources.CATEGORIES.values()]
    return form


@bp.route("/credit/sources")
@login_required
def source_categories():
    """The categories of source units and their templates (data: app/credit/data/source_categories.json);
    an administrator sets each source unit's category here."""
    units = db.session.execute(select(Organisation, CreditSourceUnit.category)
                               .outerjoin(CreditSourceUnit, CreditSourceUnit.org_id == Organisation.id)
                               .where(Organisation.kind == OrgKind.data_source.value)
                               .order_by(Organisation.id)).all()
    return render_template("credit/sources.html", categories=list(credit_sources.CATEGORIES.values()), units=units,
                           form=_unit_form() if current_user.is_kind(OrgKind.admin) else None)


@bp.route("/credit/sources/units/<int:org_id>", methods=["POST"])
@login_required
def source_unit(org_id):
    if not current_user.is_kind(OrgKind.admin):
        abort(403)
    org = db.session.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.data_source.value:
        abort(404)
    form = _unit_form()
    if not form.validate_on_submit():
        flash("；".join(str(e) for e in form.category.errors) or _("请选择报送类别"), "danger")
        return source_categories(), 400
    credit_sources.assign_unit(org, form.category.data, current_user)
    flash(_("已设置“{org}”的报送类别").format(org=org.name), "success")
    return redirect(url_for("credit.source_categories"))


@bp.route("/credit/sources/<code>/template.<fmt>")
@login_required
def source_template(code, fmt):
    cat = credit_sources.CATEGORIES.get(code)
    if cat is None or fmt not in ("xlsx", "csv"):
        abort(404)
    if fmt == "xlsx":
        return send_workbook(credit_sources.template_workbook(cat), f"credit-data-{cat.code}.xlsx")
    return send_file(io.BytesIO(credit_sources.template_csv(cat)), mimetype="text/csv; charset=utf-8",
                     as_attachment=True, download_name=f"credit-data-{cat.code}.csv")
