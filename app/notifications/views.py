from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.db import db
from app.notifications import operations as ops
from app.notifications.messages import show
from app.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return ops.unread_count(current_user.id)
    return {"unread_notifications": unread_notifications}


@bp.route("/")
@login_required
def index():
    page = ops.inbox(current_user.id, request.args)
    return render_template("notifications/index.html", items=[(n, show(n)) for n in page.rows], page=page)


@bp.route("/<int:nid>", methods=["POST"])
@login_required
def open_(nid):
    n = db.session.get(Notification, nid)
    if n is None or n.user_id != current_user.id:
        abort(404)
    ops.mark_read(current_user.id, nid)
    return redirect(n.link or url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    ops.mark_read(current_user.id)
    return redirect(url_for("notifications.index"))
