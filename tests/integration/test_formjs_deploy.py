"""Deploying .form files: versions by content, rollback by redeploying, refusals naming file and component,
``deploy_directory`` taking the forms beside the diagrams, and the task dispatcher's lookup order."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import db
from app.formjs.models import FormArtifact
from app.tasks import registry
from app.workflow import engine, forms

TEST_BPMN = Path(__file__).resolve().parents[1] / "bpmn"


def _form(form_id: str, **component) -> dict:
    comp = {"type": "textfield", "id": "f1", "key": "note", "label": "备注"}
    comp.update(component)
    return {"type": "default", "id": form_id, "components": [comp]}


def test_versions_by_content_and_rollback_by_redeploying(ctx):
    form_id = "zz_versions_" + str(db.session.scalar(select(FormArtifact.id).order_by(FormArtifact.id.desc())) or 0)
    v1 = forms.deploy_form(json.dumps(_form(form_id)), "a.form")
    # the same content with other key order and whitespace is the same version
    same = forms.deploy_form(json.dumps(_form(form_id), indent=4, sort_keys=True), "a.form")
    assert same.id == v1.id and v1.version == 1
    v2 = forms.deploy_form(json.dumps(_form(form_id, label="备注（新）")), "a.form")
    assert v2.version == 2 and forms.current(form_id).id == v2.id
    back = forms.deploy_form(json.dumps(_form(form_id)), "a.form")
    assert back.id == v1.id and forms.current(form_id).id == v1.id        # rollback: version 1 is current again
    assert forms.form_exists(form_id) and not forms.form_exists(form_id + "_nope")
    db.session.rollback()


@pytest.mark.parametrize("component, element, reason", [
    ({"label": "=concat(a, b)"}, "f1", "FEEL"),
    ({"conditional": {"hide": "=x"}}, "f1", "conditional"),
    ({"type": "filepicker"}, "f1", "not supported"),
    ({"type": "dynamiclist"}, "f1", "not supported"),
    ({"key": "loan.amount"}, "f1", "dotted"),
    ({"validate": {"pattern": "(unclosed"}}, "f1", "does not compile"),
    ({"validate": {"required": "=true"}}, "f1", "true or false"),
    ({"type": "select", "values": []}, "f1", "values"),
    ({"type": "select", "valuesKey": "banks", "values": [{"label": "a", "value": "a"}]}, "f1", "not taken from data"),
    ({"type": "textfield", "properties": {"money": "true"}}, "f1", "money"),
    ({"type": "number", "decimalDigits": 3, "properties": {"money": "true"}}, "f1", "fen"),
])
def test_deploy_refuses_what_the_server_cannot_validate_naming_file_and_component(ctx, component, element, reason):
    with pytest.raises(forms.FormDeployError) as info:
        forms.deploy_form(json.dumps(_form("zz_refused", **component)), "bad.form")
    assert info.value.filename == "bad.form" and info.value.element == element
    assert reason in info.value.reason and str(info.value).startswith(f"bad.form [{element}]")
    assert not forms.form_exists("zz_refused")


def test_deploy_refuses_a_file_without_id_or_with_repeated_keys(ctx):
    with pytest.raises(forms.FormDeployError, match=r"nameless\.form: the form's id"):
        forms.deploy_form(json.dumps({"components": []}), "nameless.form")
    twice = _form("zz_twice")
    twice["components"].append({"type": "textarea", "id": "f2", "key": "note", "label": "x"})
    with pytest.raises(forms.FormDeployError, match=r"twice\.form \[f2\]: key 'note' is used twice"):
        forms.deploy_form(json.dumps(twice), "twice.form")
    with pytest.raises(forms.FormDeployError, match="not JSON"):
        forms.deploy_form("{NaN", "broken.form")


def test_deploy_directory_deploys_the_forms_beside_the_diagrams(ctx, tmp_path):
    shutil.copy(TEST_BPMN / "guarantee_review.bpmn", tmp_path)
    form = json.loads((TEST_BPMN / "guarantee_review.form").read_text(encoding="utf-8"))
    form["id"] = "zz_dir_form"
    (tmp_path / "dir.form").write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    assert not forms.form_exists("zz_dir_form")
    engine.deploy_directory(tmp_path)
    assert forms.form_exists("zz_dir_form") and forms.current("zz_dir_form").filename == "dir.form"
    db.session.rollback()


def test_lookup_order_registered_page_first(app):
    assert registry.find("department_review") is registry.handler_for("department_review")
    assert registry.find("test_guarantee_review") is None and registry.find(None) is None
