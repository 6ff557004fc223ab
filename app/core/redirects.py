"""Redirects that take user input (``?next=``, the Referer) go only to paths on this site.

An allow-list, not a list of known tricks: the target must be a path that starts with exactly one ``/``,
made only of printable ASCII other than ``\\`` and space (other text is percent-encoded first), with no
scheme and no host once parsed, also after one round of percent-decoding.  Control characters
(``/%09/evil.example`` arrives as ``/\\t/evil.example``, which a browser reads as ``//evil.example``),
backslashes, ``//``, schemes and hosts are refused, never repaired.
"""
from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from flask import request

_ASCII_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?#%"
_ALLOWED = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*")
_MAX_LENGTH = 2000


def _plain_path(value: str) -> bool:
    if not _ALLOWED.fullmatch(value) or value.startswith("//"):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/")


def safe_path(target) -> str | None:
    """``target`` if it is a same-site path (returned percent-encoded), else None."""
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return None
    if any(not ch.isprintable() or ch.isspace() or ch == "\\" for ch in target):
        return None                          # control, format and space characters, backslashes
    try:
        value = quote(target, safe=_ASCII_SAFE)   # only non-ASCII (a Chinese query value) becomes %XX
    except UnicodeError:                          # a lone surrogate
        return None
    if not _plain_path(value):
        return None
    second = unquote(value)[1:2]             # /%2F, /%5C, /%09 once decoded must not make one either
    if second and (second in "/\\" or not second.isprintable() or second.isspace()):
        return None
    return value


def safe_next(default: str) -> str:
    """The ``next`` query parameter when it is a same-site path, else ``default``."""
    return safe_path(request.args.get("next")) or default


def safe_referrer(default: str) -> str:
    """The path of the Referer when it comes from this site (same scheme and host), else ``default``."""
    ref = request.referrer
    if not ref or not isinstance(ref, str):
        return default
    try:
        parts = urlsplit(ref)
        here = urlsplit(request.host_url)
    except ValueError:
        return default
    if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_path(path) or default
