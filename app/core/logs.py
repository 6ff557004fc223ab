"""Structured logs, a request id, and error reports to Sentry.

The standard library's logging, with one handler on the root logger (so Flask, SQLAlchemy, gunicorn's
application errors and Celery's worker write through it) and a filter that stamps every record with
``request_id``, ``user_id`` and ``org_id``: in a web request the request id (``X-Request-ID`` from a
trusted proxy when well-formed, else a new one; echoed in the response's ``X-Request-ID``) and the
logged-in user and organisation; in a Celery job the task id.  ``LOG_FORMAT=json`` (default) writes
one JSON object per line, ``text`` a readable line.  Each request also writes one access line.

With ``SENTRY_DSN`` set, sentry-sdk reports unhandled errors of web requests and Celery jobs (and
``ERROR`` log records), tagged with the request id.  The SDK's default sends no personal data
(no user identity, cookies or bodies).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

import sentry_sdk
from celery import current_task
from flask import g, has_request_context, request
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sqlalchemy import inspect

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_FIELDS = ("request_id", "user_id", "org_id")
_LOG_USER = "zx.log_user"
access_log = logging.getLogger("app.access")


class ContextFilter(logging.Filter):
    """Adds request_id, user_id and org_id to every record (``-`` where there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, user_id, org_id = current_context()
        record.request_id, record.user_id, record.org_id = request_id, user_id, org_id
        return True


def current_context() -> tuple[str, str, str]:
    if has_request_context():
        return g.get("request_id", "-"), *_user_ids()
    task = _celery_task_id()
    return (task or "-"), "-", "-"


def remember_user(user) -> None:
    """Keep the ids of the request's user for its log lines (called when the session's user is
    loaded or logs in): after the commit its attributes are expired, and a log line must not reload them."""
    if has_request_context():
        # on the WSGI environ, not on ``g``: tests reuse one app context (and its ``g``) for many requests
        request.environ[_LOG_USER] = (str(user.id), str(user.organisation_id))


def _user_ids() -> tuple[str, str]:
    """The logged-in user's ids, read without touching the database (a log line must never query)."""
    cached = request.environ.get(_LOG_USER)
    if cached:
        return cached
    user = g.get("_login_user")             # Flask-Login's user, once a view has loaded it
    if user is None:
        return "-", "-"
    try:
        state = inspect(user)
    except Exception:                       # not a mapped object (anonymous, a test double)
        return "-", "-"
    loaded = state.dict                     # what is loaded: expired attributes are not read
    if loaded.get("active") is False:
        return "-", "-"
    user_id = loaded.get("id") or (state.identity[0] if state.identity else None)
    org_id = loaded.get("organisation_id")
    ids = (str(user_id) if user_id is not None else "-", str(org_id) if org_id is not None else "-")
    if org_id is not None:
        request.environ[_LOG_USER] = ids
    return ids


def _celery_task_id() -> str | None:
    task = current_task
    if task is None:
        return None
    return getattr(getattr(task, "request", None), "id", None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for key in _FIELDS:
            out[key] = getattr(record, key, "-")
        for key in ("method", "path", "status", "duration_ms", "remote_addr", "scheme"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT = ("%(asctime)s %(levelname)s [req=%(request_id)s user=%(user_id)s org=%(org_id)s] "
               "%(name)s: %(message)s")


def configure_logging(app) -> None:
    """One handler on the root logger, installed once per process."""
    root = logging.getLogger()
    level = logging.getLevelName(str(app.config.get("LOG_LEVEL") or "INFO").upper())
    handler = next((h for h in root.handlers if getattr(h, "_zx_handler", False)), None)
    if handler is None:
        # the process's real stderr: Celery replaces sys.stderr with a proxy that logs (a loop), and
        # test runners swap sys.stderr for a file they later close
        handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
        handler._zx_handler = True
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    fmt = str(app.config.get("LOG_FORMAT") or "json").lower()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    if isinstance(level, int):
        root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)      # the access line below replaces its own
    # SpiffWorkflow logs every task state change at INFO: a line per change of every step, noise in
    # production logs (our own lines say what a step did); its warnings and errors still come through
    logging.getLogger("spiff").setLevel(logging.WARNING)

    @app.before_request
    def _request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g._log_started = time.perf_counter()
        if app.config.get("SENTRY_DSN"):
            sentry_sdk.set_tag("request_id", g.request_id)

    @app.after_request
    def _echo_and_log(response):
        rid = g.get("request_id")
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
            started = g.get("_log_started")
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "remote_addr": request.remote_addr, "scheme": request.scheme})
        return response


def init_sentry(app) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set (web requests, Celery jobs, ERROR log records)."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    sentry_sdk.init(dsn=dsn, environment=app.config.get("SENTRY_ENVIRONMENT") or None,
                    integrations=[FlaskIntegration(), CeleryIntegration()], traces_sample_rate=0.0)
    return True
