"""Behind a reverse proxy: trust its X-Forwarded-* headers, as many hops as configured (werkzeug ProxyFix).

``PROXY_FIX_X_FOR=1`` (and ``_PROTO``, ``_HOST``, ``_PORT``, ``_PREFIX``) trusts one proxy for that
header: the client address in logs and throttling, ``https`` in generated links and Secure cookies.
Leave them at 0 when nothing sits in front of the app, or anyone could forge their address.
"""
from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

HEADERS = ("for", "proto", "host", "port", "prefix")


def install_proxy_fix(app) -> bool:
    hops = {h: int(app.config.get(f"PROXY_FIX_X_{h.upper()}") or 0) for h in HEADERS}
    if not any(hops.values()):
        return False
    app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{h}": n for h, n in hops.items()})
    return True
