"""How a session lives and ends.

A session names its user as ``"<user id>.<session epoch>"`` (``User.get_id``).  Logging out, a password
change and an administrator's reset raise the user's epoch, so *every* session of that user ends, a copied
cookie included; deactivating the user ends them too.  Besides, a session ends after
``SESSION_IDLE_MINUTES`` without a request and ``SESSION_ABSOLUTE_HOURS`` after the login, whatever the
activity (checked here, on the server, from times signed into the session; the cookie's own expiry is only
a hint to the browser).
"""
from __future__ import annotations

import time

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.core import logs
from app.core.db import db

LOGIN_AT = "zx_login_at"       # epoch seconds of the login
SEEN_AT = "zx_seen_at"         # epoch seconds of the last request that used the session
_SEEN_RESOLUTION = 30          # write the last-seen time at most every 30 s (fewer cookie rewrites)

# every request runs it: built once (statement construction and its cache key cost as much as the query),
# with the organisation in the same statement because every request asks what kind it is
_USER_WITH_ORG = select(User).options(joinedload(User.organisation)).where(User.id == bindparam("user_id"))


def start(user: User) -> None:
    """Log ``user`` in on this request: a fresh session with both clocks started."""
    lang = session.get("lang")
    session.clear()                     # nothing from before the login survives (fixation)
    if lang:
        session["lang"] = lang
    session.permanent = True            # the cookie carries an expiry (PERMANENT_SESSION_LIFETIME)
    login_user(user)
    logs.remember_user(user)
    session[LOGIN_AT] = session[SEEN_AT] = int(time.time())


def forget() -> None:
    """Drop this session's login (the language choice stays)."""
    for key in ("_user_id", "_fresh", "_id", LOGIN_AT, SEEN_AT):
        session.pop(key, None)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user if the session is still theirs and still within its lifetimes."""
    ident, _, epoch = str(user_id).partition(".")
    if not ident.isdigit() or not epoch.isdigit():
        return None                     # an id from before epochs (or forged): log in again
    user = db.session.scalar(_USER_WITH_ORG, {"user_id": int(ident)})
    if user is None or not user.active or int(epoch) != (user.session_epoch or 0):
        return None
    cfg = current_app.config
    t = int(time.time())
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return None
    if t - login_at > cfg["SESSION_ABSOLUTE_HOURS"] * 3600 or t - seen_at > cfg["SESSION_IDLE_MINUTES"] * 60:
        forget()
        return None
    if t - seen_at >= _SEEN_RESOLUTION:
        session[SEEN_AT] = t
    logs.remember_user(user)
    return user


# endpoints a firm still waiting for verification (or refused) may use: its own account pages
PENDING_ALLOWED = {"static", "accounts.index", "accounts.login", "accounts.logout", "accounts.register",
                   "accounts.set_lang", "accounts.pending", "accounts.password"}


def gate_unverified_firms():
    """``before_request``: a firm whose USCC claim is not verified can do nothing but wait (allow-list)."""
    if request.endpoint in PENDING_ALLOWED or request.endpoint is None or request.blueprint == "api_v1":
        return None         # the API (app/api) never reads the session
    if not current_user.is_authenticated or not current_user.is_kind("enterprise"):
        return None
    if current_user.organisation.is_verified:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("accounts.pending"))
    return render_template("accounts/pending.html", org=current_user.organisation), 403
