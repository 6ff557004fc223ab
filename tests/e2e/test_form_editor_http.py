"""The form-js editor for deployed .form files, over HTTP: administrators only; the edited schema posted
back becomes a new version of the same form (or makes an older one current again), a refused one (a schema
error, a changed form id) is listed and stores nothing."""
import json
import uuid
from pathlib import Path

from sqlalchemy import func, select

from app.core.db import db
from app.formjs.models import FormArtifact
from app.workflow import forms as workflow_forms
from tests.e2e.test_modeler_http import deployed, post_json
from tests.e2e.test_process_upload import upload
from tests.integration.test_deploy import pid

FORM = Path(__file__).resolve().parents[1] / "bpmn" / "guarantee_review.form"


def a_form(key):
    form = json.loads(FORM.read_text(encoding="utf-8"))
    form["id"] = key
    return form


def deployed_form(admin, key):
    assert upload(admin, (f"{key}.form", json.dumps(a_form(key), ensure_ascii=False).encode())).status_code == 302
    db.session.expire_all()
    return workflow_forms.current(key)


def form_versions(key):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(FormArtifact).where(FormArtifact.form_id == key))


def test_the_form_editor_is_for_administrators_only(world, login):
    w = world()
    admin = login(w.user("admin"))
    key = f"ed_{uuid.uuid4().hex[:8]}"
    art = deployed_form(admin, key)
    spec = deployed(admin, pid("mod"))
    page = admin.get(f"/admin/processes/{spec.id}/model").data.decode()
    assert f'href="/admin/forms/{art.id}/edit"' in page                  # linked from the modeler page
    r = admin.get(f"/admin/forms/{art.id}/edit")
    assert r.status_code == 200 and "vendor/form-js-editor/form-editor.min.js" in r.data.decode()
    r = admin.get(f"/admin/forms/{art.id}/schema")
    assert r.status_code == 200 and r.mimetype == "application/json" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.json["id"] == key
    assert admin.get("/admin/forms/999999999/edit").status_code == 404
    assert admin.get("/admin/forms/999999999/schema").status_code == 404
    for role in ("officer", "guarantee"):
        other = login(w.user(role))
        assert other.get(f"/admin/forms/{art.id}/edit").status_code == 403
        assert other.get(f"/admin/forms/{art.id}/schema").status_code == 403
        assert other.post(f"/admin/forms/{art.id}/edit", data={"schema": json.dumps(a_form(key))}).status_code == 403
    assert form_versions(key) == 1


def test_deploying_an_edited_form(world, login):
    w = world()
    admin = login(w.user("admin"))
    key = f"ed_{uuid.uuid4().hex[:8]}"
    art = deployed_form(admin, key)
    edited = a_form(key)
    edited["components"][1]["label"] = "担保意见（修订）"
    r = admin.post(f"/admin/forms/{art.id}/edit", data={"schema": json.dumps(edited, ensure_ascii=False)})
    assert r.status_code == 200 and r.json["ok"] and r.json["version"] == 2, r.json
    assert form_versions(key) == 2 and "担保意见（修订）" in workflow_forms.current(key).schema_json
    # the first content again: version 1 current, no new version
    r = post_json(admin, f"/admin/forms/{art.id}/edit", {"schema": json.dumps(a_form(key), ensure_ascii=False)})
    assert r.status_code == 200 and r.json["ok"] and r.json["version"] == 1
    assert form_versions(key) == 2 and workflow_forms.current(key).version == 1

    # refused: a bad component, another form id, nothing — nothing stored
    bad = a_form(key)
    bad["components"][1]["valuesExpression"] = "=options"
    r = admin.post(f"/admin/forms/{art.id}/edit", data={"schema": json.dumps(bad)})
    assert r.status_code == 400 and not r.json["ok"]
    (refusal,) = r.json["refusals"]
    assert refusal["file"] == art.filename and refusal["reason"]
    r = admin.post(f"/admin/forms/{art.id}/edit", data={"schema": json.dumps(a_form(key + "_x"))})
    assert r.status_code == 400 and key in r.json["refusals"][0]["reason"]
    for junk in ("", "not json", "[]", "null"):
        assert admin.post(f"/admin/forms/{art.id}/edit", data={"schema": junk}).status_code == 400
    assert post_json(admin, f"/admin/forms/{art.id}/edit", [1]).status_code == 400
    assert form_versions(key) == 2 and form_versions(key + "_x") == 0
    assert workflow_forms.current(key).version == 1


def test_a_form_deploy_from_an_editor_opened_before_anothers_deploy_is_refused(world, login):
    import re
    w = world()
    admin = login(w.user("admin"))
    key = f"two_{pid('f')[-8:]}"
    art = deployed_form(admin, key)
    seen = re.search(r'data-current="(\d+)"', admin.get(f"/admin/forms/{art.id}/edit").data.decode()).group(1)
    assert seen == str(art.id)

    def edited(label):
        form = a_form(key)
        form["components"][0]["label"] = label
        return json.dumps(form, ensure_ascii=False)
    first = admin.post(f"/admin/forms/{art.id}/edit", data={"schema": edited("甲的修改"), "seen_current": seen})
    assert first.status_code == 200 and first.json["version"] == 2, first.json
    second = admin.post(f"/admin/forms/{art.id}/edit", data={"schema": edited("乙的修改"), "seen_current": seen})
    assert second.status_code == 409 and "当前版本已变为 v2" in second.json["message"]
    assert form_versions(key) == 2 and "甲的修改" in workflow_forms.current(key).schema_json


def test_a_new_form_from_the_editor(world, login):
    """"新建表单": the editor starts empty; the schema posted with a form id becomes version 1 of that form (the id
    written into it); an id already deployed, a malformed id or a refused schema stores nothing."""
    w = world()
    admin = login(w.user("admin"))
    r = admin.get("/admin/forms/new")
    html = r.data.decode()
    assert r.status_code == 200 and 'id="form-editor-form-id"' in html and "data-schema" not in html
    spec = deployed(admin, pid("mod"))
    assert 'href="/admin/forms/new"' in admin.get(f"/admin/processes/{spec.id}/model").data.decode()

    key = f"new_{uuid.uuid4().hex[:8]}"
    schema = a_form("whatever")
    del schema["id"]
    r = admin.post("/admin/forms/new", data={"form_id": key, "schema": json.dumps(schema, ensure_ascii=False)})
    assert r.status_code == 200 and r.json["ok"] and r.json["version"] == 1, r.json
    art = workflow_forms.current(key)
    assert art.filename == f"{key}.form" and json.loads(art.schema_json)["id"] == key
    assert r.json["edit_url"] == f"/admin/forms/{art.id}/edit"

    r = admin.post("/admin/forms/new", data={"form_id": key, "schema": json.dumps(schema)})   # taken
    assert r.status_code == 400 and key in r.json["message"]
    for bad_id in ("", "1x", "a b", "x" * 101):
        assert admin.post("/admin/forms/new", data={"form_id": bad_id, "schema": json.dumps(schema)}).status_code == 400
    other = f"new_{uuid.uuid4().hex[:8]}"
    bad = a_form(other)
    bad["components"][1]["valuesExpression"] = "=options"
    r = admin.post("/admin/forms/new", data={"form_id": other, "schema": json.dumps(bad)})
    assert r.status_code == 400 and r.json["refusals"][0]["file"] == f"{other}.form"
    for junk in ("", "not json", "[]", "null", "\x00"):
        assert admin.post("/admin/forms/new", data={"form_id": other, "schema": junk}).status_code == 400, junk
    assert post_json(admin, "/admin/forms/new", [1]).status_code == 400
    assert form_versions(other) == 0 and form_versions(key) == 1
    for role in ("officer", "firm", "guarantee"):
        client = login(w.user(role))
        assert client.get("/admin/forms/new").status_code == 403
        assert client.post("/admin/forms/new", data={"form_id": other, "schema": json.dumps(schema)}).status_code == 403
    assert form_versions(other) == 0
