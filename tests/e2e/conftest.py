"""Browser fixtures: Debian's Chromium through Playwright, and the real app on a local port.

Never ``playwright install``: the launch is pointed at ``/usr/bin/chromium`` (``apt-get install
chromium``, done by ``scripts/install.sh --browser``) with the flags that keep it off the network.
"""
from __future__ import annotations

import shutil
import threading

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/install.sh --browser)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def live_server(app):
    """The app served by werkzeug on 127.0.0.1 and a free port, in a background thread."""
    from werkzeug.serving import make_server

    # static files cacheable as in production, so each page load does not revalidate them
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="zx-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def base_url(live_server):
    # replaces pytest-playwright's fallback fixture, which pytest 9 warns about (warnings are errors)
    return live_server


@pytest.fixture
def retire_new_schemes(ctx):
    """Deactivate the schemes a test created, so session-wide jobs run later (monthly filing for every
    active scheme's banks, in tests/integration/test_celery_brokers.py) do not grow with each test."""
    from sqlalchemy import func, select, update

    from app.core.db import db
    from app.policies.models import Scheme
    last = db.session.scalar(select(func.max(Scheme.id))) or 0
    db.session.rollback()
    yield
    db.session.rollback()
    db.session.execute(update(Scheme).where(Scheme.id > last).values(active=False))
    db.session.commit()


@pytest.fixture
def fresh_app(app, tmp_path):
    """An app of its own over a fresh SQLite database (tables, reference rates, the diagrams deployed),
    for a test that must see only the data it makes: the English crawl, the demo's month."""
    from app import create_app
    from app.core.db import db
    from app.policies.rates import seed_reference_rates
    from app.workflow.engine import deploy_directory
    cfg = {k: app.config[k] for k in ("SECRET_KEY", "TESTING", "CELERY_BROKER_URL", "WTF_CSRF_ENABLED",
                                      "LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_PER_ACCOUNT", "MAX_UPLOAD_MB")}
    cfg.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}", UPLOAD_DIR=str(tmp_path / "uploads"))
    fresh = create_app(cfg)
    with fresh.app_context():
        db.create_all()
        seed_reference_rates()
        assert not deploy_directory().refusals
        db.session.commit()
        yield fresh
        db.session.remove()
        db.engine.dispose()
