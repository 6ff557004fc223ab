"""The benchmark scripts still run (at a toy size, a few seconds): they import the app's operations,
forms and queries by name, so a refactoring that breaks them shows here, not on the day of a
measurement.  PostgreSQL only (the benchmarks make and drop their own schema); timings are printed,
never asserted."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("ZX_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not PG.startswith("postgres"), reason="the benchmarks run on PostgreSQL")


def _bench(module: str, *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", module, "--db", PG, *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "dropped" in r.stdout
    return r.stdout


def test_http_step_runs_at_toy_size():
    out = _bench("bench.http_step", "--workers", "1", "--steps", "4", "--bare", "4")
    assert "errors: 0 " in out and "department review over HTTP" in out


def test_task_queue_runs_at_toy_size():
    out = _bench("bench.task_queue", "--scales", "200,400", "--districts", "2", "--repeat", "3")
    assert "growth 200 → 400" in out
