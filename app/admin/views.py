"""The administrator's pages: organisations, sectors, users, blacklist, schemes (members and
parameters with history), reference rates and process versions.  Only organisations of kind
"admin" reach /admin/*.  Thin views: the rules are in app/admin/operations.py."""
from functools import wraps

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.accounts.models import ORG_KIND_LABELS, Organisation, OrgKind, Sector, User
from app.admin import modeler
from app.admin import operations as ops
from app.credit import blacklist as credit_blacklist
from app.core import audit, transaction
from app.core.db import db
from app.core.i18n import _, localname
from app.core.timeutil import today
from app.formjs.models import FormArtifact
from app.policies import bindings, replay
from app.policies.models import Scheme, SchemeMember
from app.policies.presets import load_preset, preset_codes, scheme_citations
from app.policies.rates import KIND_LABELS as RATE_KIND_LABELS
from app.workflow.models import ProcessSpec
from forms.admin import (BindingForm, BlacklistForm, MemberForm, OrganisationForm, ParamsForm, PasswordResetForm, RateForm,
                         SchemeActiveForm, SchemeForm, SectorForm, UserForm)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(fn):
    @wraps(fn)
    @login_required
    def wrapper(*a, **kw):
        if not current_user.is_kind("admin"):
            abort(403)
        return fn(*a, **kw)
    return wrapper


def _refuse(form, exc: ops.AdminError, default_field: str):
    """Show an operation's refusal next to its field, after undoing anything it flushed."""
    transaction.rollback()
    if exc.field is None and not getattr(exc, "errors", None):   # not about one field: say it on top
        flash(str(exc), "danger")
        return
    f = getattr(form, exc.field or default_field, None) or getattr(form, default_field)
    f.errors = list(f.errors) + [str(exc)]
    for key, msg in getattr(exc, "errors", {}).items():
        f.errors.append(f"{key}: {msg}")


def _get(model, ident):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def _csrf_ok():
    if not FlaskForm().validate_on_submit():
        abort(400)


# ---------------------------------------------------------------------------- overview, organisations

@bp.route("/")
@admin_required
def index():
    orgs = list(db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.id)))
    users = list(db.session.scalars(select(User).order_by(User.organisation_id, User.id)))
    return render_template("admin/index.html", orgs=orgs, users=users,
                           blacklisted_ids=credit_blacklist.blacklisted_firm_ids(today()))


def _kind_choices():
    return [(k.value, ORG_KIND_LABELS[k]) for k in OrgKind]


def _org_form(org=None):
    form = OrganisationForm(obj=org)
    form.kind.choices = _kind_choices()
    sectors = list(db.session.scalars(select(Sector).order_by(Sector.code)))
    form.sector_ids.choices = [(s.id, _("{name}（{detail}）").format(
        name=localname(s), detail=localname(s.department) if s.department else _("未指定部门"))) for s in sectors]
    if org is not None and not form.is_submitted():
        form.sector_ids.data = ops.department_sector_ids(org)
    return form


@bp.route("/orgs/new", methods=["GET", "POST"])
@admin_required
def org_new():
    form = _org_form()
    if form.validate_on_submit():
        try:
            org = ops.create_organisation(current_user, kind=form.kind.data, name=form.name.data,
                                          name_en=form.name_en.data, code=form.code.data,
                                          sector_ids=form.sector_ids.data)
            flash(_("已创建机构“{n}”").format(n=org.name), "success")
            return redirect(url_for("admin.org", org_id=org.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "name")
    return render_template("admin/org_form.html", form=form, org=None), 400 if form.is_submitted() else 200


def _org_page(org, form=None, user_form=None, blacklist_form=None, status=200):
    return render_template(
        "admin/org.html", org=org, form=form or _org_form(org), user_form=user_form or UserForm(),
        blacklist_form=blacklist_form or BlacklistForm(), in_use=ops.org_in_use(org),
        users=list(db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.id))),
        events=audit.timeline("organisation", org.id),
        memberships=list(db.session.scalars(select(SchemeMember).where(SchemeMember.organisation_id == org.id))),
        role_labels={k.value: v for k, v in ORG_KIND_LABELS.items()},
        bl_entries=credit_blacklist.firm_hits(org, today()) if org.kind == "enterprise" else [],
    ), status


@bp.route("/orgs/<int:org_id>", methods=["GET", "POST"])
@admin_required
def org(org_id):
    org = _get(Organisation, org_id)
    if request.method == "GET":
        return _org_page(org)
    form = _org_form(org)
    if form.validate_on_submit():
        try:
            ops.update_organisation(current_user, org, kind=form.kind.data, name=form.name.data,
                                    name_en=form.name_en.data, code=form.code.data, sector_ids=form.sector_ids.data)
            flash(_("已保存"), "success")
            return redirect(url_for("admin.org", org_id=org.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "name")
            org = _get(Organisation, org_id)
    return _org_page(org, form=form, status=400)


@bp.route("/orgs/<int:org_id>/users", methods=["POST"])
@admin_required
def user_new(org_id):
    org = _get(Organisation, org_id)
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = ops.create_user(current_user, org, username=form.username.data,
                                   display_name=form.display_name.data, password=form.password.data,
                                   email=form.email.data, is_supervisor=form.is_supervisor.data)
            flash(_("已创建用户 {u}").format(u=user.username), "success")
            return redirect(url_for("admin.org", org_id=org.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "username")
            org = _get(Organisation, org_id)
    return _org_page(org, user_form=form, status=400)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id):
    user = _get(User, user_id)
    _csrf_ok()
    active = request.form.get("active") == "1"
    try:
        ops.set_user_active(current_user, user, active)
        flash((_("已启用 {u}") if active else _("已停用 {u}")).format(u=user.username), "success")
    except ops.AdminError as exc:
        transaction.rollback()
        flash(str(exc), "danger")
        return _org_page(_get(Organisation, user.organisation_id), status=400)
    return redirect(url_for("admin.org", org_id=user.organisation_id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def user_password(user_id):
    user = _get(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            ops.reset_password(current_user, user, form.password.data)
            flash(_("已重置 {u} 的密码").format(u=user.username), "success")
            return redirect(url_for("admin.org", org_id=user.organisation_id))
        except ops.AdminError as exc:
            _refuse(form, exc, "password")
    return render_template("admin/password.html", form=form, user=_get(User, user_id)), \
        400 if form.is_submitted() else 200


@bp.route("/orgs/<int:org_id>/blacklist", methods=["POST"])
@admin_required
def blacklist(org_id):
    org = _get(Organisation, org_id)
    form = BlacklistForm()
    remove = request.form.get("action") == "remove"
    if form.validate_on_submit():
        try:
            (ops.unblacklist if remove else ops.blacklist)(current_user, org, form.reason.data)
            flash(_("已移出黑名单") if remove else _("已列入黑名单"), "success")
            return redirect(url_for("admin.org", org_id=org.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "reason")
            org = _get(Organisation, org_id)
    return _org_page(org, blacklist_form=form, status=400)


# ---------------------------------------------------------------------------- sectors

def _sector_form(sector=None):
    form = SectorForm(obj=sector)
    depts = db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.department.value)
                               .order_by(Organisation.id))
    form.department_id.choices = [(0, _("（未指定）"))] + [(d.id, d.name) for d in depts]
    if sector is not None and not form.is_submitted():
        form.department_id.data = sector.department_id or 0
    return form


@bp.route("/sectors/", methods=["GET", "POST"])
@admin_required
def sectors():
    form = _sector_form()
    if form.validate_on_submit():
        try:
            s = ops.save_sector(None, code=form.code.data, name=form.name.data, name_en=form.name_en.data,
                                department_id=form.department_id.data)
            flash(_("已添加行业“{n}”").format(n=s.name), "success")
            return redirect(url_for("admin.sectors"))
        except ops.AdminError as exc:
            _refuse(form, exc, "code")
    rows = list(db.session.scalars(select(Sector).order_by(Sector.code)))
    return render_template("admin/sectors.html", form=form, sectors=rows), 400 if form.is_submitted() else 200


@bp.route("/sectors/<int:sector_id>", methods=["GET", "POST"])
@admin_required
def sector(sector_id):
    s = _get(Sector, sector_id)
    form = _sector_form(s)
    if form.validate_on_submit():
        try:
            ops.save_sector(s, code=form.code.data, name=form.name.data, name_en=form.name_en.data,
                            department_id=form.department_id.data)
            flash(_("已保存"), "success")
            return redirect(url_for("admin.sectors"))
        except ops.AdminError as exc:
            _refuse(form, exc, "code")
    return render_template("admin/sector.html", form=form, sector=_get(Sector, sector_id)), \
        400 if form.is_submitted() else 200


# ---------------------------------------------------------------------------- schemes

def _scheme_form():
    form = SchemeForm()
    form.preset.choices = [(c, _("{name}（{detail}）").format(name=localname(load_preset(c)), detail=c)) for c in preset_codes()]
    return form


@bp.route("/schemes", methods=["GET", "POST"])
@admin_required
def schemes():
    form = _scheme_form()
    if form.validate_on_submit():
        try:
            scheme = ops.create_scheme(current_user, preset=form.preset.data, code=form.code.data,
                                       name=form.name.data or "", name_en=form.name_en.data or "")
            flash(_("已创建政策“{n}”，请添加成员单位").format(n=scheme.name), "success")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "code")
    rows = list(db.session.scalars(select(Scheme).order_by(Scheme.id)))
    return render_template("admin/schemes.html", schemes=rows, form=form), 400 if form.is_submitted() else 200


def _role_labels() -> dict[str, str]:
    """A member role's label: its organisation kind's, or the committee role's (凌源 领导小组)."""
    labels = {k.value: v for k, v in ORG_KIND_LABELS.items()}
    labels.update({"leading_group_office": _("领导小组办公室"), "leading_group": _("领导小组成员单位")})
    return labels


def _member_form():
    form = MemberForm()
    form.role.choices = [(r, _role_labels()[r]) for r in ops.MEMBER_ROLES]
    orgs = db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.enterprise.value)
                              .order_by(Organisation.kind, Organisation.id))
    form.organisation_id.choices = [(o.id, f"{o.kind_label} · {o.name}") for o in orgs]
    return form


def _params_form(scheme):
    form = ParamsForm()
    if not form.is_submitted():
        form.params.data = scheme.params.to_json()
        form.version.data = str(scheme.params_version)
    return form


def _binding_form(kind: str, resolved=None, submitted=False):
    form = BindingForm(prefix=kind) if submitted else BindingForm(prefix=kind, formdata=None)
    form.target.choices = bindings.choices(kind)
    if resolved is not None and not submitted:
        form.target.data = f"spec:{resolved.spec_id}" if resolved.pinned else f"current:{resolved.process_id}"
    return form


def _bindings_view(scheme, failed=None):
    """Each kind's binding with its form (``failed``: (kind, form) of a refused submission)."""
    rows = []
    for b in bindings.bindings_of(scheme):
        form = failed[1] if failed and failed[0] == b.kind.code else _binding_form(b.kind.code, b)
        action = (url_for("admin.scheme_binding", scheme_id=scheme.id, kind=b.kind.code) if scheme is not None
                  else url_for("admin.deployment_binding", kind=b.kind.code))
        rows.append({"b": b, "form": form, "action": action,
                     "spec": bindings.shown_spec(b)})
    return rows


def _scheme_page(scheme, member_form=None, params_form=None, status=200, binding_failed=None, active_form=None):
    members = sorted(scheme.members, key=lambda m: (ops.MEMBER_ROLES.index(m.role)
                                                   if m.role in ops.MEMBER_ROLES else 99, m.id))
    return render_template("admin/scheme.html", scheme=scheme, members=members,
                           member_form=member_form or _member_form(),
                           params_form=params_form or _params_form(scheme),
                           binding_rows=_bindings_view(scheme, binding_failed),
                           binding_history=bindings.history(scheme), binding_kinds=bindings.KINDS,
                           history=ops.params_history(scheme), role_labels=_role_labels(),
                           active_form=active_form or SchemeActiveForm(formdata=None, active="0" if scheme.active else "1"),
                           go_live_problem=ops.go_live_problem(scheme.params),
                           citations=scheme_citations(scheme)), status


@bp.route("/schemes/<int:scheme_id>")
@admin_required
def scheme(scheme_id):
    return _scheme_page(_get(Scheme, scheme_id))


@bp.route("/schemes/<int:scheme_id>/members", methods=["POST"])
@admin_required
def member_add(scheme_id):
    scheme = _get(Scheme, scheme_id)
    form = _member_form()
    if form.validate_on_submit():
        try:
            ops.add_member(current_user, scheme, form.organisation_id.data, form.role.data)
            flash(_("已添加成员"), "success")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "organisation_id")
            scheme = _get(Scheme, scheme_id)
    return _scheme_page(scheme, member_form=form, status=400)


@bp.route("/schemes/<int:scheme_id>/members/<int:member_id>/delete", methods=["POST"])
@admin_required
def member_remove(scheme_id, member_id):
    scheme = _get(Scheme, scheme_id)
    member = _get(SchemeMember, member_id)
    if member.scheme_id != scheme.id:
        abort(404)
    _csrf_ok()
    ops.remove_member(current_user, scheme, member)
    flash(_("已移除成员"), "success")
    return redirect(url_for("admin.scheme", scheme_id=scheme.id))


@bp.route("/schemes/<int:scheme_id>/active", methods=["POST"])
@admin_required
def scheme_active(scheme_id):
    scheme = _get(Scheme, scheme_id)
    form = SchemeActiveForm()
    if form.validate_on_submit():
        try:
            ops.set_scheme_active(current_user, scheme, form.active.data == "1", form.note.data or "")
            flash(_("政策已启用") if scheme.active else _("政策已停用"), "success")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "active")
            scheme = _get(Scheme, scheme_id)
    return _scheme_page(scheme, active_form=form, status=400)


@bp.route("/schemes/<int:scheme_id>/params", methods=["POST"])
@admin_required
def params(scheme_id):
    scheme = _get(Scheme, scheme_id)
    form = _params_form(scheme)
    if form.validate_on_submit():
        try:
            expected = int(form.version.data) if (form.version.data or "").isdigit() else None
            changes = ops.update_params(current_user, scheme, ops.parse_params_text(form.params.data),
                                        form.note.data, expected_version=expected)
            flash(_("已保存为第 {v} 版（{n} 项变更）").format(v=scheme.params_version, n=len(changes)), "success")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
        except ops.AdminError as exc:
            _refuse(form, exc, "params")
            scheme = _get(Scheme, scheme_id)
    return _scheme_page(scheme, params_form=form, status=400)


# ---------------------------------------------------------------------------- process bindings, replay

def _kind_or_404(kind, per_scheme):
    k = bindings.KINDS.get(kind)
    if k is None or (per_scheme and not k.per_scheme):
        abort(404)
    return k


def _change_binding(scheme, kind):
    form = _binding_form(kind, submitted=True)
    if form.validate_on_submit():
        try:
            process_id, spec_id = bindings.parse_target(form.target.data)
            bindings.set_binding(current_user, scheme, kind, process_id, spec_id, form.note.data)
            flash(_("已修改流程绑定：{k}").format(k=bindings.KINDS[kind].label), "success")
            return None
        except bindings.BindingError as exc:
            _refuse(form, exc, "target")
    return form


@bp.route("/schemes/<int:scheme_id>/bindings/<kind>", methods=["POST"])
@admin_required
def scheme_binding(scheme_id, kind):
    scheme = _get(Scheme, scheme_id)
    _kind_or_404(kind, per_scheme=True)
    form = _change_binding(scheme, kind)
    if form is None:
        return redirect(url_for("admin.scheme", scheme_id=scheme.id) + "#bindings")
    return _scheme_page(_get(Scheme, scheme_id), binding_failed=(kind, form), status=400)


def _deployment_page(failed=None, status=200):
    return render_template("admin/bindings.html", binding_rows=_bindings_view(None, failed),
                           binding_history=bindings.history(None), binding_kinds=bindings.KINDS), status


@bp.route("/bindings")
@admin_required
def deployment_bindings():
    return _deployment_page()


@bp.route("/bindings/<kind>", methods=["POST"])
@admin_required
def deployment_binding(kind):
    _kind_or_404(kind, per_scheme=False)
    form = _change_binding(None, kind)
    if form is None:
        return redirect(url_for("admin.deployment_bindings"))
    return _deployment_page((kind, form), status=400)


@bp.route("/schemes/<int:scheme_id>/replay")
@admin_required
def scheme_replay(scheme_id):
    """Run the scheme's worked examples through its bound diagrams and rules; nothing is kept."""
    scheme = _get(Scheme, scheme_id)
    report = replay.replay(scheme)
    return render_template("admin/replay.html", scheme=scheme, report=report)


# ---------------------------------------------------------------------------- reference rates

@bp.route("/rates", methods=["GET", "POST"])
@admin_required
def rates():
    form = RateForm()
    form.kind.choices = [(k, _(RATE_KIND_LABELS[k])) for k in ops.RATE_KINDS]
    if form.validate_on_submit():
        try:
            ops.add_reference_rate(current_user, kind=form.kind.data, effective_from=form.effective_from.data,
                                   min_months=form.min_months.data, max_months=form.max_months.data,
                                   rate=form.rate.data, source=form.source.data)
            flash(_("已添加参考利率"), "success")
            return redirect(url_for("admin.rates"))
        except ops.AdminError as exc:
            _refuse(form, exc, "rate")
    return render_template("admin/rates.html", form=form, rates=ops.reference_rates(),
                           kind_labels=RATE_KIND_LABELS), 400 if form.is_submitted() else 200


# ---------------------------------------------------------------------------- process versions

@bp.route("/processes")
@admin_required
def processes():
    return render_template("admin/processes.html", rows=ops.process_versions())


@bp.route("/processes/deploy", methods=["POST"])
@admin_required
def deploy():
    _csrf_ok()
    report = ops.deploy_now(current_user)
    return _deployed(report, _("bpmn/ 中的流程均无变化，未产生新版本"))


@bp.route("/processes/upload", methods=["POST"])
@admin_required
def upload_process():
    _csrf_ok()
    files = [(f.filename, f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        report = ops.deploy_uploads(files, current_user, takeover=request.form.get("takeover") == "1")
    except ops.AdminError as exc:
        transaction.rollback()
        flash(str(exc), "danger")
        return render_template("admin/processes.html", rows=ops.process_versions(), report=None), 400
    return _deployed(report, _("上传的流程与当前版本相同，未产生新版本"))


def _posted_text(name: str) -> str:
    """A text field of a form post or of a JSON object; "" for anything else."""
    data = request.get_json(silent=True) if request.is_json else request.form
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _seen_current() -> int | None:
    """The version an editor page saw as current when it opened (posted ``seen_current``); None if absent
    or not an id (then no check)."""
    seen = _posted_text("seen_current").strip()
    return int(seen) if seen.isdigit() and len(seen) < 19 else None


@bp.route("/processes/<int:spec_id>/model")
@admin_required
def process_model(spec_id):
    """The browser modeler, loaded with this version's diagram (static/modeler.js)."""
    spec = _get(ProcessSpec, spec_id)
    return render_template("admin/modeler.html", spec=spec, forms=modeler.current_forms(),
                           modeler_texts=modeler.modeler_texts(), current_id=modeler.current_spec_id(spec.process_id))


@bp.route("/processes/<int:spec_id>/bpmn")
@admin_required
def process_bpmn(spec_id):
    spec = _get(ProcessSpec, spec_id)
    resp = Response(spec.bpmn_xml, mimetype="application/xml")
    resp.headers.set("Content-Disposition", "attachment", filename=spec.filename)   # a download, never a page
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/processes/<int:spec_id>/model", methods=["POST"])
@admin_required
def process_model_deploy(spec_id):
    """Deploy the edited diagram (form field or JSON ``xml``, with the CSRF token) as a new version."""
    spec = _get(ProcessSpec, spec_id)
    new_process_id = _posted_text("new_process_id").strip()
    try:
        if new_process_id:
            report = modeler.deploy_as_new_process(spec, _posted_text("xml"), new_process_id, current_user)
        else:
            report = modeler.deploy_edited(spec, _posted_text("xml"), current_user, seen_current=_seen_current())
    except ops.AdminError as exc:
        transaction.rollback()
        return jsonify(ok=False, message=str(exc), new=[], restored=[], refusals=[]), getattr(exc, "status", 400)
    if report.refusals:
        transaction.commit_now()   # the audit entry of the refusal; the refused diagram stored nothing
    return jsonify(modeler.report_json(report)), (400 if report.refusals else 200)


@bp.route("/forms/new")
@admin_required
def form_new():
    """The form-js editor with an empty form; deployed under the form id the administrator gives."""
    return render_template("admin/form_editor.html", artifact=None, editor_texts=modeler.form_editor_texts())


@bp.route("/forms/new", methods=["POST"])
@admin_required
def form_new_deploy():
    """Deploy a new form (``form_id`` and ``schema``, a JSON text) as its version 1."""
    try:
        result = modeler.deploy_new_form(_posted_text("form_id"), _posted_text("schema"), current_user)
    except ops.AdminError as exc:
        transaction.rollback()
        return jsonify(ok=False, message=str(exc), version=None, refusals=[]), 400
    if result["ok"]:
        result["edit_url"] = url_for("admin.form_editor", artifact_id=result["artifact_id"])
    return jsonify(result), (200 if result["ok"] else 400)


@bp.route("/forms/<int:artifact_id>/edit")
@admin_required
def form_editor(artifact_id):
    """The form-js editor, loaded with this version of a deployed form (static/form_editor.js)."""
    artifact = _get(FormArtifact, artifact_id)
    return render_template("admin/form_editor.html", artifact=artifact, editor_texts=modeler.form_editor_texts(),
                           current_id=modeler.current_form_id(artifact.form_id))


@bp.route("/forms/<int:artifact_id>/schema")
@admin_required
def form_schema(artifact_id):
    resp = Response(_get(FormArtifact, artifact_id).schema_json, mimetype="application/json")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/forms/<int:artifact_id>/edit", methods=["POST"])
@admin_required
def form_editor_deploy(artifact_id):
    """Deploy the edited form (form field or JSON ``schema``, a JSON text) as a new version."""
    artifact = _get(FormArtifact, artifact_id)
    try:
        result = modeler.deploy_edited_form(artifact, _posted_text("schema"), current_user,
                                            seen_current=_seen_current())
    except ops.AdminError as exc:
        transaction.rollback()
        return jsonify(ok=False, message=str(exc), version=None, refusals=[]), getattr(exc, "status", 400)
    return jsonify(result), (200 if result["ok"] else 400)


def _deployed(report, unchanged_message):
    """Flash what was deployed; a refusal shows the page with each refused file, element and reason."""
    if report.new:
        flash(_("已部署新版本：{v}").format(v="、".join(f"{r.process_id} v{r.version}" for r in report.new)), "success")
    if report.restored:
        flash(_("已恢复为当前版本：{v}").format(v="、".join(f"{r.process_id} v{r.version}" for r in report.restored)),
              "success")
    if report.refusals:
        transaction.commit_now()   # the files that passed are deployed; the 400 page lists the refused ones
        return render_template("admin/processes.html", rows=ops.process_versions(), report=report), 400
    if not report.new and not report.restored:
        flash(unchanged_message, "info")
    return redirect(url_for("admin.processes"))
