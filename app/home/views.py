"""Each role's home page (``/home``; ``/`` and the login land there): today's work and the state of it."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.core.timeutil import now
from app.home import summary

bp = Blueprint("home", __name__)


def has_home(user) -> bool:
    return user.organisation.kind in summary.HOME_KINDS


@bp.route("/home")
@login_required
def index():
    if not has_home(current_user):          # a firm lands on its applications, an administrator on its tasks
        return redirect(url_for("applications.index" if current_user.is_kind("enterprise") else "tasks.queue"))
    return render_template("home/index.html", home=summary.home(current_user), now=now())
