"""The server's check of a form-js submission, against the same schema the browser rendered.

The browser's checks are a convenience; this is the rule.  A submission is form-encoded: one value per
field key (``checklist`` and ``taglist``: the key repeated per chosen value; ``checkbox``: ``true`` when
ticked).  Only the form's own keys are read; readonly and disabled fields are never taken from the request.

Every value first passes the project's input limits (:mod:`app.core.validation`: no control or bidi
characters, at most 100,000 characters, not only invisible characters), then its field's rules:

- required; text ``minLength``/``maxLength`` (500 for a textfield and 5000 for a textarea unless the form
  says otherwise), ``pattern`` (searched, as form-js does), ``validationType`` email/phone;
- number: plain decimal notation only (no exponent, NaN or Infinity), ``min``/``max``, ``decimalDigits``;
  money (``properties.money = "true"``): Decimal to the fen, 0 .. 1 万亿元;
- select/radio: one of the listed values; checklist/taglist: listed values, each once;
- datetime: ``YYYY-MM-DD`` dates between 2000-01-01 and 50 years ahead (``disallowPassedDates``: not before
  today), ``HH:MM`` times, ``YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`` date-times.

The result is ``(values, errors)``: values ready for task data (text, int, money as ``"1234.50"``, dates as
ISO text, lists of option values, booleans; an empty optional field is ``None``) and one message per field
id, in the reader's language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.core import validation as v
from app.core.i18n import _
from app.formjs.schema import MULTI_TYPES, Field

NUMBER_RE = re.compile(r"^[+-]?\d{1,30}(\.\d{1,30})?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(Z|[+-]\d{2}:\d{2})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+[1-9]\d{1,14}$")
FEN = Decimal("0.01")


@dataclass
class Checked:
    values: dict
    errors: dict          # field id -> message
    submitted: dict       # field key -> the raw submitted value(s), to show again


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def _one(f: Field, raw: list[str], today: date, locale: str):
    """(value, message) for one field."""
    for s in raw:
        if len(s) > v.MAX_VALUE_CHARS:
            return None, str(v.MSG_TOO_LONG)
        if v.bad_character(s):
            return None, str(v.MSG_CONTROL)
    if f.type in MULTI_TYPES:
        allowed = {o.value for o in f.options}
        chosen = [s for s in raw if s != ""]
        if any(s not in allowed for s in chosen) or len(set(chosen)) != len(chosen):
            return None, _("请从列出的选项中选择")
        if f.required and not chosen:
            return None, _("请至少选择一项")
        return chosen, None
    if len(raw) > 1:
        return None, _("此项只能填写一个值")
    s = raw[0] if raw else ""
    if f.type == "checkbox":
        if s not in ("", "true"):
            return None, _("无效的选项")
        if f.required and s != "true":
            return None, _("请勾选此项")
        return s == "true", None
    if v.only_invisible(s):
        return None, str(v.MSG_INVISIBLE)
    s = s.strip()
    if not s:
        return None, (_("此项为必填项") if f.required else None)
    if f.type in ("textfield", "textarea"):
        if f.max_length is not None and len(s) > f.max_length:
            return None, _("最多 {n} 个字符").format(n=f.max_length)
        if f.min_length is not None and len(s) < f.min_length:
            return None, _("至少 {n} 个字符").format(n=f.min_length)
        if f.pattern and not re.search(f.pattern, s):
            own = (f.pattern_message_en or f.pattern_message) if locale == "en" else f.pattern_message
            return None, own or _("格式不正确")
        if f.validation_type == "email" and not EMAIL_RE.match(s):
            return None, _("请输入有效的电子邮件地址")
        if f.validation_type == "phone" and not PHONE_RE.match(s):
            return None, _("请输入有效的国际电话号码（如 +8623xxxxxxxx）")
        return s, None
    if f.type == "number":
        if not NUMBER_RE.match(s):
            return None, str(v.MSG_NUMBER)
        d = Decimal(s)
        problem = v.decimal_problem(d, money=f.money)
        if problem:
            return None, problem
        places = -d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0
        if f.money and places > 2:
            return None, _("金额精确到分，最多两位小数")
        if f.decimal_digits is not None and places > f.decimal_digits:
            return None, (_("请输入整数") if f.decimal_digits == 0 else
                          _("最多 {n} 位小数").format(n=f.decimal_digits))
        low = f.min if f.min is not None else (Decimal(0) if f.money else None)
        if low is not None and d < low:
            return None, _("不能小于 {n}").format(n=_fmt(low))
        if f.max is not None and d > f.max:
            return None, _("不能大于 {n}").format(n=_fmt(f.max))
        if f.money:
            return format(d.quantize(FEN), "f"), None
        if d == d.to_integral_value() and places == 0:
            return int(d), None
        return format(d, "f"), None
    if f.type in ("radio", "select"):
        if s not in {o.value for o in f.options}:
            return None, _("请从列出的选项中选择")
        return s, None
    if f.type == "datetime":
        if f.subtype == "time":
            return (s, None) if TIME_RE.match(s) else (None, _("请输入有效的时间（时:分）"))
        if f.subtype == "datetime":
            if not DATETIME_RE.match(s):
                return None, _("请输入有效的日期和时间")
            try:
                day = datetime.fromisoformat(s).date()
            except ValueError:
                return None, _("请输入有效的日期和时间")
        else:
            if not DATE_RE.match(s):
                return None, _("请输入有效的日期（年-月-日）")
            try:
                day = date.fromisoformat(s)
            except ValueError:
                return None, _("请输入有效的日期（年-月-日）")
        problem = v.date_problem(day, today)
        if problem:
            return None, problem
        if f.disallow_past and day < today:
            return None, _("不能早于今天")
        return s, None
    return None, _("无效的选项")   # unreachable: the schema allows only the types above


def check(fields: list[Field], formdata, today: date, locale: str = "zh") -> Checked:
    """Validate ``formdata`` (a MultiDict: ``getlist``) against ``fields``."""
    values, errors, submitted = {}, {}, {}
    for f in fields:
        if f.ignored:
            continue
        raw = [s if isinstance(s, str) else "" for s in formdata.getlist(f.key)]
        shown = ["".join(ch for ch in s if not v.bad_character(ch)) if len(s) <= v.MAX_VALUE_CHARS else ""
                 for s in raw]                      # shown again on the page: never the refused characters
        submitted[f.key] = shown if f.type in MULTI_TYPES else (shown[0] if shown else "")
        value, message = _one(f, raw, today, locale)
        if message:
            errors[f.id] = message
        else:
            values[f.key] = value
    return Checked(values, errors if errors else {}, submitted)
