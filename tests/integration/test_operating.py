"""Operating it: request ids and structured log lines, Sentry reports, health probes, ProxyFix."""
from __future__ import annotations

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from app import create_app
from app.core import logs
from app.core.db import db


@pytest.fixture
def restore_celery(app):
    yield
    from app.jobs.wiring import init_celery
    init_celery(app)            # create_app re-pointed the shared Celery instance at the other app


def _other_app(app, **cfg):
    base = {"SECRET_KEY": "test-secret", "TESTING": True, "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])}
    base.update(cfg)
    return create_app(base)


def _formatted(records):
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_zx_handler", False))
    return [json.loads(handler.format(r)) for r in records]


def test_every_line_of_a_request_carries_request_id_user_and_organisation(world, login, caplog):
    w = world()
    officer = login(w.user("officer"))
    caplog.handler.addFilter(logs.ContextFilter())
    with caplog.at_level(logging.INFO):
        r = officer.get("/tasks/", headers={"X-Request-ID": "proxy-given-0001"})
        logging.getLogger("app.test").info("outside a request")
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "proxy-given-0001"
    lines = _formatted(caplog.records)
    access = [ln for ln in lines if ln["logger"] == "app.access"]
    assert access and access[-1]["request_id"] == "proxy-given-0001"
    assert access[-1]["user_id"] == str(w.u["officer"].id) and access[-1]["org_id"] == str(w.bank.id)
    assert access[-1]["path"] == "/tasks/" and access[-1]["status"] == 200
    assert lines[-1]["msg"] == "outside a request" and lines[-1]["request_id"] == "-"

    # a malformed or missing id is replaced by a fresh one
    r = officer.get("/tasks/", headers={"X-Request-ID": "bad id <script>"})
    assert len(r.headers["X-Request-ID"]) == 32 and "script" not in r.headers["X-Request-ID"]
    assert r.headers["X-Request-ID"] != officer.get("/tasks/").headers["X-Request-ID"]


def test_text_format_has_the_same_fields():
    record = logging.LogRecord("app.x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    logs.ContextFilter().filter(record)
    line = logging.Formatter(logs.TEXT_FORMAT).format(record)
    assert "[req=- user=- org=-] app.x: hello world" in line


class _FakeSentry(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":    # sentry-sdk uses brotli when it is installed
            body = brotli.decompress(body)                     # (it is: WeasyPrint's fonttools brings it)
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_errors_are_sent_to_sentry_when_a_dsn_is_set(app, restore_celery):
    import sentry_sdk
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeSentry.received = []
    other = None
    try:
        other = _other_app(app, SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/42",
                           PROPAGATE_EXCEPTIONS=False)

        def boom():
            raise RuntimeError("zx-sentry-probe")
        other.add_url_rule("/__boom", "boom", boom)
        r = other.test_client().get("/__boom", headers={"X-Request-ID": "sentry-probe-0001"})
        assert r.status_code == 500
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()
        if other is not None:
            with other.app_context():
                db.engine.dispose()
    bodies = [body.decode("utf-8", "replace") for path, body in _FakeSentry.received if path.startswith("/api/42/")]
    events = [b for b in bodies if "zx-sentry-probe" in b]
    assert events, f"no event reached the fake Sentry: {[p for p, _ in _FakeSentry.received]}"
    assert "sentry-probe-0001" in events[0]          # tagged with the request id


def test_healthz_and_readyz(app, client_app=None):
    c = app.test_client()
    r = c.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    r = c.get("/readyz")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"status": "ready", "checks": {"database": {"ok": True}, "broker": {"ok": True}}}


def test_readyz_is_503_with_detail_when_database_or_broker_is_down(app, restore_celery, tmp_path):
    down = _other_app(app, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
                      SQLALCHEMY_ENGINE_OPTIONS={}, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    c = down.test_client()
    assert c.get("/healthz").status_code == 200          # alive: no dependency is touched
    r = c.get("/readyz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["broker"]["ok"] is False


def test_proxy_fix_is_a_setting(app, restore_celery, caplog):
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    behind = _other_app(app, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    direct = _other_app(app)
    with caplog.at_level(logging.INFO, logger="app.access"):
        behind.test_client().get("/healthz", headers=headers)
        direct.test_client().get("/healthz", headers=headers)
    seen = [(r.remote_addr, r.scheme) for r in caplog.records if r.name == "app.access"]
    assert seen[-2:] == [("203.0.113.7", "https"), ("127.0.0.1", "http")]
    for a in (behind, direct):
        with a.app_context():
            db.engine.dispose()
