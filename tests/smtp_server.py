"""A real local SMTP server (aiosmtpd) that keeps what it receives."""
from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


class SmtpServer:
    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

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
