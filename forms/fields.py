"""The base of every form: the input limits of ``app/core/validation.py`` applied to each field.

Every form in ``forms/`` subclasses :class:`Form` (``tests/unit/test_input_limits.py`` checks it).
Right after the submitted data is read, each field is checked by its kind, before any of its own
validators run (so they never see NaN, 10^30, a year-9999 date or a 20-digit id):

- any value: no NUL or other control character, no bidi override, at most 100,000 characters;
- a text field (not a password): not made only of invisible characters (zero-width spaces ...);
- a decimal field: finite; money (``places=2``) at most 1 万亿元, any other at most 10^15;
- an integer, integer select or id: within 64 bits;
- a date: between 2000-01-01 and 50 years from today;
- a file field: at most ``MAX_FILES_PER_FIELD`` files.

A refused value becomes a message next to its field (``process_errors``) and the field's data
becomes empty, so the form does not validate and nothing is stored.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (DateField, DecimalField, HiddenField, IntegerField, PasswordField, SelectFieldBase,
                     StringField)

from app.core import validation as v
from app.core.i18n import _
from app.core.timeutil import today


def _strip_bad(text: str) -> str:
    return "".join(ch for ch in text if not v.bad_character(ch))


def _int_ok(value) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or v.integer_problem(value) is None


def field_problem(field, day: date) -> str | None:
    """The first limit a processed field breaks, or None."""
    raw = [r for r in (field.raw_data or [])]
    texts = [r for r in raw if isinstance(r, str)]
    files = [r for r in raw if isinstance(r, FileStorage) and r.filename]
    if len(files) > v.MAX_FILES_PER_FIELD:
        return _("一次最多上传 {n} 个文件").format(n=v.MAX_FILES_PER_FIELD)
    for f in files:
        problem = v.text_problem(f.filename)
        if problem:
            return problem
    for t in texts:
        if len(t) > v.MAX_VALUE_CHARS:
            return str(v.MSG_TOO_LONG)
        if v.bad_character(t):
            return str(v.MSG_CONTROL)
    data = field.data
    if isinstance(field, StringField) and not isinstance(field, (PasswordField, HiddenField)):
        if any(v.only_invisible(t) for t in texts):
            return str(v.MSG_INVISIBLE)
    if isinstance(field, DecimalField) and isinstance(data, Decimal):
        return v.decimal_problem(data, money=getattr(field, "places", None) == 2)   # places=2: money, to the fen
    if isinstance(field, IntegerField) and isinstance(data, int):
        return v.integer_problem(data)
    if isinstance(field, SelectFieldBase):
        values = data if isinstance(data, (list, tuple)) else [data]
        if not all(_int_ok(x) for x in values):
            return str(v.MSG_INTEGER_RANGE)
    if isinstance(field, DateField) and isinstance(data, date):
        return v.date_problem(data, day)
    return None


class Form(FlaskForm):
    """FlaskForm with the project's input limits on every field."""

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj=obj, data=data, extra_filters=extra_filters, **kwargs)
        self._input_problems = {}
        if not any(f.raw_data for f in self._fields.values()):
            return   # nothing submitted: defaults and objects are ours, not input
        day = today()
        for name, field in self._fields.items():
            problem = field_problem(field, day)
            if problem is None:
                continue
            self._input_problems[name] = problem
            field.process_errors.append(problem)
            if isinstance(field, StringField):
                field.data = _strip_bad(field.data) if isinstance(field.data, str) else None
            else:
                field.data = None
            # what is shown again: the typed text without the refused characters
            field.raw_data = [_strip_bad(r) if isinstance(r, str) else r for r in field.raw_data or []
                              if not isinstance(r, FileStorage)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # a validator such as Optional() clears a field's errors when it looks empty: the limits stay
        for name, problem in getattr(self, "_input_problems", {}).items():
            field = self._fields[name]
            if problem not in field.errors:
                field.errors = [problem, *field.errors]
            ok = False
        return ok
