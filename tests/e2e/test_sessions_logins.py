"""Sessions that end, same-site redirects, security headers, login throttling (issue 9)."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from app.accounts.models import LoginAttempt, User
from app.core.config import DEFAULTS
from app.core.db import db
from app.core.timeutil import now
from tests.conftest import PASSWORD, Browser


def _clean_g():
    from flask import g
    g.__dict__.clear()


def _client(app, addr=None):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = addr or _addr()
    return c


def _addr():
    b = uuid.uuid4().bytes
    return f"10.{b[0]}.{b[1]}.{b[2] or 1}"


def _token(client, url="/login"):
    _clean_g()
    html = client.get(url).data
    return re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1).decode()


def _post_login(client, username, password, url="/login"):
    token = _token(client)
    _clean_g()
    return client.post(url, data={"csrf_token": token, "username": username, "password": password})


def _copy_of(app, browser: Browser):
    """Another client holding a copy of ``browser``'s session cookie."""
    stolen = app.test_client()
    stolen.set_cookie(app.config["SESSION_COOKIE_NAME"], browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    return stolen


def _logged_in(client) -> bool:
    _clean_g()
    r = client.get("/tasks/")
    return r.status_code == 200


# ---------------------------------------------------------------------------- sessions end

def test_logout_ends_every_session_of_the_user(world, app, login):
    w = world()
    a = login(w.user("officer"))
    b = login(w.user("officer"))                 # the same user on a second device
    copy = _copy_of(app, a)
    assert _logged_in(copy) and _logged_in(b)
    assert a.post("/logout").status_code == 302
    assert not _logged_in(a.client)
    assert not _logged_in(copy), "a copied cookie outlived the logout"
    assert not _logged_in(b.client), "another session of the user outlived the logout"
    assert _logged_in(login(w.user("officer")).client)   # logging in again works


def test_own_password_change_ends_the_other_sessions(world, app, login):
    w = world()
    me = login(w.user("officer"))
    other = login(w.user("officer"))
    copy = _copy_of(app, me)
    # a weak new password is refused, nothing changes
    r = me.post("/account/password", data={"current": PASSWORD, "password": "password123", "confirm": "password123"})
    assert r.status_code == 400 and "太容易被猜到" in r.data.decode()
    assert _logged_in(other.client)
    r = me.post("/account/password", data={"current": "wrong", "password": "Qx7-harbour-lantern", "confirm": "Qx7-harbour-lantern"})
    assert r.status_code == 400 and "当前密码不正确" in r.data.decode()
    r = me.post("/account/password", data={"current": PASSWORD, "password": "Qx7-harbour-lantern",
                                          "confirm": "Qx7-harbour-lantern"})
    assert r.status_code == 302
    assert _logged_in(me.client)                 # the session that changed it goes on
    assert not _logged_in(other.client) and not _logged_in(copy)
    db.session.expire_all()
    assert db.session.get(User, w.u["officer"].id).check_password("Qx7-harbour-lantern")


def test_admin_reset_ends_the_users_sessions(world, app, login):
    w = world()
    victim = login(w.user("officer"))
    admin = login(w.user("admin"))
    r = admin.post(f"/admin/users/{w.u['officer'].id}/password", data={"password": "password123", "confirm": "password123"})
    assert r.status_code == 400 and "太容易被猜到" in r.data.decode()
    assert _logged_in(victim.client)
    r = admin.post(f"/admin/users/{w.u['officer'].id}/password",
                   data={"password": "Qx7-harbour-lantern", "confirm": "Qx7-harbour-lantern"})
    assert r.status_code == 302
    assert not _logged_in(victim.client)


def test_idle_and_absolute_lifetimes(world, app, login):
    from app.accounts.sessions import LOGIN_AT, SEEN_AT
    w = world()
    idle, absolute = app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_ABSOLUTE_HOURS"]
    assert (idle, absolute) == (30, 12)

    b = login(w.user("officer"))
    with b.client.session_transaction() as s:
        s[SEEN_AT] -= int(idle * 60) - 60        # quiet for a little less than the idle time: still on
    assert _logged_in(b.client)
    with b.client.session_transaction() as s:
        s[SEEN_AT] -= int(idle * 60) + 5         # quiet for longer: ended
    assert not _logged_in(b.client)

    b = login(w.user("officer"))
    with b.client.session_transaction() as s:    # busy all day, but logged in 12 hours ago
        s[LOGIN_AT] -= int(absolute * 3600) + 5
    assert not _logged_in(b.client)


def test_session_cookie_flags(world, app, monkeypatch):
    from app.core.config import load_config
    w = world()
    c = _client(app)
    r = _post_login(c, w.u["officer"].username, PASSWORD)
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie                # served over plain HTTP in tests
    # production: Secure whenever the public address is HTTPS, or when told so
    assert load_config({"SECRET_KEY": "x", "PUBLIC_URL": "https://zengxin.example.gov.cn"})["SESSION_COOKIE_SECURE"] is True
    assert load_config({"SECRET_KEY": "x", "PUBLIC_URL": "http://10.0.0.1"})["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    cfg = load_config({"SECRET_KEY": "x"})
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"] is True
    assert cfg["REMEMBER_COOKIE_HTTPONLY"] is True


# ---------------------------------------------------------------------------- redirects

OPEN_REDIRECTS = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "\\/evil.example", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example",
    "\t//evil.example", " //evil.example", "/ /evil.example", "/\x00/evil.example", "/\x0b/evil.example",
    "/\u200b/evil.example", "/\u3000/evil.example", "/\ufeff/evil.example", "https://evil.example",
    "http:evil.example", "http:/evil.example", "HTTPS://evil.example/", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "@evil.example",
    ".evil.example", "//evil.example/%2F..", "/%2F/evil.example", "/%2f/evil.example", "/%5Cevil.example",
    "/%09/evil.example", "/%0a/evil.example", "%2F%2Fevil.example", "//\u3002evil.example", "／／evil.example",
    "//evil.example@good", "https:/\\evil.example", "/\\\\evil.example", "\x00//evil.example", "", "x" * 3000,
]
SAME_SITE = ["/tasks/", "/applications/3?status=open", "/admin/", "/login", "/", "/loans/?q=%E8%B4%B7",
             "/fund/1#ledger"]


def _browser_target(location: str, base="http://localhost/") -> str:
    """Where a browser goes for ``location``: WHATWG strips tab/CR/LF and reads ``\\`` as ``/``."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip("\x00- ")
    return urlsplit(urljoin(base, cleaned)).netloc


@pytest.mark.parametrize("payload", OPEN_REDIRECTS)
def test_safe_path_refuses_open_redirect_payloads(payload):
    from app.core.redirects import safe_path
    assert safe_path(payload) is None, payload


@pytest.mark.parametrize("path", SAME_SITE)
def test_safe_path_keeps_same_site_paths(path):
    from app.core.redirects import safe_path
    assert safe_path(path) == path
    assert safe_path("/贷款?名称=甲") == "/%E8%B4%B7%E6%AC%BE?%E5%90%8D%E7%A7%B0=%E7%94%B2"


def test_language_switch_and_login_redirect_only_to_this_site(world, app):
    w = world()
    for payload in OPEN_REDIRECTS:
        c = _client(app)
        _clean_g()
        r = c.get("/lang/en", query_string={"next": payload})
        # control characters in a query string are refused outright (400, app/core/validation.py);
        # everything else is redirected, on this site only
        assert r.status_code in (302, 400), payload
        if r.status_code == 302:
            assert _browser_target(r.headers["Location"]) == "localhost", (payload, r.headers["Location"])
    # the exact URLs from the issue: never off-site
    _clean_g()
    r = _client(app).get("/lang/en?next=/%09/evil.example")
    assert r.status_code == 400 or _browser_target(r.headers["Location"]) == "localhost", r.headers.get("Location")
    c = _client(app)
    r = _post_login(c, w.u["officer"].username, PASSWORD, url="/login?next=/%09/evil.example")
    assert r.status_code == 400 or _browser_target(r.headers["Location"]) == "localhost", r.headers.get("Location")
    # and a plain redirect target that is not a path goes home after login
    r = _post_login(_client(app), w.u["officer"].username, PASSWORD, url="/login?next=//evil.example")
    assert r.status_code == 302 and r.headers["Location"].endswith("/home"), r.headers["Location"]
    # a Referer from elsewhere is not followed either; one from here is
    _clean_g()
    r = _client(app).get("/lang/zh", headers={"Referer": "https://evil.example/tasks/"})
    assert _browser_target(r.headers["Location"]) == "localhost" and r.headers["Location"].endswith("/")
    _clean_g()
    r = _client(app).get("/lang/zh", headers={"Referer": "http://localhost//evil.example"})
    assert _browser_target(r.headers["Location"]) == "localhost"
    _clean_g()
    r = _client(app).get("/lang/zh", headers={"Referer": "http://localhost/loans/?page=2"})
    assert r.headers["Location"].endswith("/loans/?page=2")
    # a good next= is kept
    c = _client(app)
    r = _post_login(c, w.u["officer"].username, PASSWORD, url="/login?next=/loans/")
    assert r.headers["Location"].endswith("/loans/")


# ---------------------------------------------------------------------------- headers

def _assert_security_headers(r, what):
    h = r.headers
    csp = h.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, what
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp, what
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("X-Frame-Options") == "DENY", what
    assert h.get("Referrer-Policy") == "same-origin", what


def test_security_headers_on_every_response(world, app, login):
    w = world()
    c = _client(app)
    _clean_g()
    _assert_security_headers(c.get("/login"), "login page")
    _clean_g()
    _assert_security_headers(c.get("/no/such/page"), "404")
    _clean_g()
    with c.get("/static/app.css") as r:
        _assert_security_headers(r, "static file")
    _clean_g()
    _assert_security_headers(c.get("/tasks/"), "redirect to login")
    _clean_g()
    _assert_security_headers(c.post("/login", data={}), "400 (no CSRF token)")
    b = login(w.user("officer"))
    _assert_security_headers(b.get("/tasks/"), "page")
    _assert_security_headers(b.get("/admin/"), "403")


def test_security_headers_on_server_errors(tmp_path):
    from app import create_app
    broken = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.db'}",
                         "UPLOAD_DIR": str(tmp_path / "up"), "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'b.db'}"})

    @broken.route("/boom")
    def boom():
        raise RuntimeError("boom")

    with broken.app_context():
        r = broken.test_client().get("/boom")
    assert r.status_code == 500
    _assert_security_headers(r, "500")


# ---------------------------------------------------------------------------- throttling

@pytest.fixture
def real_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", DEFAULTS["LOGIN_LIMIT_PER_ACCOUNT"])
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", DEFAULTS["LOGIN_LIMIT_PER_ADDRESS"])
    assert DEFAULTS["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 15 minutes"
    assert DEFAULTS["LOGIN_LIMIT_PER_ADDRESS"] == "30 per 15 minutes"


def test_a_stranger_cannot_lock_a_user_out(world, app, real_limits):
    w = world()
    name = w.u["officer"].username
    stranger = _client(app)
    for _ in range(5):
        r = _post_login(stranger, name, "guess")
        assert r.status_code == 200 and "用户名或密码错误" in r.data.decode()
    r = _post_login(stranger, name, PASSWORD)           # even the right password: refused from there
    assert r.status_code == 429 and "登录失败次数过多" in r.data.decode()
    r = _post_login(stranger, name.upper(), "guess")    # the same account in another case
    assert r.status_code == 429
    # the user, from her own address, is not affected; nor is another account from the stranger's
    assert _post_login(_client(app), name, PASSWORD).status_code == 302
    assert _post_login(stranger, w.u["officer2"].username, PASSWORD).status_code == 302


def test_one_address_is_limited_across_accounts(world, app, real_limits):
    w = world()
    sprayer = _client(app)
    for i in range(30):
        r = _post_login(sprayer, f"nobody{i}_{w.tag.lower()}", "Winter2026!")
        assert r.status_code == 200, i
    r = _post_login(sprayer, w.u["officer"].username, PASSWORD)
    assert r.status_code == 429
    assert _post_login(_client(app), w.u["officer"].username, PASSWORD).status_code == 302


def test_unknown_users_get_the_same_answer_after_the_same_work(world, app, real_limits, monkeypatch):
    import time

    import app.accounts.models as models
    w = world()
    slept, verified = [], []
    monkeypatch.setattr(time, "sleep", lambda s: slept.append(s))
    real = models._hasher

    class Counting:
        def hash(self, password):
            return real.hash(password)

        def verify(self, hashed, password):
            verified.append(1)
            return real.verify(hashed, password)

    monkeypatch.setattr(models, "_hasher", Counting())
    known = _post_login(_client(app), w.u["officer"].username, "wrong-password")
    known_work = len(verified)
    unknown = _post_login(_client(app), f"ghost_{w.tag.lower()}", "wrong-password")
    assert known.status_code == unknown.status_code == 200
    msg = lambda r: re.findall(r'class="alert[^"]*"[^>]*>([^<]*)<', r.data.decode())
    assert msg(known) == msg(unknown) == ["用户名或密码错误"]
    assert known_work == 1 and len(verified) == 2       # one argon2 verification each
    assert slept == []                                  # no sleeping web worker
    # inactive users too
    user = db.session.get(User, w.u["officer2"].id)
    user.active = False
    db.session.commit()
    inactive = _post_login(_client(app), user.username, PASSWORD)
    assert msg(inactive) == ["用户名或密码错误"] and len(verified) == 3
    logged = db.session.scalars(select(LoginAttempt).where(LoginAttempt.username == f"ghost_{w.tag.lower()}")).all()
    assert len(logged) == 1 and not logged[0].success and logged[0].at <= now()
