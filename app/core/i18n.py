"""Chinese is the source language and the default; English on request (?lang=en, saved in session).

``_`` translates now (inside a request), ``_l`` lazily (module-level labels), ``N_`` only marks a
string for extraction: use it for labels that are also *stored* (JSON, audit details, computations)
and translate them where they are shown, ``{{ _(value) }}``.  Text stored in the database is written
in the source language (see :func:`source_language`), whatever language the acting user reads.
"""
import json
import re
from contextlib import contextmanager

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, force_locale, gettext, lazy_gettext, ngettext, pgettext  # noqa: F401
from flask_babel import get_locale as babel_locale
from jinja2.ext import Extension

babel = Babel()
_ = gettext
_l = lazy_gettext


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate where it is displayed)."""
    return message


def get_locale() -> str:
    langs = current_app.config["LANGUAGES"]
    if not has_request_context():       # background jobs, CLI: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang") if request else None
    if asked in langs:
        session["lang"] = asked
        return asked
    if session.get("lang") in langs:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def source_language():
    """Translate into the default (source) language inside the block: for text that gets stored."""
    if not has_request_context():
        yield
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def showing_source_language() -> bool:
    """Whether text made now is already in the source language, the one stored (see :func:`source_language`)."""
    if not has_request_context():
        return True
    loc = babel_locale()
    return loc is None or loc == Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])


def _shown_in_english() -> bool:
    """Whether the text being rendered is English: the locale Flask-Babel uses now (the request's,
    or the one forced by :func:`source_language` / ``force_locale``)."""
    if not has_request_context():
        return False
    loc = babel_locale()
    return loc is not None and loc.language == "en"


def localname(obj) -> str:
    """The name of an organisation, sector, scheme or product (object or dict) in the current
    language: ``name_en`` when English is shown and one is recorded, else ``name`` (data, not msgids)."""
    if obj is None:
        return ""
    get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
    name = get("name") or ""
    if _shown_in_english():
        return get("name_en") or name
    return name


_HAN = re.compile(r"[\u3400-\u9fff]")


def chinese_data(text):
    """``{{ value|zh }}``: a value that is Chinese by nature (a citation of a policy text, an official
    announcement, a document number) shown on an English page inside ``<span lang="zh-CN">``, so that
    screen readers pronounce it as Chinese and the English-page test knows it is data, not chrome."""
    from markupsafe import Markup, escape
    if text and _shown_in_english() and _HAN.search(str(text)):
        return Markup('<span lang="zh-CN">%s</span>') % escape(text)
    return text


def translate_data(text):
    """``{{ value|tr }}``: translate a msgid held in data (a BPMN task name, an ``N_`` label);
    an empty value stays empty (gettext("") would return the catalog header)."""
    return gettext(text) if text else text


# Full-width punctuation written as template text (``{{ _('余额') }}：{{ x }}``) is Chinese typography;
# the extension below turns each such character *in the template source* (never in data) into a
# msgid, so an English page reads "Balance: 12.00" while Chinese pages are unchanged.
PUNCTUATION = {"：": N_("："), "，": N_("，"), "；": N_("；"), "（": N_("（"), "）": N_("）"), "。": N_("。"),
               "、": N_("、")}


class PunctuationExtension(Extension):
    _block = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.S)
    _marks = re.compile("[" + "".join(PUNCTUATION) + "]")

    def preprocess(self, source, name, filename=None):
        parts = self._block.split(source)
        for i in range(0, len(parts), 2):      # even parts are template text, odd ones Jinja syntax
            parts[i] = self._marks.sub(lambda m: "{{ _('%s') }}" % m.group(0), parts[i])
        return "".join(parts)


def weekday(day) -> str:
    """``{{ day|weekday }}``: 一 … 日 in Chinese, Mon … Sun in English."""
    if _shown_in_english():
        return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
    return "一二三四五六日"[day.weekday()]


def in_source_language(text) -> str:
    """``str(text)`` of a lazy label in the source language: for labels written into stored data
    (show them again with ``{{ value|tr }}``)."""
    with source_language():
        return str(text)


# ---------------------------------------------------------------------------- messages stored in data

STORED_PREFIX = '{"msgid":'


def stored(msgid: str, **params) -> str:
    """A text the system writes into data (a task title, a threshold reason, a ledger memo) as its
    msgid and parameters, so that every reader sees it in their own language: ``{{ value|msg }}`` or
    :func:`shown`.  ``msgid`` is marked ``N_`` where it is written and uses ``{name}`` placeholders;
    a parameter that is a dict with ``name`` (and ``name_en``) is a name shown by :func:`localname`.
    Numbers are passed formatted (amounts as ``fmt_yuan``), the same in both languages."""
    return json.dumps({"msgid": msgid, "params": params}, ensure_ascii=False, separators=(",", ":"))


def shown(text) -> str:
    """The text of a value that may be a :func:`stored` message, in the current language; any other
    text (typed by a user, written before messages were stored) is returned as it is."""
    if not text or not isinstance(text, str) or not text.startswith(STORED_PREFIX):
        return text or ""
    try:
        data = json.loads(text)
        return message(data["msgid"], data.get("params"))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return text


def message(msgid: str, params: dict | None = None) -> str:
    """``msgid`` translated and filled with ``params``: a dict with ``name`` is a name shown by
    :func:`localname`, a dict with ``msgid`` a label translated too (e.g. a rounding rule)."""
    def one(v):
        if not isinstance(v, dict):
            return v
        label = v.get("msgid")
        return gettext(label) if label else localname(v)
    params = {k: one(v) for k, v in (params or {}).items()}
    return gettext(msgid).format(**params)


def shown_in_source_language(text) -> str:
    """:func:`shown` in the default language: for e-mails, exports and API answers that have one text."""
    with source_language():
        return shown(text)


def name_param(obj) -> dict:
    """A name as a :func:`stored` parameter: both languages, chosen when shown."""
    return {"name": getattr(obj, "name", "") or "", "name_en": getattr(obj, "name_en", "") or ""}
