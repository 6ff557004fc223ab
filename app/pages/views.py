"""The site's frame around every feature: the header's counters (open duties), the administrators'
calendar banner, the favicon, the language parameter on any URL, and the pages for HTTP errors
(403, 404, 405, ...) in the user's language with the site's navigation.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, send_from_directory, session
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.accounts.models import ORG_KIND_LABELS, OrgKind
from app.core import transaction
from app.core.db import db
from app.core.labels import action_label, formula_text, kind_label, subject_label, subject_ref
from app.core.i18n import _l
from app.core.timeutil import now, today
from app.core.workdays import year_status
from app.duties.models import Duty

bp = Blueprint("pages", __name__)

# the organisations that owe or oversee recurring duties (monthly filing, credit-data upload)
DUTY_KINDS = ("bank", "data_source", "admin", "financial_office", "finance_bureau", "pboc")
OVERSEERS = ("admin", "financial_office", "finance_bureau", "pboc")   # as duties.operations.visible_duties
CALENDAR_WARNING_FROM = (11, 1)          # the State Council publishes next year's schedule around November

TITLES = {400: _l("请求无法处理"), 403: _l("无权访问"), 404: _l("页面不存在"), 405: _l("不支持此操作"),
          410: _l("页面已不存在"), 413: _l("上传的内容过大")}
MESSAGES = {400: _l("提交的请求无法处理，请返回上一页重试。"),
            403: _l("您所在的单位无权查看或办理此页面的内容。"),
            404: _l("您访问的页面不存在，或已被删除。请检查地址，或从菜单重新进入。"),
            405: _l("此页面不支持这种操作，请从页面上的按钮或链接进入。"),
            410: _l("您访问的页面已不存在。"),
            413: _l("上传的内容超过了允许的大小。")}


@dataclass(frozen=True)
class DutyCount:
    open: int
    overdue: int


@bp.before_app_request
def _remember_language():
    """``?lang=en`` on any URL, even one that only redirects (``/`` → login), switches the session."""
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"]:
        session["lang"] = asked


@bp.app_context_processor
def _layout_helpers():
    return {"open_duties": open_duties, "calendar_warning": calendar_warning, "subject_ref": subject_ref,
            "org_kind_label": org_kind_label}


def org_kind_label(kind) -> str:
    """The words for an organisation kind (``bank`` → 合作银行); empty for none."""
    try:
        return str(ORG_KIND_LABELS[OrgKind(kind)])
    except ValueError:
        return kind or ""


bp.add_app_template_filter(action_label, "action_label")     # keys stored in data, shown in words
bp.add_app_template_filter(kind_label, "kind_label")
bp.add_app_template_filter(subject_label, "subject_label")
bp.add_app_template_filter(formula_text, "formula")       # computation lines: amounts formatted


def open_duties() -> DutyCount | None:
    """Open and overdue duties of the user's organisation (all of them for the overseers); None for
    an organisation that has no duties (no menu entry)."""
    if not current_user.is_authenticated or not current_user.is_kind(*DUTY_KINDS):
        return None
    q = select(func.count(Duty.id), func.count(Duty.id).filter(Duty.due_at < now())).where(Duty.status == "open")
    if not current_user.is_kind(*OVERSEERS):
        q = q.where(Duty.org_id == current_user.organisation_id)
    n_open, n_overdue = db.session.execute(q).one()
    return DutyCount(n_open, n_overdue)


def calendar_warning() -> int | None:
    """The year whose working-day calendar an administrator should enter now: the current year if it
    is unknown, or from 1 November the next year if neither the library nor an administrator has it."""
    day = today()
    years = [day.year] + ([day.year + 1] if (day.month, day.day) >= CALENDAR_WARNING_FROM else [])
    for year in years:
        if not year_status(year)["usable"]:
            return year
    return None


@bp.route("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def _wants_page() -> bool:
    """A browser page (not a JSON or diagram endpoint, whose callers read the status themselves)."""
    if request.path.endswith((".json", ".bpmn", ".xlsx")):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


def _http_error(exc: HTTPException):
    if not _wants_page():
        return exc
    transaction.rollback()
    code = exc.code or 400
    return render_template("errors/http.html", code=code, title=TITLES.get(code, TITLES[400]),
                           message=MESSAGES.get(code, MESSAGES[400])), code


for _code in TITLES:
    bp.app_errorhandler(_code)(_http_error)
