"""Every value of a preset with a citation map names its seed article and line, or says it is a default;
docs/presets.md shows exactly that map (issue 11)."""
import re
from pathlib import Path

import pytest

from app.policies.params import SchemeParams
from app.policies.presets import DEFAULT, SOURCES_DIR, load_preset, preset_codes, preset_sources, sources_table

CODES = sorted(p.stem for p in SOURCES_DIR.glob("*.json"))
DOC = Path(__file__).resolve().parents[2] / "docs" / "presets.md"


def test_every_preset_has_its_citation_map_and_none_keeps_one_inside():
    assert set(CODES) == set(preset_codes())
    for code in preset_codes():        # one place for citations: the map, not a key in the preset
        assert "_sources" not in load_preset(code), code


@pytest.mark.parametrize("code", CODES)
def test_every_value_is_cited_or_marked_default(code):
    src = preset_sources(code)
    assert src["seed"].startswith("seeds/") and src["heading"]
    meta = {"sources"}     # the scheme's own notes on values entered later, not a preset value
    missing = (set(SchemeParams.model_fields) | set(load_preset(code))) - set(src["values"]) - meta
    assert not missing, f"{code}: no citation for {sorted(missing)}"
    for key, cite in src["values"].items():
        assert cite.strip(), key
        if not cite.startswith((DEFAULT, "not entered")):
            assert re.search(r"line|第[\d、\-，, ]+行|seed header", cite) or cite.startswith(("summary", "worked")), \
                f"{code}.{key}: a citation names the line: {cite}"


@pytest.mark.parametrize("code", CODES)
def test_docs_table_is_generated_from_the_map(code):
    assert sources_table(code) in DOC.read_text(encoding="utf-8"), \
        "docs/presets.md is out of date: .venv/bin/python scripts/presets_doc.py"
