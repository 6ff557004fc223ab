"""Uploaded files: type recognised by content (not name), size-limited, stored outside the web root."""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app

from app.core.errors import DomainError
from app.core.i18n import _

ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class UploadError(DomainError):
    pass


@dataclass
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def inspect(data: bytes, original_name: str) -> str:
    """Return the content type, or raise UploadError with a message for the user."""
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    if not data:
        raise UploadError(_("文件“{name}”是空的").format(name=original_name))
    if len(data) > limit:
        raise UploadError(_("文件“{name}”超过大小上限 {mb} MB").format(name=original_name, mb=current_app.config['MAX_UPLOAD_MB']))
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED:
        raise UploadError(_("文件“{name}”不是 PDF、JPEG 或 PNG（按文件内容识别）").format(name=original_name))
    return kind.mime


def store(data: bytes, original_name: str) -> StoredFile:
    mime = inspect(data, original_name)
    name = f"{uuid.uuid4().hex}.{ALLOWED[mime]}"
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return StoredFile(name, os.path.basename(original_name)[:200] or "file", mime, len(data),
                      hashlib.sha256(data).hexdigest())


def path_of(stored_name: str) -> Path:
    if "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise UploadError("invalid stored name")
    return Path(current_app.config["UPLOAD_DIR"]) / stored_name


def discard(stored_names: list[str]) -> None:
    """Remove files written by a step whose transaction did not commit."""
    for n in stored_names:
        try:
            path_of(n).unlink()
        except OSError:
            pass
