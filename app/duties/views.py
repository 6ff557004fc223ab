from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

import app.duties.handlers  # noqa: F401  (registers the task pages)
from app.core import paging
from app.core.db import db
from app.core.timeutil import now
from app.duties import operations as ops
from app.workflow.models import HumanTask

bp = Blueprint("duties", __name__, url_prefix="/duties")


@bp.route("/")
@login_required
def index():
    flt = ops.parse_filter(request.args)
    page = paging.paginate(ops.visible_duties(current_user, flt), request.args, per_page=100)
    duties = page.rows
    # each open duty of the user's own organisation links to its task page
    instance_ids = [d.instance_id for d in duties if d.status == "open" and d.instance_id
                    and d.org_id == current_user.organisation_id]
    tasks = dict(db.session.execute(select(HumanTask.instance_id, HumanTask.id).where(
        HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open",
        HumanTask.org_id == current_user.organisation_id)).all()) if instance_ids else {}
    return render_template("duties/index.html", duties=duties, page=page, tasks=tasks, now=now(), flt=flt,
                           kinds=ops.KIND_LABELS, statuses=ops.STATUSES)
