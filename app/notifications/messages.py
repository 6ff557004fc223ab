"""Notification text stored as msgids with parameters, translated when shown (inbox or e-mail).

A stored message is ``title`` and ``body`` (msgids, marked with ``N_`` where they are written) and
``params_json``: ``{"args": {...}, "item": msgid, "items": [{...}, ...]}``.  ``args`` fill the title
and body; a grouped message (one escalation listing every overdue step) has one line per entry of
``items``, each filling ``item``.  A parameter value is shown as:

* a string or number: as it is (data: numbers, amounts, names written by people);
* ``{"name": ..., "name_en": ...}``: the name in the reader's language (organisations, schemes);
* ``{"msgid": ...}``: translated (a BPMN step name, a status label).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext

from app.core.i18n import get_locale, shown, translate_data


@dataclass
class Shown:
    title: str
    body: str = ""
    items: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Plain text (the e-mail): the body, then the items one a line."""
        lines = [self.body] if self.body else []
        lines += [f"- {i}" for i in self.items]
        return "\n".join(lines) or self.title


def pack(args: dict | None = None, item: str | None = None, items: list[dict] | None = None) -> str:
    """The ``params_json`` of a translated message."""
    out: dict = {"args": args or {}}
    if item is not None:
        out["item"] = item
        out["items"] = items or []
    return json.dumps(out, ensure_ascii=False, default=str)


def named(obj) -> dict:
    """A parameter shown as the object's name in the reader's language (organisation, scheme)."""
    return {"name": getattr(obj, "name", "") or "", "name_en": getattr(obj, "name_en", "") or ""}


def _value(v, lang: str):
    if isinstance(v, dict):
        if "msgid" in v:
            return translate_data(v["msgid"]) or ""
        if "name" in v:
            return (v.get("name_en") or v["name"]) if lang == "en" else v["name"]
    return v


def _fill(msgid: str, values: dict, lang: str) -> str:
    if not msgid:
        return ""
    text = gettext(msgid)
    try:
        return text.format(**{k: _value(v, lang) for k, v in values.items()})
    except (KeyError, IndexError, ValueError):   # a translation naming a parameter the row lacks
        return msgid.format(**{k: _value(v, lang) for k, v in values.items()})


def current_language() -> str:
    if not has_app_context():
        return "zh"
    return get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def show(n, lang: str | None = None) -> Shown:
    """The notification's text in ``lang`` (default: the current request's language)."""
    params = n.params
    lang = lang or current_language()
    if params is None:      # text as written, or a stored message (i18n.stored: a task title as body)
        with force_locale(lang):
            return Shown(shown(n.title), shown(n.body or ""))
    with force_locale(lang):
        args = params.get("args") or {}
        item = params.get("item")
        return Shown(_fill(n.title, args, lang), _fill(n.body or "", args, lang),
                     [_fill(item, {**args, **i}, lang) for i in params.get("items", [])] if item else [])
