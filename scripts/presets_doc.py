"""Rewrite the generated sections of docs/presets.md from the presets' citation maps
(app/policies/presets/sources/*.json).  Sections written by hand (other headings) are kept."""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.policies.presets import SOURCES_DIR, sources_table  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "presets.md"
HEAD = ("# Presets and their seeds\n\nEach preset value with the article and line of its seed (`/work/shared/seeds/`), "
        "or **default, not in the seed** where the seed does not give it. Generated sections: "
        "`.venv/bin/python scripts/presets_doc.py`.\n\n")

text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEAD
for path in sorted(SOURCES_DIR.glob("*.json")):
    section = sources_table(path.stem)
    heading = section.splitlines()[0]
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda m, s=section: s + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
DOC.write_text(text, encoding="utf-8")
print(f"wrote {DOC}")
