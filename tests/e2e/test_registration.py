"""Registration: normalised unique usernames, the password rule, firms pending until verified (issue 9)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Organisation, User
from app.core.audit import TimelineEvent
from app.core.db import db
from app.core.uscc import make
from tests.conftest import PASSWORD, Browser, application_form

STRONG = "Qx7-harbour-lantern"


def _clean_g():
    from flask import g
    g.__dict__.clear()


class FirmBrowser(Browser):
    """A logged-in firm that may still be pending (its pages redirect to the notice, which has a token)."""

    def __init__(self, app, username):
        self.client = app.test_client()
        self.username = username
        self.csrf = self._token(self.get("/login").data)
        r = self.post("/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 302, f"login failed for {username}"
        self.csrf = self._token(self.get("/account/pending").data)


def _register(app, w, username, password=PASSWORD, n=1, sector=None):
    c = app.test_client()
    _clean_g()
    html = c.get("/register").data
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()
    form = {"csrf_token": token, "firm_name": f"新企业{n}{w.tag}", "uscc": make(f"91500117M{n}{w.tag}{n:02d}"[:17]),
            "sector_id": str((sector or w.sector).id), "legal_representative": "李四", "contact_phone": "023-1",
            "username": username, "display_name": "王五", "password": password, "password2": password}
    _clean_g()
    return c, c.post("/register", data=form), form


def test_usernames_are_unique_after_nfkc_and_case_folding(world, app, login):
    w = world()
    t = w.tag.lower()
    c, r, _ = _register(app, w, f"Firm1_{t}", n=1)
    assert r.status_code == 302
    for n, twin in enumerate([f"firm1_{t}", f"FIRM1_{t.upper()}", "ｆｉｒｍ１_" + t.translate(
            {ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789abcdef"})], start=2):
        _c, r, _ = _register(app, w, twin, n=n)
        assert r.status_code == 400 and "用户名已被使用" in r.data.decode(), twin
    # look-alike letters from other scripts are not allowed at all
    for n, name in enumerate([f"fіrm1_{t}", f"firm1_{t}\u200b", f"管理员_{t}", "-firm1_" + t], start=6):
        _c, r, _ = _register(app, w, name, n=n)
        assert r.status_code == 400 and "用户名须为" in r.data.decode(), name
    # the administrator's user form follows the same rule
    admin = login(w.user("admin"))
    r = admin.post(f"/admin/orgs/{w.bank.id}/users", data={"username": w.u["officer"].username.upper(),
                                                            "display_name": "甲", "password": STRONG})
    assert r.status_code == 400 and "用户名已被使用" in r.data.decode()
    # the user logs in whatever case or width she types
    _clean_g()
    assert FirmBrowser(app, f"FIRM1_{t}".replace("1", "１")).get("/account/pending").status_code == 200
    # and the database itself refuses a second spelling of one name
    org = db.session.get(Organisation, w.bank.id)
    db.session.add(User(username=w.u["officer"].username.upper(), display_name="x", password_hash="x",
                        organisation_id=org.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_weak_passwords_are_refused_at_registration(world, app):
    w = world()
    t = w.tag.lower()
    for n, weak in enumerate(["password123", "12345678", "qwertyuiop", f"firmweak_{t}", "aaaaaaaaaaaa"], start=1):
        _c, r, _ = _register(app, w, f"firmweak_{t}", password=weak, n=n)
        assert r.status_code == 400 and ("太容易被猜到" in r.data.decode() or "至少" in r.data.decode()), weak
    assert db.session.scalar(select(User.id).where(User.username == f"firmweak_{t}")) is None


def test_a_registered_firm_waits_for_its_department(world, app, login):
    w = world()
    t = w.tag.lower()
    c, r, form = _register(app, w, f"newfirm_{t}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/pending")
    org = db.session.scalar(select(Organisation).where(Organisation.code == form["uscc"]))
    assert org.verification == "pending"
    firm = FirmBrowser(app, f"newfirm_{t}")
    # it can only wait: every page leads to the notice, every action is refused
    r = firm.get("/applications/new")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/pending")
    assert "等待行业主管部门认证" in firm.get("/account/pending").data.decode()
    r = firm.post("/applications/new", data=application_form(w))
    assert r.status_code == 403
    assert firm.get("/tasks/").status_code == 302

    # another sector's department neither sees it nor may decide; a bank may not either
    other = login(w.user("dept2"))
    assert str(org.code) not in other.get("/firms/verification").data.decode()
    assert other.post(f"/firms/{org.id}/verification", data={"decision": "verify"}).status_code == 404
    assert login(w.user("officer")).get("/firms/verification").status_code == 403
    # its own department sees it; refusing needs a reason
    dept = login(w.user("dept"))
    assert form["uscc"] in dept.get("/firms/verification").data.decode()
    r = dept.post(f"/firms/{org.id}/verification", data={"decision": "refuse", "opinion": ""})
    assert r.status_code == 400 and "请填写不予认证的原因" in r.data.decode()
    r = dept.post(f"/firms/{org.id}/verification", data={"decision": "verify", "opinion": "核对营业执照无误"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).verification == "verified"
    ev = db.session.scalar(select(TimelineEvent).where(TimelineEvent.subject_type == "organisation",
                                                       TimelineEvent.subject_id == org.id,
                                                       TimelineEvent.action == "verified"))
    assert ev.actor_id == w.u["dept"].id and ev.opinion == "核对营业执照无误"
    # decided once
    assert dept.post(f"/firms/{org.id}/verification", data={"decision": "refuse", "opinion": "x"}).status_code == 400
    # now the firm works
    assert firm.get("/applications/new").status_code == 200


def test_an_administrator_may_refuse_a_firm(world, app, login):
    w = world()
    c, r, form = _register(app, w, f"shady_{w.tag.lower()}", sector=w.sector2)
    org = db.session.scalar(select(Organisation).where(Organisation.code == form["uscc"]))
    admin = login(w.user("admin"))
    assert form["uscc"] in admin.get("/firms/verification").data.decode()
    r = admin.post(f"/firms/{org.id}/verification", data={"decision": "refuse", "opinion": "代码与营业执照不符"})
    assert r.status_code == 302
    firm = FirmBrowser(app, f"shady_{w.tag.lower()}")
    assert "未认证本企业" in firm.get("/account/pending").data.decode()
    assert firm.post("/applications/new", data=application_form(w, sector_id=str(w.sector2.id))).status_code == 403


def test_demo_and_fixture_firms_are_verified(world):
    w = world()
    assert w.firm.verification == "verified" and w.firm2.verification == "verified"


def test_a_firm_cannot_choose_another_sectors_department(world, login):
    w = world()
    firm = login(w.user("firm"))
    r = firm.post("/applications/new", data=application_form(w, sector_id=str(w.sector2.id)))
    assert r.status_code == 400 and "只能按本企业登记的所属行业提交" in r.data.decode()
    from app.applications.models import LoanApplication
    assert db.session.scalar(select(LoanApplication.id).where(LoanApplication.enterprise_id == w.firm.id)) is None
    assert firm.post("/applications/new", data=application_form(w)).status_code == 302
