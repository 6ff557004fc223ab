"""A user task whose form key names a deployed form-js form, over HTTP as the assigned organisation.

The diagram tests/bpmn/guarantee_review.bpmn has one user task (form key ``test_guarantee_review``, assigned
to the guarantee company) and no Python page: the task page is drawn from tests/bpmn/guarantee_review.form,
and the server validates every submission against it.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

from app.core.audit import TimelineEvent
from app.core.db import db
from app.core.timeutil import today
from app.formjs.models import FormArtifact
from app.workflow import engine, forms
from app.workflow.models import HumanTask, ProcessInstance

TEST_BPMN = Path(__file__).resolve().parents[1] / "bpmn"
SUBJECT = "zz_guarantee"
pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def deploy_guarantee_review(form_text: str | None = None) -> FormArtifact:
    """Deploy the test diagram and its form (or ``form_text``): that form version becomes current."""
    art = forms.deploy_form(form_text or (TEST_BPMN / "guarantee_review.form").read_text(encoding="utf-8"),
                            "guarantee_review.form")
    engine.deploy_file(TEST_BPMN / "guarantee_review.bpmn")
    return art


def start_guarantee_review(w, form_text: str | None = None) -> int:
    """A new guarantee review for ``w``'s guarantee company; returns the open human task's id (committed)."""
    deploy_guarantee_review(form_text)
    subject_id = int(db.session.scalar(select(func.coalesce(func.max(ProcessInstance.id), 0)))) + 1
    inst = engine.start("test_guarantee_review", SUBJECT, subject_id, {
        "guarantee_org_id": w.units["guarantee"].id, "title": f"担保审查 {w.tag}"})
    db.session.commit()
    return db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == inst.id))


def good_values() -> dict:
    return {"decision": "approve", "guarantee_amount": "800000.50", "guarantee_until": (today() + timedelta(days=365)).isoformat(),
            "guarantee_contract_no": "DB-20261", "guarantee_opinion": "反担保措施充分，同意担保。",
            "checked_items": ["licence", "statements"], "counter_guarantee": "true"}


BAD = [  # (field key, value, component id, message)
    ("decision", "", "f_decision", "此项为必填项"),
    ("decision", "approve-all", "f_decision", "请从列出的选项中选择"),
    ("guarantee_amount", "1e30", "f_amount", "请输入有效的数字"),
    ("guarantee_amount", "NaN", "f_amount", "请输入有效的数字"),
    ("guarantee_amount", "Infinity", "f_amount", "请输入有效的数字"),
    ("guarantee_amount", "0.001", "f_amount", "金额精确到分"),
    ("guarantee_amount", "-5.00", "f_amount", "不能小于 0"),
    ("guarantee_amount", "50000000.01", "f_amount", "不能大于 50000000"),
    ("guarantee_amount", "1000000000000000000000", "f_amount", "金额超出允许范围"),
    ("guarantee_until", "2027-02-30", "f_until", "请输入有效的日期"),
    ("guarantee_until", "9999-12-31", "f_until", "日期应在"),
    ("guarantee_until", "31/12/2027", "f_until", "请输入有效的日期"),
    ("guarantee_contract_no", "HT-2026", "f_contract", "格式应为 DB-加 4 到 10 位数字"),
    ("guarantee_opinion", "意" * 201, "f_opinion", "最多 200 个字符"),
    ("guarantee_opinion", "  ", "f_opinion", "此项为必填项"),
    ("guarantee_opinion", "ok\u202eevil", "f_opinion", "不能包含控制字符"),
    ("guarantee_opinion", "\u200b\u200b", "f_opinion", "不能只包含空白或不可见字符"),
    ("checked_items", ["licence", "tax"], "f_checks", "请从列出的选项中选择"),
    ("counter_guarantee", "yes", "f_counter", "无效的选项"),
]


def _state(ht_id):
    db.session.expire_all()
    ht = db.session.get(HumanTask, ht_id)
    out = (ht.status, ht.instance.version, ht.instance.state,
           db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
               TimelineEvent.subject_type == SUBJECT, TimelineEvent.subject_id == ht.subject_id)))
    db.session.rollback()
    return out


def _message_at(page: bytes, key: str) -> str:
    doc = lxml_html.fromstring(page.decode())
    return " ".join(e.text_content() for e in doc.xpath(
        f'//div[@data-field="{key}"]//div[contains(@class, "invalid-feedback")]'))


def test_the_assigned_company_sees_the_form_others_do_not(world, login):
    w = world()
    ht_id = start_guarantee_review(w)
    guarantee = login(w.user("guarantee"))
    assert f"/tasks/{ht_id}" in guarantee.get("/tasks/").data.decode()
    r = guarantee.get(f"/tasks/{ht_id}")
    assert r.status_code == 200
    page = r.data.decode()
    doc = lxml_html.fromstring(page)
    # the plain fields (no script needed) and the viewer's schema, localised, without the form's own button
    assert doc.xpath('//select[@name="decision"]/option[@value="approve"]')[0].text_content() == "同意担保"
    assert doc.xpath('//input[@name="guarantee_amount"]/@step') == ["0.01"]
    assert doc.xpath('//input[@name="guarantee_until"]/@type') == ["date"]
    schema = json.loads(doc.xpath('//div[@id="formjs-viewer"]/@data-schema')[0])
    assert schema["id"] == "test_guarantee_review" and "button" not in {c["type"] for c in schema["components"]}
    amount = next(c for c in schema["components"] if c.get("key") == "guarantee_amount")
    assert amount["serializeToString"] is True and amount["decimalDigits"] == 2
    texts = json.loads(doc.xpath('//div[@id="formjs-viewer"]/@data-texts')[0])
    assert texts["Field is required."] == "此项为必填项。"
    assert login(w.user("finance")).get(f"/tasks/{ht_id}").status_code == 404

    en = guarantee.get(f"/tasks/{ht_id}?lang=en").data.decode()
    doc = lxml_html.fromstring(en)
    assert doc.xpath('//select[@name="decision"]/option[@value="approve"]')[0].text_content() == "Guarantee"
    assert "Guarantee decision" in en and "Please review this loan" in en
    schema = json.loads(doc.xpath('//div[@id="formjs-viewer"]/@data-schema')[0])
    decision = next(c for c in schema["components"] if c.get("key") == "decision")
    assert decision["label"] == "Guarantee decision" and decision["values"][1]["label"] == "Decline"
    until = next(c for c in schema["components"] if c.get("key") == "guarantee_until")
    assert until["dateLabel"] == "Guarantee until"
    texts = json.loads(doc.xpath('//div[@id="formjs-viewer"]/@data-texts')[0])
    assert texts["Field is required."] == "Field is required."
    r = guarantee.post(f"/tasks/{ht_id}", data={**good_values(), "decision": "nope"})
    assert r.status_code == 400 and "Choose one of the listed options" in _message_at(r.data, "decision")


def test_each_bad_value_is_refused_next_to_its_field_and_nothing_is_stored(world, login):
    w = world()
    ht_id = start_guarantee_review(w)
    guarantee = login(w.user("guarantee"))
    before = _state(ht_id)
    for key, value, _id, message in BAD:
        r = guarantee.post(f"/tasks/{ht_id}", data={**good_values(), key: value})
        assert r.status_code == 400, (key, value)
        assert message in _message_at(r.data, key), (key, value, _message_at(r.data, key))
        assert _state(ht_id) == before, (key, value)
    # a missing required field (not sent at all)
    data = good_values()
    del data["guarantee_until"]
    r = guarantee.post(f"/tasks/{ht_id}", data=data)
    assert r.status_code == 400 and "此项为必填项" in _message_at(r.data, "guarantee_until")
    assert _state(ht_id) == before


def test_good_values_become_task_data_and_appear_on_the_timeline(world, login):
    w = world()
    ht_id = start_guarantee_review(w)
    guarantee = login(w.user("guarantee"))
    r = guarantee.post(f"/tasks/{ht_id}", data={**good_values(), "not_in_the_form": "ignored"})
    assert r.status_code == 302, r.data.decode()[:3000]
    db.session.expire_all()
    ht = db.session.get(HumanTask, ht_id)
    assert ht.status == "completed" and ht.completed_by_id == w.u["guarantee"].id
    inst = ht.instance
    assert inst.completed
    data = engine.workflow_data(inst)
    assert data["decision"] == "approve" and data["guarantee_amount"] == "800000.50"
    assert data["guarantee_until"] == good_values()["guarantee_until"]
    assert data["checked_items"] == ["licence", "statements"] and data["counter_guarantee"] is True
    assert data["guarantee_contract_no"] == "DB-20261" and "not_in_the_form" not in data
    assert engine.progress(inst)["completed"].count("guaranteed") == 1     # the gateway read the form's values
    ev = db.session.scalar(select(TimelineEvent).where(TimelineEvent.subject_type == SUBJECT,
                                                       TimelineEvent.subject_id == ht.subject_id))
    assert ev.action == "form_submitted" and ev.actor_org_id == w.units["guarantee"].id
    d = ev.details_dict
    assert d["form"] == "test_guarantee_review"
    assert d["form_version"] == db.session.get(FormArtifact, ht.form_artifact_id).version
    shown = {f["key"]: (f["label"], f["value"], f["value_en"]) for f in d["fields"]}
    assert shown["decision"] == ("担保意见", "同意担保", "Guarantee")
    assert shown["checked_items"][1] == "营业执照、财务报表"
    db.session.rollback()
    # a second submission of the finished task is refused, nothing changes
    r = guarantee.post(f"/tasks/{ht_id}", data=good_values())
    assert r.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
        TimelineEvent.subject_type == SUBJECT, TimelineEvent.subject_id == ht.subject_id)) == 1


def _changed_form() -> str:
    """The guarantee form with a third decision (a new version)."""
    form = json.loads((TEST_BPMN / "guarantee_review.form").read_text(encoding="utf-8"))
    decision = next(c for c in form["components"] if c.get("key") == "decision")
    decision["values"].append({"label": "附条件同意担保", "value": "conditional"})
    return json.dumps(form, ensure_ascii=False)


def test_a_task_keeps_its_form_version_when_the_form_is_redeployed_changed(world, login):
    w = world()
    old_task = start_guarantee_review(w)
    v1 = db.session.get(HumanTask, old_task).form_artifact_id
    new_task = start_guarantee_review(w, _changed_form())
    v2 = db.session.get(HumanTask, new_task).form_artifact_id
    assert v1 and v2 and v1 != v2
    assert db.session.get(FormArtifact, v2).version > db.session.get(FormArtifact, v1).version
    db.session.rollback()
    guarantee = login(w.user("guarantee"))
    assert "附条件同意担保" not in guarantee.get(f"/tasks/{old_task}").data.decode()
    assert "附条件同意担保" in guarantee.get(f"/tasks/{new_task}").data.decode()
    r = guarantee.post(f"/tasks/{old_task}", data={**good_values(), "decision": "conditional"})
    assert r.status_code == 400 and "请从列出的选项中选择" in _message_at(r.data, "decision")
    assert guarantee.post(f"/tasks/{new_task}", data={**good_values(), "decision": "conditional"}).status_code == 302
    assert guarantee.post(f"/tasks/{old_task}", data=good_values()).status_code == 302
    # the original content deployed again is current again: new tasks get version 1's form back
    again = start_guarantee_review(w)
    assert db.session.get(HumanTask, again).form_artifact_id == v1
    db.session.rollback()


def test_a_task_with_neither_a_page_nor_a_form_says_so_instead_of_failing(world, login):
    w = world()
    ht_id = start_guarantee_review(w)
    ht = db.session.get(HumanTask, ht_id)
    ht.form_key, ht.form_artifact_id = "zz_no_page_no_form", None
    db.session.commit()
    guarantee = login(w.user("guarantee"))
    r = guarantee.get(f"/tasks/{ht_id}")
    assert r.status_code == 302
    assert "该待办的表单尚未部署" in guarantee.get(r.headers["Location"]).data.decode()
    assert guarantee.post(f"/tasks/{ht_id}", data=good_values()).status_code == 302
    assert _state(ht_id)[0] == "open"
