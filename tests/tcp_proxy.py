"""A TCP proxy for tests, put between the app and its database so that a test can cut the line.

``drop()`` closes every open connection but keeps accepting new ones (what the app sees when the
database restarts); ``cut()`` also refuses new connections by closing them at once (the database is
unreachable) until ``restore()``.  Listens on 127.0.0.1 and a port the OS picks.
"""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._down = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _addr = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if self._down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            pair = [client, upstream, 2]          # both sockets and the number of pumps still running
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, pair), daemon=True).start()

    def _pump(self, src, dst, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _shutdown(s)                      # wakes the other pump
            with self._lock:
                pair[2] -= 1
                last = pair[2] == 0
                if last:
                    self._open.difference_update(pair[:2])
            if last:                              # close only when no thread uses the descriptors
                for s in pair[:2]:
                    s.close()

    def drop(self):
        """Close every open connection (a database restart, as the app sees it)."""
        with self._lock:
            conns = list(self._open)
        for s in conns:
            _shutdown(s)

    def cut(self):
        """The database becomes unreachable: open connections die, new ones are closed at once."""
        self._down.set()
        self.drop()

    def restore(self):
        self._down.clear()

    def close(self):
        self._closed.set()
        self.cut()
        self._thread.join(5)
        self._listener.close()


def _shutdown(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
