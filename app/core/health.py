"""Probes for a load balancer or orchestrator: ``/healthz`` (the process answers; touches nothing)
and ``/readyz`` (the database and the Celery broker answer; 503 with a JSON detail otherwise).

Both are public and cheap; the detail names the failing dependency and the error's class only (the
message, which may name hosts, goes to the log).
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from kombu import Connection
from sqlalchemy import text

from app.core.db import db
from app.jobs.celery_app import default_broker_url

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 3


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


def _check_database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()


def _check_broker() -> None:
    url = current_app.config.get("CELERY_BROKER_URL") or default_broker_url(current_app)
    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)


CHECKS = {"database": _check_database, "broker": _check_broker}


@bp.route("/readyz")
def readyz():
    checks, ready = {}, True
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = {"ok": True}
        except Exception as exc:
            ready = False
            checks[name] = {"ok": False, "error": type(exc).__name__}
            log.warning("readiness check %s failed: %s", name, exc)
    body = jsonify(status="ready" if ready else "unavailable", checks=checks)
    return body, (200 if ready else 503), {"Cache-Control": "no-store"}
