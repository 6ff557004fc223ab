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


# ---------------------------------------------------------------------------- where each value comes from

SOURCES_DIR = PRESET_DIR / "sources"
DEFAULT = "default, not in the seed"


def preset_sources(code: str) -> dict | None:
    """The preset's citation map (``presets/sources/<code>.json``): the seed file and, per parameter,
    the article and line it comes from or "default, not in the seed"; None where none is kept yet."""
    path = SOURCES_DIR / f"{code}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _shown(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "kind" in value[0] and "name" in value[0]:
        return f"{len(value)} worked examples"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def sources_table(code: str) -> str:
    """The preset's section of docs/presets.md: each value with its seed citation or the default mark."""
    src = preset_sources(code)
    values = preset_params(code).model_dump(mode="json")   # the model's default where the file is silent
    lines = [f"## {src['heading']}", "",
             f"Preset `{code}` (`app/policies/presets/{code}.json`), seed `{src['seed']}`; citations from "
             f"`app/policies/presets/sources/{code}.json`.", "",
             "| value | preset | seed (article, line) |", "|---|---|---|"]
    for key, cite in src["values"].items():
        shown = _shown(values[key]) if key in values else "—"
        mark = f"**{cite}**" if cite.startswith(DEFAULT) else cite
        lines.append(f"| `{key}` | {shown} | {mark} |")
    return "\n".join(lines) + "\n"


def scheme_citations(scheme) -> list[tuple[str, str, bool]]:
    """Where each of a scheme's values comes from, for its administration page: (key, citation, changed).

    The preset's citation map says where the preset's value comes from; a value the administrator entered
    or changed since carries its own note in the scheme's parameters (``_sources``), which wins.  ``changed``
    is True where the scheme's value is no longer the preset's, so the preset's citation no longer covers it."""
    src = preset_sources(scheme.preset) if scheme.preset in preset_codes() else None
    own = dict(scheme.params.sources)
    current = scheme.params.model_dump(mode="json")
    preset = preset_params(scheme.preset).model_dump(mode="json") if src else {}
    out = []
    for key, cite in (src["values"].items() if src else ()):
        top = key.split(".", 1)[0].split("[", 1)[0]
        changed = current.get(top) != preset.get(top)
        out.append((key, own.pop(key, cite), changed))
    out.extend((key, cite, True) for key, cite in own.items())
    return out
