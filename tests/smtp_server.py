"""A real local SMTP server (aiosmtpd) that keeps what it receives.

``SmtpServer(tls=True, credentials=("user", "pass"))`` offers STARTTLS with a self-signed certificate
made for 127.0.0.1 (``openssl``; its path is ``server.cert_file``), refuses mail before STARTTLS and
requires AUTH with those credentials.
"""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class _Handler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate and key for 127.0.0.1 (one day), made with the openssl command."""
    if not shutil.which("openssl"):
        raise RuntimeError("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class SmtpServer:
    def __init__(self, tls: bool = False, credentials: tuple[str, str] | None = None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.handler = _Handler()
        self.logins: list[str] = []
        kw = {}
        self._tmp = None
        self.cert_file = None
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="zx-smtp-")
            cert, key = self_signed_cert(Path(self._tmp.name))
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            self.cert_file = str(cert)
            kw.update(tls_context=ctx, require_starttls=True)
        if credentials:
            kw.update(authenticator=self._authenticator(credentials), auth_required=True, auth_require_tls=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kw)

    def _authenticator(self, credentials):
        user, password = credentials

        def check(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
            if ok:
                self.logins.append(user)
            return AuthResult(success=ok, handled=False)   # handled=False: aiosmtpd answers 235/535
        return check

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def wait_for(self, address: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for rcpts, m in self.handler.messages if address in rcpts]
            if found:
                return found
            time.sleep(0.05)
        return []

    def to(self, address: str):
        return [m for rcpts, m in self.handler.messages if address in rcpts]
