"""Policy presets, one JSON file per seed (numbers are data, not code)."""
import json
from pathlib import Path

from app.policies.params import SchemeParams, parse_params

PRESET_DIR = Path(__file__).with_name("presets")


def preset_codes() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(code: str) -> dict:
    """The preset's parameters as written in its file (a dict, for editing or display)."""
    path = PRESET_DIR / f"{code}.json"
    if not path.exists():
        raise KeyError(f"unknown policy preset {code!r}; known: {', '.join(preset_codes())}")
    return json.loads(path.read_text(encoding="utf-8"))


def preset_params(code: str, **changes) -> SchemeParams:
    """The preset loaded into the validated model, with optional changes (e.g. ``name``)."""
    return parse_params({**load_preset(code), **changes})
