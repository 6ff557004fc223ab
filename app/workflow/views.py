"""The diagram of an instance with finished and current steps (bpmn-js viewer, served locally)."""
from flask import Blueprint, Response, abort, jsonify
from flask_login import current_user, login_required

from app.core.db import db
from app.core.i18n import get_locale, translate_data
from app.workflow import engine
from app.workflow.models import ProcessInstance

bp = Blueprint("workflow", __name__, url_prefix="/workflow")

_SUBJECT_CHECKS = {}


def register_subject(subject_type: str, loader):
    """``loader(subject_id)`` returns an object with ``can_view(user)``, or None."""
    _SUBJECT_CHECKS[subject_type] = loader


def _instance_or_404(instance_id: int) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None or inst.subject_type not in _SUBJECT_CHECKS:
        abort(404)
    subject = _SUBJECT_CHECKS[inst.subject_type](inst.subject_id)
    if subject is None or not subject.can_view(current_user):
        abort(404)
    return inst


@bp.route("/instances/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id):
    inst = _instance_or_404(instance_id)
    return Response(inst.spec.bpmn_xml, mimetype="application/xml")


@bp.route("/instances/<int:instance_id>/progress.json")
@login_required
def progress(instance_id):
    inst = _instance_or_404(instance_id)
    out = engine.progress(inst)
    # the steps' names in the reader's language where the catalog has them (the shipped diagrams' names
    # are msgids); a name it lacks (an administrator's own diagram) is shown as written, marked Chinese
    names = engine.step_names(inst)
    shown = {bid: translate_data(name) for bid, name in names.items()}
    out["names"] = shown
    out["untranslated"] = sorted(bid for bid, name in names.items() if shown[bid] == name) \
        if get_locale() == "en" else []
    return jsonify(out)
