"""The administrators' instance and incident pages over HTTP: a retry whose step fails shows a clear
message (no 500) and records the incident from the request's rollback; cancel with a reason; a refused
migration names the task; resolving by hand; everything admin-only."""
import re
import time
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.core.db import db
from app.core.timeutil import now
from app.workflow import engine, incidents
from app.workflow.models import Incident, ProcessInstance
from tests.integration.test_incidents import _remove_prepare, deploy, open_tasks, pid, start_script

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def _timer_instance(w, tmp_path, **data):
    p = pid()
    deploy(tmp_path, "incident_timer.bpmn", p)
    inst = engine.start(p, "test", w.bank.id, {"title": "计时器", "org_id": w.bank.id, "amount": "1000.00",
                                                "wait_until": (now() + timedelta(seconds=0.3)).isoformat(), **data})
    db.session.commit()
    time.sleep(0.4)
    return inst


def test_a_failing_retry_shows_a_message_and_records_the_incident(world, login, tmp_path):
    w = world()
    inst = _timer_instance(w, tmp_path)
    admin = login(w.user("admin"))
    page = f"/admin/workflow/instances/{inst.id}"
    assert admin.get(page).status_code == 200
    r = admin.post(f"{page}/retry", headers={"Referer": f"http://localhost{page}"})
    assert r.status_code == 303
    html = admin.get(r.headers["Location"]).data.decode()
    assert "这一步未能完成" in html and "计算分担金额" in html and "alert-danger" in html
    db.session.expire_all()
    (inc,) = db.session.scalars(select(Incident).where(Incident.instance_id == inst.id))
    assert (inc.source, inc.bpmn_id, inc.user_id, inc.status) == ("retry", "compute", w.u["admin"].id, "open")
    assert not db.session.get(ProcessInstance, inst.id).completed

    listing = admin.get("/admin/workflow/incidents").data.decode()
    assert f'id="incident-{inc.id}"' in listing and "DiagramNameError" in listing
    assert f'id="instance-{inst.id}"' in admin.get("/admin/workflow/instances?incident=1").data.decode()
    inbox = admin.get("/notifications/").data.decode()
    assert "流程事件" in inbox

    # the fix, then the retry succeeds and resolves the incident
    r = admin.post(f"{page}/data", data={"key": "rate", "value": "0.4"})
    assert r.status_code == 303
    r = admin.post(f"{page}/retry")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(ProcessInstance, inst.id).completed
    assert db.session.get(Incident, inc.id).status == "resolved"
    assert "管理员重试" in admin.get(page).data.decode()


def test_cancel_refused_migration_and_manual_resolve(world, login, tmp_path):
    w = world()
    p = pid()
    deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p, rate="0.4")
    v3 = deploy(tmp_path, "incident_script.bpmn", p, _remove_prepare)
    admin = login(w.user("admin"))
    page = f"/admin/workflow/instances/{inst.id}"

    html = admin.get(page).data.decode()
    assert f'value="{v3.id}"' in html and "prepare" in html and "版本 1" in html
    r = admin.post(f"{page}/migrate", data={"spec_id": str(v3.id)}, headers={"Referer": f"http://localhost{page}"})
    html = admin.get(r.headers["Location"]).data.decode()
    assert "不能迁移到版本 2" in html and "prepare" in html

    r = admin.post(f"{page}/cancel", data={"reason": ""})
    assert r.status_code == 400 and "请填写取消原因" in r.data.decode()
    r = admin.post(f"{page}/cancel", data={"reason": "测试取消"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(ProcessInstance, inst.id).cancel_reason == "测试取消" and open_tasks(inst.id) == []
    html = admin.get(page).data.decode()
    assert "已取消" in html and "测试取消" in html and 'id="cancel-form"' not in html

    err = None
    try:
        engine.start(p, "test", w.bank.id, {"title": "x"})      # org_id missing: the start fails
    except engine.StepFailed as exc:
        err = exc
    db.session.rollback()
    inc = incidents.record(err.failure)
    r = admin.post(f"/admin/workflow/incidents/{inc.id}", data={"note": "已修正"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Incident, inc.id).status == "resolved"


def test_only_administrators_reach_the_pages(world, login, tmp_path, app):
    w = world()
    p = pid()
    deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p)
    urls = ["/admin/workflow/instances", f"/admin/workflow/instances/{inst.id}", "/admin/workflow/incidents"]
    posts = [f"/admin/workflow/instances/{inst.id}/{a}" for a in ("retry", "cancel", "migrate", "data")]
    for key in ("officer", "firm", "finoffice"):
        c = login(w.user(key))
        for url in urls:
            assert c.get(url).status_code == 403, (key, url)
        for url in posts:
            assert c.post(url, data={"reason": "x", "key": "a", "value": "1", "spec_id": "1"}).status_code == 403
    anon = app.test_client()
    g.__dict__.clear()                    # the test's app context must not carry the last client's user
    assert anon.get(urls[0]).status_code in (302, 401)
    admin = login(w.user("admin"))
    assert admin.get("/admin/workflow/instances/999999999").status_code == 404
    listing = admin.get(f"/admin/workflow/instances?process={p}").data.decode()
    assert re.search(r"共 1 个实例", listing) and f'id="instance-{inst.id}"' in listing
    db.session.expire_all()
    assert db.session.get(ProcessInstance, inst.id).cancelled_at is None
