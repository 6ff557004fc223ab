from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core import transaction, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.timeutil import now
from app.applications import operations as ops
from app.formjs import views as formjs_views
from app.tasks import queries, registry
from app.workflow import engine
from app.workflow.models import HumanTask

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def _task_or_404(task_id: int) -> HumanTask:
    ht = db.session.get(HumanTask, task_id)
    if ht is None or ht.org_id != current_user.organisation_id:
        abort(404)
    return ht


def _locked_task_or_404(task_id: int) -> HumanTask:
    """For a request that changes the task: its instance locked (only if the task is this
    organisation's), the task read afresh under the lock."""
    ht = engine.lock_task(task_id, current_user.organisation_id)
    if ht is None or ht.org_id != current_user.organisation_id:
        abort(404)
    return ht


@bp.route("/")
@login_required
def queue():
    sort = request.args.get("sort", "due")
    form_key = request.args.get("form") or None
    mine = request.args.get("mine") == "1"
    org_id = current_user.organisation_id
    page = queries.open_tasks_page(org_id, form_key, sort, request.args, mine_user_id=current_user.id if mine else None)
    return render_template("tasks/queue.html", tasks=page.rows, page=page, counts=queries.counts(org_id), sort=sort,
                           form_key=form_key, mine=mine, labels=registry.labels(), now=now(),
                           overdue=queries.overdue_count(org_id))


@bp.route("/<int:task_id>", methods=["GET", "POST"])
@login_required
def show(task_id):
    posted = request.method == "POST"
    ht = _locked_task_or_404(task_id) if posted else _task_or_404(task_id)
    if ht.status != "open":
        who = ht.completed_by.display_name if ht.completed_by else "—"
        flash(_("该待办已由 {who} 处理完毕。").format(who=who), "info")
        return redirect(url_for("tasks.queue"))
    handler = registry.find(ht.form_key)
    if handler is None:          # no registered page: the form-js form deployed with the diagram
        return formjs_views.task_page(ht)
    form = handler.form()
    prepared = not (posted and handler.prepare_post)
    if prepared:
        handler.prepare(form, ht, current_user)
    else:
        handler.prepare_post(form, ht, current_user)
    error, refusal = None, None
    if posted:
        if handler.needs_claim and ht.claimed_by_id != current_user.id:
            error = _("请先认领该待办再处理")
        elif form.validate_on_submit():
            written: list[str] = []
            transaction.on_rollback(lambda: uploads.discard(written))   # a refused or failed step keeps no files
            try:
                message = handler.submit(form, ht, current_user, written)
                flash(message, "success")
                return redirect(url_for("tasks.queue"))
            except engine.WorkflowError as exc:
                transaction.rollback()
                flash(str(exc), "warning")
                return redirect(url_for("tasks.queue"))
            except DomainError as exc:
                transaction.rollback()
                field = getattr(exc, "field", None)
                if field and hasattr(form, field):
                    getattr(form, field).errors = list(getattr(form, field).errors) + [str(exc)]
                else:
                    error = str(exc)
                refusal = exc     # a refusal may list its problems (``exc.errors``) for the page to show
        ht = _task_or_404(task_id)
        if not prepared:
            handler.prepare(form, ht, current_user)
    ctx = handler.context(ht, current_user)
    status = 400 if request.method == "POST" else 200
    return render_template(handler.template, task=ht, form=form, error=error, refusal=refusal, **ctx), status


@bp.route("/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id):
    _locked_task_or_404(task_id)
    try:
        ops.claim(task_id, current_user)
        flash(_("已认领"), "success")
    except DomainError as exc:
        transaction.rollback()
        flash(str(exc), "warning")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.route("/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id):
    _locked_task_or_404(task_id)
    try:
        ops.release(task_id, current_user)
        flash(_("已释放，其他人员可认领"), "success")
    except DomainError as exc:
        transaction.rollback()
        flash(str(exc), "warning")
    return redirect(url_for("tasks.queue"))
