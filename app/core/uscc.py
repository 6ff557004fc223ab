"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, last one a check character."""
from app.core.i18n import _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str | None:
    """Return an error message (Chinese) or None if the code is valid."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return _("统一社会信用代码应为18位")
    bad = [c for c in code if c not in ALPHABET]
    if bad:
        return _("统一社会信用代码含有无效字符：{chars}（不使用 I、O、Z、S、V）").format(chars="".join(sorted(set(bad))))
    if not code[8:17].isalnum():
        return _("统一社会信用代码的组织机构代码部分无效")
    if check_char(code[:17]) != code[17]:
        return _("统一社会信用代码校验位不正确，请核对")
    return None


def make(first17: str) -> str:
    return first17 + check_char(first17)
