"""One transaction per request, domain errors and the 500 page, over HTTP.

The request commits once, after a response below 400; a 4xx re-render, a refused operation and
any exception store nothing, and e-mail is queued only once the step is committed.  A refusal the
view does not catch is shown to the user; any other exception is a 500 page with a reference id
that is also in the log line.
"""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.accounts.models import Sector
from app.admin import operations as admin_ops
from app.admin import views as admin_views
from app.applications.models import LoanApplication
from app.core import audit
from app.core.audit import TimelineEvent
from app.core.db import db
from app.core.errors import NotAllowed
from app.notifications.models import Notification
from app.policies.models import SchemeMember
from app.workflow.models import HumanTask
from tests.conftest import application_form
from tests.e2e.test_i18n import leftover_cjk


def stored(stmt, *, release=True):
    """Read through a connection of its own: only what was committed is seen.

    SQLite begins every transaction with BEGIN IMMEDIATE, so the test's own session (which a lazy
    load may just have opened) is ended first; that changes nothing that is stored.
    """
    if release:
        db.session.rollback()
    with db.engine.connect() as c:
        return c.execute(stmt).first()


@pytest.fixture
def commits():
    seen = []

    def count(session):
        seen.append(session)
    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


@pytest.fixture
def no_propagation(app, monkeypatch):
    """As in production: an unhandled exception becomes the 500 page (tests otherwise re-raise it)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def _explode_after(monkeypatch, module, name):
    """Make ``module.name`` do its work (and flush), then fail like a programming error."""
    real = getattr(module, name)

    def broken(*a, **kw):
        real(*a, **kw)
        db.session.flush()
        raise RuntimeError("boom after the flush")
    monkeypatch.setattr(module, name, broken)


# ---------------------------------------------------------------------------- the unit of work

def test_a_successful_post_is_committed_once(world, login, commits):
    w = world()
    admin = login(w.user("admin"))
    commits.clear()
    r = admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": f"测试行业{w.tag}", "department_id": "0"})
    assert r.status_code == 302
    assert len(commits) == 1
    assert stored(select(Sector.id).where(Sector.code == f"tx-{w.tag}")) is not None


def test_an_exception_after_the_operations_flush_stores_nothing(world, login, monkeypatch, commits):
    w = world()
    admin = login(w.user("admin"))
    _explode_after(monkeypatch, admin_ops, "save_sector")
    commits.clear()
    with pytest.raises(RuntimeError, match="boom"):
        admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": "x", "department_id": "0"})
    assert commits == []
    monkeypatch.undo()
    # the next request's commit does not carry the failed one's rows along
    assert admin.post("/admin/sectors/", data={"code": f"ok-{w.tag}", "name": "y", "department_id": "0"}).status_code == 302
    assert stored(select(Sector.id).where(Sector.code == f"ok-{w.tag}")) is not None
    assert stored(select(Sector.id).where(Sector.code == f"tx-{w.tag}")) is None


def test_a_4xx_form_re_render_stores_nothing(world, login, monkeypatch, commits):
    """Whatever the view flushed before it answered 400 is rolled back, with no error raised at all."""
    w = world()
    admin = login(w.user("admin"))
    real_form = admin_views._sector_form

    def form_that_writes(*a, **kw):
        audit.record("sector", 0, f"probe-{w.tag}", w.user("admin"))
        db.session.flush()
        return real_form(*a, **kw)
    monkeypatch.setattr(admin_views, "_sector_form", form_that_writes)
    commits.clear()
    r = admin.post("/admin/sectors/", data={"code": "", "name": ""})        # invalid: re-rendered with 400
    assert r.status_code == 400 and "请填写行业代码" in r.data.decode()
    assert commits == []
    monkeypatch.undo()
    assert admin.post("/admin/sectors/", data={"code": f"ok-{w.tag}", "name": "y", "department_id": "0"}).status_code == 302
    assert stored(select(Sector.id).where(Sector.code == f"ok-{w.tag}")) is not None
    assert stored(select(TimelineEvent.id).where(TimelineEvent.action == f"probe-{w.tag}")) is None


def test_a_refusal_after_the_flush_re_renders_the_form_with_the_field_message(world, login, monkeypatch):
    w = world()
    admin = login(w.user("admin"))
    real = admin_ops.save_sector

    def refuse_after_flush(*a, **kw):
        real(*a, **kw)
        raise admin_ops.AdminError("代码已被占用（测试）", "code")
    monkeypatch.setattr(admin_ops, "save_sector", refuse_after_flush)
    r = admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": "x", "department_id": "0"})
    assert r.status_code == 400
    assert "代码已被占用（测试）" in r.data.decode()
    assert stored(select(Sector.id).where(Sector.code == f"tx-{w.tag}")) is None


def test_mail_is_queued_only_after_the_request_commits(world, login, app, monkeypatch):
    from app.notifications import operations as notifications
    from app.notifications import mail as mail_tasks
    w = world()
    admin = login(w.user("admin"))
    real = admin_ops.save_sector
    fail = {"after_flush": False}

    def save_and_notify(*a, **kw):
        sector = real(*a, **kw)
        notifications.notify([w.user("admin")], f"sector:{sector.code}", "info", f"新行业 {sector.code}")
        if fail["after_flush"]:
            raise RuntimeError("boom after the flush")
        return sector
    queued = []

    def fake_delay(nid):
        # called from the after_commit hook: the row must already be stored (visible to another connection)
        queued.append((nid, stored(select(Notification.id).where(Notification.id == nid), release=False) is not None))
    monkeypatch.setattr(admin_ops, "save_sector", save_and_notify)
    monkeypatch.setattr(mail_tasks.send_email, "delay", fake_delay)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")

    fail["after_flush"] = True
    with pytest.raises(RuntimeError):
        admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": "x", "department_id": "0"})
    assert queued == []
    fail["after_flush"] = False
    assert admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": "x", "department_id": "0"}).status_code == 302
    [(nid, visible)] = queued
    assert visible
    assert stored(select(Notification.key).where(Notification.id == nid))[0] == f"sector:tx-{w.tag}:u{w.u['admin'].id}"


# ---------------------------------------------------------------------------- domain errors the view does not catch

def test_an_uncaught_refusal_on_post_rolls_back_and_flashes_on_the_previous_page(world, login, monkeypatch):
    w = world()
    admin = login(w.user("admin"))
    member = db.session.scalar(select(SchemeMember).where(SchemeMember.scheme_id == w.scheme.id))
    real = admin_ops.remove_member

    def refuse_after_delete(*a, **kw):
        real(*a, **kw)
        raise admin_ops.AdminError("该成员仍有未办结事项（测试）")
    monkeypatch.setattr(admin_ops, "remove_member", refuse_after_delete)
    back = f"http://localhost/admin/schemes/{w.scheme.id}"
    r = admin.post(f"/admin/schemes/{w.scheme.id}/members/{member.id}/delete", headers={"Referer": back})
    assert r.status_code == 303 and r.headers["Location"] == back
    assert stored(select(SchemeMember.id).where(SchemeMember.id == member.id)) is not None
    assert "该成员仍有未办结事项（测试）" in admin.get(back).data.decode()
    # a referrer on another site is not followed
    r = admin.post(f"/admin/schemes/{w.scheme.id}/members/{member.id}/delete",
                   headers={"Referer": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_an_uncaught_refusal_on_get_shows_the_message_with_its_status(world, login, monkeypatch):
    import dataclasses
    from app.registers.definitions import REGISTERS
    w = world()
    officer = login(w.user("officer"))

    def refuse(user):
        raise NotAllowed("本机构无权查看贷款台账（测试）")
    monkeypatch.setitem(REGISTERS, "loans", dataclasses.replace(REGISTERS["loans"], query=refuse))
    r = officer.get("/loans/")
    assert r.status_code == 403
    page = r.data.decode()
    assert "本机构无权查看贷款台账（测试）" in page and 'id="whoami"' in page


# ---------------------------------------------------------------------------- programming errors

def test_a_programming_error_is_a_localized_500_page_with_the_reference_id_of_the_log_line(
        world, login, monkeypatch, no_propagation, caplog):
    w = world()
    admin = login(w.user("admin"))
    _explode_after(monkeypatch, admin_ops, "save_sector")
    with caplog.at_level(logging.ERROR):
        r = admin.post("/admin/sectors/", data={"code": f"tx-{w.tag}", "name": "x", "department_id": "0"})
    assert r.status_code == 500
    page = r.data.decode()
    ref = re.search(r'id="error-ref">([0-9A-F]{12})<', page).group(1)
    assert "系统错误" in page and 'id="whoami"' in page            # in Chinese, with the site's navigation
    [rec] = [x for x in caplog.records if ref in x.getMessage()]
    assert rec.levelno == logging.ERROR and rec.exc_info and "boom after the flush" in str(rec.exc_info[1])
    assert stored(select(Sector.id).where(Sector.code == f"tx-{w.tag}")) is None
    assert "已添加行业" not in admin.get("/admin/sectors/").data.decode()    # no stale success message

    admin.get("/lang/en")
    r = admin.post("/admin/sectors/", data={"code": f"tx2-{w.tag}", "name": "x", "department_id": "0"})
    assert r.status_code == 500
    page = r.data.decode()
    assert '<html lang="en">' in page and "Internal error" in page
    other = re.search(r'id="error-ref">([0-9A-F]{12})<', page).group(1)
    assert other != ref
    assert not leftover_cjk(page, [w.user("admin").display_name, w.admin_org.name])


def test_views_no_longer_turn_a_bare_value_error_into_a_form_message(world, login, monkeypatch, no_propagation):
    """A ValueError is a bug, not a refusal: the task page used to show it next to the form."""
    from app.applications import operations as app_ops
    w = world("jiangjin_2020")
    firm = login(w.user("firm"))
    assert firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data").status_code == 302
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_type == "loan_application",
                                                  HumanTask.subject_id == a.id, HumanTask.status == "open"))

    def bug(*a, **kw):
        raise ValueError("invalid literal for int() with base 10: 'x'")
    monkeypatch.setattr(app_ops, "department_review", bug)
    r = login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "return", "opinion": "请补充材料",
                                                          "bank_id": "0"})
    assert r.status_code == 500 and "invalid literal" not in r.data.decode()
