"""Login throttling with Flask-Limiter: counted failures, refused early, no sleeping web worker.

Two limits on ``POST /login``; both count only *failed* logins (``deduct_when``) and refuse the next attempt
with 429 once reached, before the password is even looked at:

* per address (``LOGIN_LIMIT_PER_ADDRESS``): failures from one client address, whatever the account
  (password spraying, and the argon2 work a stranger can make the server do);
* per account *and* address (``LOGIN_LIMIT_PER_ACCOUNT``): failures for one username from one address.
  Keyed by both, so a stranger who guesses a user's password only locks *himself* out: the real user,
  from her own address, still logs in.  Unknown usernames are counted the same way (same answers).

Counters live in ``RATELIMIT_STORAGE_URI``: ``memory://`` by default (one process; with several workers
each counts on its own), or Redis (``redis://…``) so all workers and machines share them.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.accounts.names import username_key

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def _account_and_address() -> str:
    name = username_key(request.form.get("username", ""))[:80]
    return f"{name}|{get_remote_address()}"


def _failed(_response) -> bool:
    return bool(g.get("login_failed"))


def login_limits(view):
    """Decorate the login view with both limits (a breach raises ``RateLimitExceeded``: the accounts
    blueprint answers it with the login page and a 429)."""
    per_address = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
                                deduct_when=_failed, scope="login-address")
    per_account = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
                                key_func=_account_and_address, deduct_when=_failed,
                                scope="login-account")
    return per_address(per_account(view))
