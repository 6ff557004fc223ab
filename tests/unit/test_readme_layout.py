"""The README's layout section lists every package of the application as it is (issue 8): a package
added without its line, or a line left behind by a removed package, fails here."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\napp/ ")
    return text[start:text.index("```", start)]


def test_every_app_package_has_its_line_and_every_line_its_package():
    listed = set(re.findall(r"^  ([a-z_]+)/ ", _layout_block(), flags=re.M))
    packages = {p.parent.name for p in (ROOT / "app").glob("*/__init__.py")}
    assert packages - listed == set(), "packages missing from the README's layout section"
    assert listed - packages - {"static"} == set(), "README lines for packages that do not exist"
    for top in ("bpmn/", "forms/", "templates/", "migrations/", "tests/", "bench/", "scripts/"):
        assert f"\n{top}" in _layout_block(), top
