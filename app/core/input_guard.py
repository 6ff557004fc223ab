"""Defence in depth behind the forms: hostile input that no form field caught ends in a 400 page.

- ``Int64Converter`` replaces the ``int`` URL converter: an id beyond 64 bits is a 404, not a
  database overflow.
- A request guard refuses control characters (NUL ...) and over-long values in the path and the
  query string before any view runs (forms put their own messages next to their fields).
- A database guard refuses any statement parameter holding a NUL byte (PostgreSQL cannot store it,
  SQLite would) by raising :class:`InputRefused`, which the error handler turns into the 400 page
  after a rollback — whatever view or operation let it through.
"""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from app.core import validation as v
from app.core.db import db
from app.core.i18n import _


class InputRefused(ValueError):
    """Input that must not be stored; the message is for the user."""


class Int64Converter(IntegerConverter):
    """``<int:...>`` limited to what a BIGINT holds: larger ids do not match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        limit = v.INT64_MAX if max is None or max > v.INT64_MAX else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=limit, signed=signed)


def _refuse_page(message: str):
    return render_template("errors/input_refused.html", message=message), 400


def _check_request():
    values = [request.path, *request.args.keys()]
    for vals in request.args.listvalues():
        values.extend(vals)
    for value in values:
        if len(value) > v.MAX_VALUE_CHARS or v.bad_character(value):
            return _refuse_page(_("地址或查询参数中含有控制字符或过长的内容，请求未被处理。"))
    return None


def _nul_in_params(conn, cursor, statement, parameters, context, executemany):
    if any("\x00" in text for text in v.strings_in(parameters)):
        raise InputRefused(_("提交的内容含有空字符（NUL），未保存。"))


def install(app) -> None:
    """Register the converter (call before blueprints), the request guard and the error handler."""
    app.url_map.converters["int"] = Int64Converter
    app.before_request(_check_request)

    @app.errorhandler(InputRefused)
    def _input_refused(exc):
        db.session.rollback()
        return _refuse_page(str(exc))

    if not event.contains(Engine, "before_cursor_execute", _nul_in_params):
        event.listen(Engine, "before_cursor_execute", _nul_in_params)
