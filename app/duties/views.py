from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

import app.duties.handlers  # noqa: F401  (registers the task pages)
from app.duties import operations as ops

bp = Blueprint("duties", __name__, url_prefix="/duties")


@bp.route("/")
@login_required
def index():
    return render_template("duties/index.html", duties=ops.visible_duties(current_user))
