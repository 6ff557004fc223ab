"""Chinese is the source language and the default; English on request (?lang=en, saved in session)."""
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, gettext, lazy_gettext, ngettext, pgettext  # noqa: F401

babel = Babel()
_ = gettext
_l = lazy_gettext


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
