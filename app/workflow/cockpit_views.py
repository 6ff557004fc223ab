"""The administrators' area for process instances and incidents (/admin/workflow/…).

Thin views: load, check the form, call one operation of app/workflow/cockpit.py, migration.py or
incidents.py, redirect.  A refusal (``DomainError``, including a retry whose step fails again) is
shown by the request wrapper: rolled back, flashed on the instance page, and — for a failed step —
recorded as an incident once the rollback is done.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin.views import admin_required
from app.core.db import db
from app.core.i18n import _
from app.core.validation import integer_problem
from app.workflow import cockpit, incidents, migration
from app.workflow.models import Incident, ProcessInstance
from forms.cockpit import ActionForm, CancelForm, DataForm, MigrateForm, ResolveForm

bp = Blueprint("cockpit", __name__, url_prefix="/admin/workflow")
PER_PAGE = 50


def _instance(instance_id: int) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None:
        abort(404)
    return inst


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100000))


def _migrate_form(inst, form=None):
    form = form or MigrateForm()
    form.spec_id.choices = [(s.id, _("版本 {v}（{file}，{at}）").format(v=s.version, file=s.filename,
                                                                     at=s.deployed_at.strftime("%Y-%m-%d %H:%M"))
                                + (_("（当前）") if s.id == inst.spec_id else ""))
                            for s in cockpit.versions_of(inst.process_id)]
    return form


def _render_instance(inst, status=200, **forms):
    forms.setdefault("retry_form", ActionForm())
    forms.setdefault("cancel_form", CancelForm())
    forms.setdefault("data_form", DataForm())
    forms["migrate_form"] = _migrate_form(inst, forms.get("migrate_form"))
    return render_template("cockpit/instance.html", inst=inst, d=cockpit.details(inst), pretty=cockpit.pretty,
                           **forms), status


@bp.route("/instances")
@admin_required
def instances():
    process_id = request.args.get("process") or None
    version = request.args.get("version", type=int)
    if version is not None and integer_problem(version):   # beyond 64 bits: no such version, not an overflow
        version = None
    state = request.args.get("state", "running")
    state = state if state in (*cockpit.STATES, "all") else "running"
    incident = request.args.get("incident") == "1"
    page = _page()
    rows, total = cockpit.instances_page(process_id, version, None if state == "all" else state, incident,
                                         page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("cockpit/instances.html", rows=rows, total=total, page=page, pages=pages,
                           process_ids=cockpit.process_ids(), process_id=process_id, version=version,
                           state=state, incident=incident, state_of=cockpit.state_of)


@bp.route("/instances/<int:instance_id>")
@admin_required
def instance(instance_id):
    return _render_instance(_instance(instance_id))


@bp.route("/instances/<int:instance_id>/retry", methods=["POST"])
@admin_required
def retry(instance_id):
    inst = _instance(instance_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    cockpit.retry(inst.id, current_user)
    flash(_("已重试：流程已推进到下一个等待点"), "success")
    return redirect(url_for(".instance", instance_id=inst.id), 303)


@bp.route("/instances/<int:instance_id>/cancel", methods=["POST"])
@admin_required
def cancel(instance_id):
    inst = _instance(instance_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _render_instance(inst, 400, cancel_form=form)
    cockpit.cancel(inst.id, current_user, form.reason.data)
    flash(_("流程实例已取消"), "success")
    return redirect(url_for(".instance", instance_id=inst.id), 303)


@bp.route("/instances/<int:instance_id>/migrate", methods=["POST"])
@admin_required
def migrate(instance_id):
    inst = _instance(instance_id)
    form = _migrate_form(inst)
    if not form.validate_on_submit():
        return _render_instance(inst, 400, migrate_form=form)
    migration.migrate(inst.id, form.spec_id.data, current_user)
    flash(_("已迁移到版本 {v}").format(v=inst.spec.version), "success")
    return redirect(url_for(".instance", instance_id=inst.id), 303)


@bp.route("/instances/<int:instance_id>/data", methods=["POST"])
@admin_required
def set_data(instance_id):
    inst = _instance(instance_id)
    form = DataForm()
    if not form.validate_on_submit():
        return _render_instance(inst, 400, data_form=form)
    cockpit.set_data(inst.id, current_user, form.key.data, form.value.data)
    flash(_("已设置数据 {key}").format(key=form.key.data), "success")
    return redirect(url_for(".instance", instance_id=inst.id), 303)


@bp.route("/incidents")
@admin_required
def incident_list():
    status = request.args.get("status", "open")
    status = status if status in ("open", "resolved", "all") else "open"
    page = _page()
    rows, total = incidents.page_of(status, page, PER_PAGE)
    return render_template("cockpit/incidents.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), status=status)


@bp.route("/incidents/<int:incident_id>", methods=["GET", "POST"])
@admin_required
def incident(incident_id):
    inc = db.session.get(Incident, incident_id)
    if inc is None:
        abort(404)
    form = ResolveForm()
    if request.method == "POST":
        if form.validate_on_submit():
            incidents.resolve(inc.id, current_user, form.note.data)
            flash(_("流程事件已标记为已处理"), "success")
            return redirect(url_for(".incident", incident_id=inc.id), 303)
        return render_template("cockpit/incident.html", inc=inc, form=form), 400
    return render_template("cockpit/incident.html", inc=inc, form=form)
