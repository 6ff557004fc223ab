"""Shared helpers: an app on its own PostgreSQL schema (dropped afterwards), timing statistics."""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import create_engine, text

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", default=os.environ.get("ZX_BENCH_DB", DEFAULT_DB),
                   help=f"PostgreSQL URL (default {DEFAULT_DB}); a fresh schema is made and dropped")
    return p


def _driver_url(url: str) -> str:
    from app.core.config import normalise_db_url
    return normalise_db_url(url)


@contextlib.contextmanager
def bench_app(url: str, pool_size: int = 5, pg_options: str = ""):
    """Yield ``(app, schema)``: the real app on a new schema of ``url`` with tables and the BPMN deployed.

    ``pg_options``: extra ``-c`` settings for the app's connections (e.g. ``-csynchronous_commit=off``).
    """
    from app import create_app
    from app.core.db import db

    schema = f"zx_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_driver_url(url))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    tmp = tempfile.TemporaryDirectory(prefix="zx-bench-")
    try:
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": os.path.join(tmp.name, "up"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema} {pg_options}".strip()},
                                          "pool_size": pool_size},
            "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp.name}/broker.sqlite"})
        with app.app_context():
            db.create_all()
            from app.policies.rates import seed_reference_rates
            from app.workflow.engine import deploy_directory
            seed_reference_rates()
            deploy_directory()
            db.session.commit()
        try:
            yield app, schema
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        tmp.cleanup()


def stats_ms(samples_s: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples_s)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"n": len(ms), "median": statistics.median(ms), "p95": p95, "min": ms[0], "max": ms[-1]}


def fmt(st: dict) -> str:
    return f"median {st['median']:.2f} ms, p95 {st['p95']:.2f} ms (n={st['n']}, min {st['min']:.2f}, max {st['max']:.2f})"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    return f"{platform.node()} · {cpu} · {os.cpu_count()} CPUs · Python {platform.python_version()}"


def header(title: str, app) -> None:
    from app.core.db import db
    with app.app_context():
        pg = db.session.scalar(text("show server_version"))
    print(f"# {title}")
    print(f"date: {datetime.now(timezone.utc).astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"PostgreSQL {pg}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (other work on the machine skews the figures)")


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out
