"""The administrators' modeler in headless Chromium: the loan diagram opens in bpmn-js Modeler (served
locally) with its properties panel, a user task is renamed through the modeler and its due time changed in
the panel's platform group, "部署" makes a new version with the change and every spiffworkflow property
kept; a diagram without a diagram section is laid out by bpmn-auto-layout.  No console error, no CSP
violation."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import delete, func, select

from app.core.db import db
from app.workflow import engine
from app.workflow.models import ProcessSpec
from tests.e2e.test_browser_csp import _page, _violations, _watch
from tests.e2e.test_process_upload import upload
from tests.integration.test_deploy import diagram, pid

pytestmark = pytest.mark.browser

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NEW_LABEL = "部门审核推荐（在线修改）"


def spiff_properties(xml: str) -> dict[tuple[str, str], str]:
    """(element id, property name) → value, for every spiffworkflow:property in the diagram."""
    root = etree.fromstring(xml.encode("utf-8"))
    found = {}
    for prop in root.iter(f"{{{SPIFF}}}property"):
        owner = prop.getparent().getparent().getparent()      # property → properties → extensionElements → element
        found[(owner.get("id"), prop.get("name"))] = prop.get("value")
    return found


@pytest.fixture
def loan_spec(ctx):
    """The loan process's current version; made current again afterwards (redeploying its content) and the
    versions the test made removed (no instance uses them), so later tests see the loan process as before."""
    spec = engine.latest_spec("loan_application")
    original = (spec.id, spec.filename, spec.bpmn_xml)
    newest = db.session.scalar(select(func.max(ProcessSpec.id)))
    db.session.rollback()
    yield original
    db.session.rollback()
    engine.deploy_sources([(original[1], original[2].encode("utf-8"))])
    db.session.execute(delete(ProcessSpec).where(ProcessSpec.process_id == "loan_application", ProcessSpec.id > newest))
    db.session.commit()
    assert engine.latest_spec("loan_application").id == original[0]


def _open(page, spec_id):
    page.goto(f"/admin/processes/{spec_id}/model")
    host = page.wait_for_selector("#modeler-canvas[data-rendered=true], #modeler-canvas[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")
    return host


def test_an_administrator_edits_and_deploys_the_loan_diagram(world, new_context, loan_spec):
    w = world()
    admin_name = w.u["admin"].username
    spec_id, filename, old_xml = loan_spec
    db.session.rollback()

    problems: list[str] = []
    page = _page(new_context, admin_name, problems)
    _watch(page, problems)
    host = _open(page, spec_id)
    assert host.get_attribute("data-laid-out") is None               # the loan diagram has its own layout
    assert page.locator("#modeler-canvas .djs-palette").count() == 1  # the Modeler, not the viewer
    assert page.locator('#modeler-canvas .djs-palette [aria-label="添加任务"]').count() == 1  # its texts in Chinese
    assert page.locator('#modeler-canvas [data-element-id="department_review"]').count() >= 1

    # deployed unchanged: the version's own text goes back, no new version
    page.click("#modeler-deploy")
    page.wait_for_selector("#modeler-canvas[data-deployed]")
    assert host.get_attribute("data-deployed") == "ok"
    assert "流程图与当前版本相同，未产生新版本" in page.inner_text("#modeler-status")

    # rename a user task through the modeler's API, then change its due time in the panel's platform group
    page.evaluate("""label => {
        const m = window.zxModeler, task = m.get('elementRegistry').get('department_review');
        m.get('modeling').updateLabel(task, label);
        m.get('selection').select(task);
    }""", NEW_LABEL)
    group = page.locator(".bio-properties-panel-group", has=page.locator(".bio-properties-panel-group-header",
                                                                         has_text="平台属性"))
    group.locator(".bio-properties-panel-group-header").click()
    assert group.locator("#bio-properties-panel-zx-formKey").input_value() == "department_review"
    assert page.locator("#modeler-panel .bio-properties-panel-group-header", has_text="常规").count() == 1
    due = group.locator("#bio-properties-panel-zx-dueWorkingDays")
    assert due.input_value() == "5"
    due.fill("7")
    due.press("Tab")
    page.wait_for_function("""() => window.zxModeler.get('elementRegistry').get('department_review')
        .businessObject.extensionElements.values[0].values.some(p => p.name === 'dueWorkingDays' && p.value === '7')""")

    page.click("#modeler-deploy")
    page.wait_for_selector("#modeler-canvas[data-deployed]")
    assert host.get_attribute("data-deployed") == "ok", page.inner_text("#modeler-refusals")
    assert "已部署新版本：loan_application v" in page.inner_text("#modeler-status")
    made_current = host.get_attribute("data-current")
    with page.expect_navigation():
        page.click("#modeler-status a")                              # back to the process versions
    assert _violations(page) == []
    assert problems == []

    db.session.expire_all()
    new = engine.latest_spec("loan_application")
    assert new.id != spec_id and new.filename == filename
    assert made_current == str(new.id)            # a further deploy from this page is not refused as stale
    assert NEW_LABEL in new.bpmn_xml
    assert "current" in page.get_attribute(f"#spec-loan_application-v{new.version}", "class")
    # the multi-instance task's variable names (references bpmn-moddle cannot resolve) survive the round trip
    assert "<bpmn:loopDataInputRef>filing_recipients</bpmn:loopDataInputRef>" in new.bpmn_xml
    assert "<bpmn:loopDataOutputRef>filing_acks</bpmn:loopDataOutputRef>" in new.bpmn_xml
    before, after = spiff_properties(old_xml), spiff_properties(new.bpmn_xml)
    assert after[("department_review", "dueWorkingDays")] == "7"
    before[("department_review", "dueWorkingDays")] = "7"
    assert after == before                                          # every other property kept as it was
    db.session.rollback()


def test_a_diagram_without_layout_is_laid_out(world, login, new_context):
    w = world()
    admin = login(w.user("admin"))
    p = pid("nodi")
    assert upload(admin, (f"{p}.bpmn", diagram(p))).status_code == 302
    spec_id = engine.latest_spec(p).id
    admin_name = w.u["admin"].username
    db.session.rollback()

    problems: list[str] = []
    page = _page(new_context, admin_name, problems)
    _watch(page, problems)
    host = _open(page, spec_id)
    assert host.get_attribute("data-laid-out") == "true"
    for element in ("start", "step", "end"):
        assert page.locator(f'#modeler-canvas [data-element-id="{element}"]').count() >= 1, element
    assert _violations(page) == []
    assert problems == []


def test_an_administrator_edits_and_deploys_a_form(world, login, new_context):
    from tests.e2e.test_form_editor_http import deployed_form
    from app.workflow import forms as workflow_forms

    w = world()
    admin = login(w.user("admin"))
    key = f"bed_{pid('f')[-8:]}"
    art_id = deployed_form(admin, key).id
    admin_name = w.u["admin"].username
    db.session.rollback()

    problems: list[str] = []
    page = _page(new_context, admin_name, problems)
    _watch(page, problems)
    page.goto(f"/admin/forms/{art_id}/edit")
    host = page.wait_for_selector("#form-editor[data-rendered=true], #form-editor[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")
    assert page.locator("#form-editor .fjs-editor-container").count() == 1
    page.click("#form-editor-deploy")                                 # unchanged: no new version
    page.wait_for_selector("#form-editor[data-deployed]")
    assert "表单与当前版本相同，未产生新版本" in page.inner_text("#modeler-status")
    page.evaluate("""() => {
        const e = window.zxFormEditor, field = e._getState().schema.components.find(c => c.key === 'decision');
        e.get('modeling').editFormField(field, 'label', '担保意见（在线修改）');
    }""")
    page.click("#form-editor-deploy")
    page.wait_for_selector("#form-editor[data-deployed]")
    assert host.get_attribute("data-deployed") == "ok", page.inner_text("#modeler-refusals")
    assert f"{key} v2" in page.inner_text("#modeler-status")
    assert _violations(page) == []
    assert problems == []
    db.session.expire_all()
    current = workflow_forms.current(key)
    assert current.version == 2 and "担保意见（在线修改）" in current.schema_json
    db.session.rollback()
