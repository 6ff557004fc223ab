"""Resident identity numbers (居民身份证号码, GB 11643-1999): 17 digits and a check character.

A number is never stored in clear: rows keep the masked form shown on pages (``110101********123X``)
and a keyed digest (HMAC-SHA256 with the application's ``ID_NUMBER_KEY``, by default its
``SECRET_KEY``) that lets a blacklist entry match a firm's recorded person.  A plain hash would not do:
there are only about 10^10 plausible numbers.  Changing the key means re-entering the numbers.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

from flask import current_app

from app.core.i18n import _

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def normalise(raw: str | None) -> str:
    return (raw or "").strip().upper()


def check_char(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def problem(raw: str | None) -> str | None:
    """An error message, or None when the number is well formed (length, digits, birth date, check)."""
    n = normalise(raw)
    if len(n) != 18:
        return _("身份证号码应为18位")
    if not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        return _("身份证号码前17位应为数字，最后一位为数字或 X")
    try:
        born = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return _("身份证号码中的出生日期无效")
    if born.year < 1900:
        return _("身份证号码中的出生日期无效")
    if check_char(n[:17]) != n[17]:
        return _("身份证号码校验位不正确，请核对")
    return None


def make(first17: str) -> str:
    return first17 + check_char(first17)


def mask(raw: str) -> str:
    n = normalise(raw)
    return n[:6] + "*" * 8 + n[14:]


def digest(raw: str) -> str:
    key = current_app.config.get("ID_NUMBER_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(str(key).encode(), normalise(raw).encode(), hashlib.sha256).hexdigest()
