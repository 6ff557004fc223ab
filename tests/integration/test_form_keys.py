"""Every form key a diagram names resolves in the one registry (form, handler, label, template)."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from flask_wtf import FlaskForm
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import select

from app.core.config import PROJECT_ROOT
from app.core.db import db
from app.tasks import registry
from app.workflow.models import ProcessSpec
from tests.integration.test_thresholds import _suspend

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def form_keys(xml: bytes) -> set[str]:
    doc = etree.fromstring(xml)
    return {p.get("value") for p in doc.iterfind(f".//{{{BPMN}}}userTask//{{{SPIFF}}}property")
            if p.get("name") == "formKey"}


def test_every_form_key_of_every_diagram_resolves_with_a_label(app, ctx):
    files = sorted(Path(app.config["BPMN_DIR"]).glob("*.bpmn"))
    assert files
    keys = {key: path.name for path in files for key in form_keys(path.read_bytes())}
    # what is deployed from bpmn/ (every version; other tests deploy diagrams of their own) names them too
    deployed = set()
    for spec in db.session.scalars(select(ProcessSpec).where(ProcessSpec.filename.in_([f.name for f in files]))):
        deployed |= form_keys(spec.bpmn_xml.encode())
    assert set(keys) <= deployed
    assert "rectification_report" in keys and "comp_claim" in keys and "monthly_filing" in keys

    known = registry.registered()
    missing = sorted(k for k in deployed if k not in known)
    assert not missing, f"form keys without a registered task page: {missing}"
    for key in deployed:
        h = registry.handler_for(key)
        assert h.form_key == key
        assert issubclass(h.form, FlaskForm), key
        assert (PROJECT_ROOT / "templates" / h.template).is_file(), (key, h.template)
        assert h.label and h.label != key, key
        with app.test_request_context(), force_locale("en"):
            english = gettext(h.label)
        assert english != h.label and english.isascii(), f"{key}: label {h.label!r} has no English translation"
    assert registry.labels()["rectification_report"] == "提交整改报告"


def test_a_form_key_is_registered_once(app):
    h = registry.handler_for("filing_ack")
    registry.register(h)                      # the same registration again changes nothing
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.register(registry.TaskHandler("filing_ack", h.form, "x", h.template, h.prepare, h.context, h.submit))
    assert registry.handler_for("filing_ack") is h


def test_the_queue_shows_the_label_of_a_rectification_task_not_its_key(world, login):
    w = world("qianjiang_2018")
    _suspend(w)
    doc = lxml_html.fromstring(login(w.user("officer")).get("/tasks/").data.decode())
    text = doc.text_content()
    assert "提交整改报告" in text and "rectification_report" not in text
