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
