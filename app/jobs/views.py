"""Administrators' job page: the schedule, each job's last run, failures; run a job now."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.admin.views import admin_required
from app.core import paging
from app.core.i18n import _
from app.core.timeutil import today
from app.core.validation import date_problem
from app.core.timeutil import parse_date
from app.jobs import runner as jobs
from app.jobs.labels import TRIGGER_LABELS, describe_schedule, describe_summary
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
    rows = [{"job": j, "schedule": describe_schedule(schedule.get(f"zx-{j.name}", {}).get("schedule")),
             "last": last.get(j.name)} for j in jobs.JOBS.values()]
    failures = paging.paginate(select(JobRun).where(JobRun.status.in_(("failed", "abandoned")))
                               .order_by(JobRun.id.desc()), request.args, 50, name="failures_page")
    # the timer job runs every 30 s: its runs hide the others unless asked for (?timers=1)
    show_timers = request.args.get("timers") == "1"
    q = select(JobRun).order_by(JobRun.id.desc())
    if not show_timers:
        q = q.where(JobRun.job != "timers")
    recent = paging.paginate(q, request.args, 50)
    labels = {name: _(j.label) for name, j in jobs.JOBS.items()}
    return render_template("admin/jobs.html", rows=rows, failures=failures.rows, failures_page=failures,
                           recent=recent.rows, recent_page=recent, broker=_broker_label(),
                           show_timers=show_timers, job_labels=labels, trigger_labels=TRIGGER_LABELS,
                           summary=describe_summary)


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
