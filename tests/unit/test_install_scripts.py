"""The install path fails loudly: a failed package install stops scripts/install.sh (and so ./run.sh
and ./test.sh) instead of being reported as installed."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_UV = """#!/usr/bin/env bash
[ "${1:-}" = "--version" ] && { echo "uv 0.13.9"; exit 0; }
echo "fake uv: $*" >> "$(dirname "$0")/calls"
exit "${FAKE_UV_STATUS:-0}"
"""


def _sandbox(tmp_path: Path) -> Path:
    """A copy of the install scripts whose pinned uv is a stub (no network, no virtualenv)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("install.sh", "uv.sh"):
        shutil.copy(ROOT / "scripts" / name, repo / "scripts" / name)
    tools = repo / ".tools" / "bin"
    tools.mkdir(parents=True)
    (tools / "uv").write_text(FAKE_UV)
    (tools / "uv").chmod(0o755)
    (tools / "python").symlink_to(shutil.which("python3"))
    # front-end libraries and translations already in place: only the Python step runs
    # (every vendored file install.sh looks for, so that none of them sends it to scripts/vendor.sh)
    for built in re.findall(r"\[ ! -f (app/static/vendor/\S+) \]", (ROOT / "scripts" / "install.sh").read_text()):
        (repo / built).parent.mkdir(parents=True, exist_ok=True)
        (repo / built).write_text("")
    for f in ("package.json", "package-lock.json"):
        (repo / f).write_text("{}")
        os.utime(repo / f, (0, 0))
    return repo


def _install(repo: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/install.sh", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "FAKE_UV_STATUS": str(status)}, timeout=60)


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("python3") is None, reason="needs bash")
def test_failed_package_install_fails_the_install(tmp_path):
    repo = _sandbox(tmp_path)
    r = _install(repo, "--test", status=1)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "zengxin installed" not in r.stdout


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("python3") is None, reason="needs bash")
def test_run_installs_without_and_test_with_the_test_extras(tmp_path):
    repo = _sandbox(tmp_path)
    assert _install(repo).returncode == 0
    assert _install(repo, "--test").returncode == 0
    calls = (repo / ".tools" / "bin" / "calls").read_text().splitlines()
    assert calls == ["fake uv: sync --frozen --quiet", "fake uv: sync --frozen --quiet --extra test"]
    run_install = [ln for ln in (ROOT / "run.sh").read_text().splitlines() if "scripts/install.sh" in ln
                   and not ln.lstrip().startswith("#")]
    assert len(run_install) == 1 and "--test" not in run_install[0].split("#")[0]
    assert "scripts/install.sh --test --browser" in (ROOT / "test.sh").read_text()
