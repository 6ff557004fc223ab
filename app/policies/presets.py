"""Policy presets, one JSON file per seed (numbers are data, not code)."""
import json
from pathlib import Path

PRESET_DIR = Path(__file__).with_name("presets")


def preset_codes() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(code: str) -> dict:
    path = PRESET_DIR / f"{code}.json"
    if not path.exists():
        raise KeyError(f"unknown policy preset {code!r}; known: {', '.join(preset_codes())}")
    return json.loads(path.read_text(encoding="utf-8"))
