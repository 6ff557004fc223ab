"""Rectification of a suspended bank (filled in below)."""
from __future__ import annotations


def start(suspension) -> None:
    return None
