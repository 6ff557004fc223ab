"""Rules for usernames and passwords (pure functions: no database, no request).

Usernames: the *key* of a username is its NFKC normalisation, case-folded, so ``Firm1``, ``firm1`` and the
full-width ``ｆｉｒｍ１`` are one account (the database keeps the key unique).  A new username must be made
of the allowed characters *after* normalisation: ASCII letters, digits and ``. _ -``, 3 to 40 of them,
starting with a letter or digit.  Look-alike letters from other scripts (Cyrillic ``а``, Greek ``ο``) are
therefore refused instead of compared; names written in Chinese belong in the display name.

Passwords: at least 8 characters and a zxcvbn score of 3 or more ("safely unguessable: moderate protection
from offline slow-hash scenario"), judged with the user's own words (username, names, USCC) as known
inputs, so ``firm1-2026`` for the user ``firm1`` is refused.
"""
from __future__ import annotations

import re
import unicodedata

from zxcvbn import zxcvbn

from app.core.i18n import _

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200
PASSWORD_MIN_SCORE = 3
_ZXCVBN_MAX = 72          # zxcvbn refuses longer input; the first 72 characters decide


def username_key(name: str | None) -> str:
    """The comparison form of a username: NFKC, case-folded, NFKC again (casefold can denormalise)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", (name or "").strip()).casefold())


def username_problem(name: str | None) -> str | None:
    """Why ``name`` cannot be a new username, or None."""
    if not USERNAME_RE.fullmatch(username_key(name)):
        return _("用户名须为 3–40 个字母、数字或 . _ -，以字母或数字开头")
    return None


def password_problem(password: str | None, user_inputs=()) -> str | None:
    """Why ``password`` is too weak, or None.  ``user_inputs``: the account's own words."""
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("密码至少 {n} 位").format(n=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _("密码最多 {n} 位").format(n=PASSWORD_MAX_LENGTH)
    words = [w for w in (str(u).strip() for u in user_inputs if u) if w]
    if zxcvbn(password[:_ZXCVBN_MAX], user_inputs=words)["score"] < PASSWORD_MIN_SCORE:
        return _("密码太容易被猜到：请用更长、不常见的组合，避免常用词、键盘顺序、日期和自己的用户名或单位名称")
    return None
