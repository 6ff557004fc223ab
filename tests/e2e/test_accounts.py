"""Enterprise self-registration, login throttling and logging."""
import re

from sqlalchemy import func, select

from app.accounts.models import LoginAttempt, Organisation, User
from app.core.db import db
from app.core.uscc import make
from tests.conftest import PASSWORD


def _csrf(client, url):
    html = client.get(url).data
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()


def _clean_g():
    from flask import g
    g.__dict__.clear()


def test_enterprise_registers_with_valid_uscc(world, app):
    w = world()
    _clean_g()
    c = app.test_client()
    token = _csrf(c, "/register")
    good = make("91500114MA6" + w.tag)
    form = {"csrf_token": token, "firm_name": "新注册企业", "uscc": good[:-1] + ("0" if good[-1] != "0" else "1"),
            "sector_id": str(w.sector.id), "legal_representative": "李四", "contact_phone": "023-1",
            "username": f"newfirm_{w.tag.lower()}", "display_name": "王五", "password": "long-enough-1",
            "password2": "long-enough-1"}
    _clean_g()
    r = c.post("/register", data=form)
    assert r.status_code == 400 and "校验位不正确" in r.data.decode()
    assert db.session.scalar(select(func.count(User.id)).where(User.username == form["username"])) == 0
    form["uscc"] = good.lower()
    _clean_g()
    r = c.post("/register", data=form)
    assert r.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.code == good))
    assert org.kind == "enterprise" and org.sector_id == w.sector.id
    # the same code cannot register twice
    _clean_g()
    c2 = app.test_client()
    form["csrf_token"] = _csrf(c2, "/register")
    form["username"] += "x"
    _clean_g()
    r = c2.post("/register", data=form)
    assert "已注册" in r.data.decode()


def test_failed_logins_are_logged_and_throttled(world, app, monkeypatch):
    from app.core.config import DEFAULTS
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", DEFAULTS["LOGIN_LIMIT_PER_ACCOUNT"])
    w = world()
    username = w.u["officer"].username
    addr = f"10.9.{int(w.tag[:2], 16)}.{int(w.tag[2:4], 16)}"
    _clean_g()
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = addr
    token = _csrf(c, "/login")
    for _ in range(5):
        _clean_g()
        r = c.post("/login", data={"csrf_token": token, "username": username, "password": "wrong"})
        assert "用户名或密码错误" in r.data.decode()
    # now even the right password is refused from this address until the window moves on
    _clean_g()
    r = c.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert r.status_code == 429 and "登录失败次数过多" in r.data.decode()
    attempts = db.session.scalars(select(LoginAttempt).where(LoginAttempt.username == username)).all()
    assert len(attempts) == 6 and not any(a.success for a in attempts)   # the refused one too
    assert db.session.get(User, w.u["officer"].id).failed_logins == 5
