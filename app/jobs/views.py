"""Administrators' job page: the schedule, each job's last run, failures; run a job now."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.admin.views import admin_required
from app.core.db import db
from app.core.i18n import _
from app.core.timeutil import today
from app.core.validation import date_problem
from app.core.timeutil import parse_date
from app.jobs import runner as jobs
from app.jobs.celery_app import celery
from app.jobs.models import JobRun

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


def _broker_label() -> str:
    url = celery.conf.broker_url or ""
    scheme = url.split("://", 1)[0]
    return {"sqla+sqlite": _("内置（SQLite 消息表，单机）"), "redis": "Redis", "amqp": "RabbitMQ",
            "pyamqp": "RabbitMQ"}.get(scheme, scheme)


@bp.route("/")
@admin_required
def index():
    last = jobs.last_runs()
    schedule = celery.conf.beat_schedule or {}
    rows = [{"job": j, "schedule": schedule.get(f"zx-{j.name}", {}).get("schedule"), "last": last.get(j.name)}
            for j in jobs.JOBS.values()]
    failures = list(db.session.scalars(select(JobRun).where(JobRun.status.in_(("failed", "abandoned")))
                                       .order_by(JobRun.id.desc()).limit(50)))
    recent = list(db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(50)))
    return render_template("admin/jobs.html", rows=rows, failures=failures, recent=recent, broker=_broker_label())


@bp.route("/<name>/run", methods=["POST"])
@admin_required
def run(name):
    if name not in jobs.JOBS:
        flash(_("没有该作业"), "warning")
        return redirect(url_for("jobs.index")), 302
    raw = (request.form.get("for_date") or "").strip()
    day = parse_date(raw)
    if raw and day is None:
        flash(_("日期格式应为 YYYY-MM-DD"), "danger")
        return redirect(url_for("jobs.index"))
    problem = date_problem(day, today()) if day else None
    if problem:
        flash(problem, "danger")
        return redirect(url_for("jobs.index"))
    jobs.enqueue(name, day)
    flash(_("已排队执行：{job}").format(job=jobs.JOBS[name].label), "success")
    return redirect(url_for("jobs.index"))
