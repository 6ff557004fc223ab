"""Domain errors, and what a request does with them and with every other exception.

An operation that refuses an action raises :class:`DomainError` (or a subclass) with a message for
the user and, when the refusal is about one input, the form ``field`` it belongs to.  A view that
shows a form catches it to put the message next to the field and re-render (after
``transaction.rollback()``); any DomainError a view does not catch reaches :func:`_domain_error`,
which rolls back and shows the message: flashed on the previous page after a POST, or on a page of
its own with the error's HTTP status (400, 403, 404, 409) for a GET.

Anything else is a programming error: it is logged once, with its traceback and a reference id, and
the user sees a localized 500 page with the site's navigation and the same reference id.
"""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from markupsafe import escape
from werkzeug.exceptions import InternalServerError

from app.core import transaction

_REF = "zx.error_ref"


class DomainError(Exception):
    """An operation refused the action; ``str(exc)`` is the message for the user."""

    status = 400

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The object is no longer in a state that allows the action (e.g. someone else acted first)."""

    status = 409


# ---------------------------------------------------------------------------- the application

class Application(Flask):
    """Flask, with each unhandled exception logged together with the reference id shown to the user."""

    def log_exception(self, exc_info) -> None:
        ref = error_reference()
        self.logger.error("Exception on %s [%s] ref=%s", request.path, request.method, ref, exc_info=exc_info)


def error_reference() -> str:
    """This request's error reference id (made on first use)."""
    ref = request.environ.get(_REF)
    if ref is None:
        ref = request.environ[_REF] = uuid.uuid4().hex[:12].upper()
    return ref


def init_app(app: Flask) -> None:
    transaction.init_app(app)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(InternalServerError, _server_error)


def _back() -> str:
    """The page the user came from, if it is on this site; else the home page."""
    ref = request.referrer
    if ref:
        parts = urlsplit(ref)
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            return ref
    return url_for("accounts.index")


def _domain_error(exc: DomainError):
    transaction.rollback()
    if request.method in ("GET", "HEAD"):
        return render_template("errors/refused.html", message=str(exc), status=exc.status), exc.status
    flash(str(exc), "danger")
    return redirect(_back(), 303)


def _server_error(exc: InternalServerError):
    transaction.rollback()
    ref = request.environ.get(_REF)
    if ref is None:       # an explicit abort(500), not an exception: Flask logged nothing
        ref = error_reference()
        current_app.logger.error("HTTP 500 on %s [%s] ref=%s", request.path, request.method, ref)
    session.pop("_flashes", None)          # "saved" messages of the failed step must not show
    try:
        return render_template("errors/500.html", ref=ref), 500
    except Exception:   # the page itself failed (e.g. the database is down): a bare page, still with the id
        current_app.logger.exception("rendering the error page failed ref=%s", ref)
        return (f"<!doctype html><title>500</title><h1>系统错误 · Internal error</h1>"
                f"<p>参考编号 · Reference: {escape(ref)}</p>"), 500
