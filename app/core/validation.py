"""Input limits, in one place: what any text, amount, date, id or file list typed into a form may be.

Pure functions (no Flask, no database) return a message for the user, or ``None`` when the value
is acceptable.  The form base class (``forms/fields.py``) applies them to every field of every
form; the request guard (``install_request_guard``) and the database guard refuse what slipped
past a form.  The README's *Input limits* section lists these numbers.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

from app.core.i18n import _l

# ---------------------------------------------------------------------------- the limits

INT64_MAX = 2 ** 63 - 1                      # every id and integer fits a PostgreSQL BIGINT
MONEY_MAX = Decimal("1000000000000.00")      # 1 万亿元: above any fund, loan or claim of a district scheme
NUMBER_MAX = Decimal("1000000000000000")     # any other decimal field (rates have their own ranges)
DATE_MIN = date(2000, 1, 1)                  # the schemes start in 2015; a typo like 0202 is refused
DATE_MAX_YEARS_AHEAD = 50                    # consents and deadlines may lie ahead, 9999-12-31 may not
MAX_FILES_PER_FIELD = 10                     # one upload field takes at most this many files
MAX_JSON_DEPTH = 32                          # nesting of the scheme-parameter editor's JSON
MAX_VALUE_CHARS = 100_000                    # any single submitted value (text areas have their own Length)

# Characters refused in any text: C0/C1 controls except tab, newline, carriage return, and the
# bidirectional overrides/isolates that make "evil<U+202E>fdp.exe" read as "evilexe.pdf".
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}
BIDI_CONTROLS = {chr(c) for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# letters that render as nothing (Hangul fillers, braille blank): a name made of them is invisible too
_INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}

MSG_CONTROL = _l("不能包含控制字符或文字方向控制符")
MSG_INVISIBLE = _l("不能只包含空白或不可见字符")
MSG_TOO_LONG = _l("内容过长")
MSG_NUMBER = _l("请输入有效的数字")
MSG_MONEY_RANGE = _l("金额超出允许范围（最多 1 万亿元，精确到分）")
MSG_INTEGER_RANGE = _l("数值超出允许范围")
MSG_TOO_MANY_FILES = _l("一次最多上传 {n} 个文件")


def date_window(today: date) -> tuple[date, date]:
    """Dates a form accepts: 2000-01-01 .. today + 50 years."""
    try:
        last = today.replace(year=today.year + DATE_MAX_YEARS_AHEAD)
    except ValueError:   # 29 February
        last = today.replace(year=today.year + DATE_MAX_YEARS_AHEAD, day=28)
    return DATE_MIN, last


def bad_character(text: str) -> bool:
    """True when the text holds NUL or another control character, or a bidi override."""
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        if ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            return True
    return False


def only_invisible(text: str) -> bool:
    """True when the text is not blank but shows nothing: zero-width spaces, joiners, marks alone."""
    if not text or not text.strip():
        return False
    return all(unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me") or ch.isspace()
               or ch in _INVISIBLE_LETTERS for ch in text)


def text_problem(text: str) -> str | None:
    if len(text) > MAX_VALUE_CHARS:
        return str(MSG_TOO_LONG)
    if bad_character(text):
        return str(MSG_CONTROL)
    if only_invisible(text):
        return str(MSG_INVISIBLE)
    return None


def decimal_problem(value: Decimal, money: bool) -> str | None:
    if not value.is_finite():
        return str(MSG_NUMBER)
    limit = MONEY_MAX if money else NUMBER_MAX
    if abs(value) > limit:
        return str(MSG_MONEY_RANGE if money else MSG_INTEGER_RANGE)
    return None


def integer_problem(value: int) -> str | None:
    if not -INT64_MAX <= value <= INT64_MAX:
        return str(MSG_INTEGER_RANGE)
    return None


def date_problem(value: date, today: date) -> str | None:
    lo, hi = date_window(today)
    if not lo <= value <= hi:
        return str(_l("日期应在 {lo} 到 {hi} 之间")).format(lo=lo.isoformat(), hi=hi.isoformat())
    return None


def json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, counted without parsing (brackets in strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def strings_in(value):
    """Every string inside a JSON-like value (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from strings_in(k)
            yield from strings_in(item)
