"""Chinese is the source language and the default; English on request (?lang=en, saved in session).

``_`` translates now (inside a request), ``_l`` lazily (module-level labels), ``N_`` only marks a
string for extraction: use it for labels that are also *stored* (JSON, audit details, computations)
and translate them where they are shown, ``{{ _(value) }}``.  Text stored in the database is written
in the source language (see :func:`source_language`), whatever language the acting user reads.
"""
import re
from contextlib import contextmanager

from flask import current_app, has_request_context, request, session
from flask_babel import Babel, force_locale, gettext, lazy_gettext, ngettext, pgettext  # noqa: F401
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


def localname(obj) -> str:
    """The name of an organisation, sector, scheme or product (object or dict) in the current
    language: ``name_en`` when English is shown and one is recorded, else ``name`` (data, not msgids)."""
    if obj is None:
        return ""
    get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
    name = get("name") or ""
    if has_request_context() and get_locale() == "en":
        return get("name_en") or name
    return name


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
    if has_request_context() and get_locale() == "en":
        return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
    return "一二三四五六日"[day.weekday()]


def in_source_language(text) -> str:
    """``str(text)`` of a lazy label in the source language: for labels written into stored data
    (show them again with ``{{ value|tr }}``)."""
    with source_language():
        return str(text)
