"""Database outages: reconnect after a restart, a localized 503 page while unreachable, recovery alone.

The PostgreSQL test puts a TCP proxy between a second app instance and the shared test server and
cuts that line (the shared server itself is never stopped: others use it).
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

from app import create_app
from tests.conftest import Browser
from tests.tcp_proxy import TcpProxy


def _second_app(app, url, **extra):
    cfg = {"SECRET_KEY": app.config["SECRET_KEY"], "TESTING": True, "UPLOAD_DIR": app.config["UPLOAD_DIR"],
           "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"], "SQLALCHEMY_DATABASE_URI": url,
           "WTF_CSRF_ENABLED": False, **extra}
    if url.startswith("postgresql") and app.config.get("ZX_TEST_SCHEMA"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {
            "options": f"-csearch_path={app.config['ZX_TEST_SCHEMA']}", "connect_timeout": 5}}
    return create_app(cfg)


@pytest.fixture
def restore_celery(app):
    yield
    from app.jobs.wiring import init_celery
    init_celery(app)            # create_app re-pointed the shared Celery instance at the second app


def test_unreachable_database_gives_a_localized_503(app, restore_celery, tmp_path):
    broken = _second_app(app, f"sqlite:///{tmp_path / 'no-such-dir' / 'zx.db'}")
    client = broken.test_client()
    r = client.post("/login", data={"username": "someone", "password": "x"})
    assert r.status_code == 503
    page = r.data.decode()
    assert "服务暂时不可用" in page and "Traceback" not in page
    assert r.headers["Retry-After"] == "30"
    r = client.post("/login?lang=en", data={"username": "someone", "password": "x"})
    assert r.status_code == 503 and "Service temporarily unavailable" in r.data.decode()


def test_restart_and_outage_of_postgresql_through_a_proxy(app, world, restore_celery):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("SQLite is a local file: there is no server connection to lose (PostgreSQL only)")
    w = world()
    parts = urlsplit(url)
    with TcpProxy(parts.hostname, parts.port or 5432) as proxy:
        netloc = parts.netloc.rsplit("@", 1)
        netloc = f"{netloc[0]}@127.0.0.1:{proxy.port}" if len(netloc) == 2 else f"127.0.0.1:{proxy.port}"
        behind = _second_app(app, urlunsplit(parts._replace(netloc=netloc)), WTF_CSRF_ENABLED=True)
        try:
            firm = Browser(behind, w.user("firm").username)
            assert firm.get("/tasks/").status_code == 200

            proxy.drop()                       # the database restarted: every pooled connection is dead
            assert firm.get("/tasks/").status_code == 200, "first request after a restart failed"

            proxy.cut()                        # unreachable
            r = firm.get("/tasks/")
            assert r.status_code == 503 and "服务暂时不可用" in r.data.decode()
            r = firm.get("/tasks/?lang=en")
            assert r.status_code == 503 and "Service temporarily unavailable" in r.data.decode()

            proxy.restore()                    # back: the app recovers with no restart
            r = firm.get("/tasks/")
            assert r.status_code == 200 and "Service temporarily unavailable" not in r.data.decode()
        finally:
            with behind.app_context():
                from app.core.db import db
                db.session.remove()
                db.engine.dispose()
