"""The database is unreachable: a localized 503 page instead of a 500, and recovery without a restart.

Connections are checked before use (``pool_pre_ping``, set in :mod:`app.core.config`), so the first
request after a database restart gets a fresh connection instead of failing on a dead one.  While
the database cannot be reached at all, every request that needs it ends here: the page says the
service is temporarily unavailable (Chinese by default, English when asked) and asks the browser to
retry; nothing on it touches the database (no logged-in user, no unread count), so it renders during
the outage.  The next request after the database returns is served normally.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.db import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def database_unavailable(exc: Exception):
    log.error("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        db.session.rollback()
    except Exception:     # the connection is gone; the pool discards it
        pass
    # not render_template: its context processors load the logged-in user from the database
    page = current_app.jinja_env.get_template("errors/unavailable.html").render()
    return (page, 503,
            {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"})


def register(app) -> None:
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
