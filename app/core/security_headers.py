"""Security headers on every response: pages, error pages, static files, downloads.

A small ``after_request`` hook rather than Flask-Talisman: the policy is fixed (the app loads nothing from
elsewhere and has no inline scripts, so no nonces are needed), and Talisman would also redirect to HTTPS
and rewrite the session cookie flags, which the configuration already decides (``SESSION_COOKIE_SECURE``).
A view that needs another value sets the header itself: these are defaults (``setdefault``).

``style-src`` allows ``'unsafe-inline'``: bpmn-js and htmx write ``style`` attributes and a ``<style>``
element at run time, and some templates use ``style=""``.  Scripts stay strictly ``'self'``.
"""
from __future__ import annotations

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",            # Bootstrap's form controls draw with data: SVG
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app) -> None:
    hsts = app.config.get("SESSION_COOKIE_SECURE")    # served over HTTPS: tell browsers to stay there

    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
