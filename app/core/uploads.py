"""Uploaded files: type recognised by content (not name), size-limited, stored outside the web root."""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app, send_file

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
    return StoredFile(name, safe_download_name(original_name, mime), mime, len(data),
                      hashlib.sha256(data).hexdigest())


def safe_download_name(original_name: str, content_type: str) -> str:
    """A name that is safe to offer for download: no path, no control, format (bidi override,
    zero-width) or separator characters, and an extension from the allow-list that matches the
    content — ``report.html`` holding a PDF becomes ``report_html.pdf``, ``x\u202Efdp.exe`` loses
    its override and ends in ``.pdf``."""
    ext = ALLOWED.get(content_type, "bin")
    name = unicodedata.normalize("NFC", original_name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    stem, dot, given_ext = name.rpartition(".")
    if not dot:
        stem, given_ext = name, ""
    if given_ext.lower() in (ext, "jpeg" if ext == "jpg" else ext):
        given_ext = ""   # the right extension: dropped here, added back below
    stem = re.sub(r'[<>:"|?*;]+', "_", stem).replace(".", "_").strip(" _") or "file"
    if given_ext:
        stem = f"{stem}_{given_ext}"
    return f"{stem[:180]}.{ext}"


def send_stored(stored_name: str, original_name: str, content_type: str):
    """Serve an upload: always as an attachment, under a safe name, never sniffed into HTML."""
    content_type = content_type if content_type in ALLOWED else "application/octet-stream"
    resp = send_file(path_of(stored_name), mimetype=content_type, as_attachment=True,
                     download_name=safe_download_name(original_name, content_type))
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


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
