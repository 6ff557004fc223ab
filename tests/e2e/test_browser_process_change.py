"""Issue 10's end-to-end test, in headless Chromium against the real app: an administrator changes ONE
scheme's loan process without a line of Python.

1. In the form-js editor ("新建表单") she builds the guarantee company's review form from the palette and the
   properties panel (label, key, required, a ``money`` custom property) and deploys it.
2. In the bpmn-js modeler she opens the loan diagram, adds a lane below the bank's (its id ``lane_guarantee``
   names the organisation kind: that is the assignment), puts a task in it from the palette, makes it a user
   task through the context pad's replace menu, names it and gives its form key in the properties panel, and
   deploys it with "部署为新流程" as a new process (every scheme on the loan process stays as it was).
3. She binds scheme A's loan applications to the new process on the scheme's page (real form, with a reason).

Then: an application of scheme A submitted before the change keeps the old version and finishes on it; a new
application of scheme A reaches the new step after the department's recommendation, in the queue of the
guarantee company of scheme A (not of scheme B's); its user fills the generated form in the browser, the server
refuses an amount with three decimals next to the field (the viewer itself allows it), the corrected form
passes, the values are task data and on the timeline, and the application goes on to the bank; scheme B's new
application still runs the old diagram.

Steps done through the modeler's own JS API (``page.evaluate`` on ``window.zxModeler``) because dragging a
connection's end point is not something a headless pointer does reliably: reconnecting the department's
"recommend" flow to the new task and the new task's flow to the bank's step (``modeling.reconnectEnd`` /
``modeling.connect``).  Everything else — form fields dragged from the form-js palette, their label, key,
required flag and custom property, the lane (context pad), the task (palette + click in the lane), its type
(replace menu), names, ids, form key and due time (properties panel), both deploys, the binding — goes through
the real UI; the form-js panel's "新增" button is pressed from the keyboard (a pointer click on it is lost while
the panel re-draws its header).  ``window.zxModeler`` / ``window.zxFormEditor`` are otherwise only read, to
check what the UI did.
"""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.applications.models import LoanApplication
from app.core.audit import timeline
from app.core.db import db
from app.workflow import engine
from app.workflow.models import HumanTask, ProcessInstance
from tests.conftest import application_form
from tests.e2e.test_browser_csp import _page, _violations, _watch

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("retire_new_schemes")]

TASK_NAME = "担保公司审查"


def _open_task(org_id, form_key, app_id):
    row = db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.form_key == form_key, HumanTask.subject_id == app_id,
        HumanTask.status == "open"))
    return row.id if row is not None else None


def _submit(w, login):
    firm = login(w.user("firm"))
    r = firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    app_id = int(r.headers["Location"].rsplit("/", 1)[1])
    return app_id


def _recommend(w, login, app_id):
    t = _open_task(w.dept.id, "department_review", app_id)
    assert t is not None
    r = login(w.user("dept")).post(f"/tasks/{t}", data={"decision": "recommend", "opinion": "经营正常，同意推荐",
                                                        "bank_id": str(w.bank.id)})
    assert r.status_code == 302, r.data.decode()[:2000]


def _bank_and_filing(w, login, app_id):
    """The bank approves and the filing recipients acknowledge (the built-in pages, over HTTP)."""
    t = _open_task(w.bank.id, "bank_due_diligence", app_id)
    assert t is not None
    officer = login(w.user("officer"))
    assert officer.post(f"/tasks/{t}/claim").status_code == 302
    r = officer.post(f"/tasks/{t}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "调查属实", "contract_no": f"HT-{app_id}",
        "amount": "1000000.00", "annual_rate": "5.22", "term_months": "12", "disbursed_on": "2026-11-20",
        "product": "zengxindai"})
    assert r.status_code == 302, r.data.decode()[:2000]
    for key in ("finance", "centre", "guarantee"):
        t = _open_task(w.units[key].id, "filing_ack", app_id)
        assert t is not None, key
        assert login(w.user(key)).post(f"/tasks/{t}", data={"note": "已备案"}).status_code == 302


def _instance(app_id) -> tuple[str, int, bool]:
    a = db.session.get(LoanApplication, app_id)
    inst = db.session.get(ProcessInstance, a.instance_id)
    out = (inst.process_id, inst.spec_id, inst.completed)
    db.session.rollback()
    return out


def _open_group(page, title, open_=True):
    header = page.locator(".bio-properties-panel-group-header", has_text=re.compile("^" + re.escape(title)))
    header.first.wait_for()
    if ("open" in (header.first.get_attribute("class") or "").split()) != open_:
        header.first.click()


def _fill(page, target, value):
    entry = page.locator(target) if isinstance(target, str) else target
    entry.fill(value)
    entry.press("Tab")


# ---------------------------------------------------------------------------- the administrator's part

def _make_form(admin, form_id):
    """Build the review form in the form-js editor's UI and deploy it."""
    with admin.context.expect_page() as new_tab:
        admin.click("#new-form-link")
    page = new_tab.value
    page.set_default_timeout(10_000)
    host = page.wait_for_selector("#form-editor[data-rendered=true], #form-editor[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")
    # the editor's own texts in Chinese (form-js has no translation service: form_editor.js puts them in place)
    assert page.inner_text(".fjs-palette-header") == "组件"
    assert page.get_attribute(".fjs-palette-search", "placeholder") == "搜索组件"
    assert page.inner_text('.fjs-palette-field[data-field-type="textarea"]') == "多行文本"
    fields = [("textarea", "审查意见", "guarantee_opinion", False),
              ("number", "担保金额（元）", "guarantee_amount", True)]
    for ctype, label, key, money in fields:
        count = page.evaluate("window.zxFormEditor.saveSchema().components.length")
        source = page.locator(f'.fjs-palette-field[data-field-type="{ctype}"]')
        target = page.locator(".fjs-drop-container-vertical, .fjs-form-container .fjs-drop-container").first
        source.drag_to(target)
        page.wait_for_function("n => window.zxFormEditor.saveSchema().components.length > n", arg=count)
        # the new field is selected: its label, key and validation in the properties panel
        _open_group(page, "常规")
        label_box = page.locator("#bio-properties-panel-label")     # a templating (CodeMirror) field
        label_box.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(label)
        _fill(page, "#bio-properties-panel-key", key)
        _open_group(page, "校验")
        page.check("#bio-properties-panel-required")
        for title in ("常规", "校验"):            # fold them again: the panel is short
            _open_group(page, title, open_=False)
        if money:
            group = page.locator(".bio-properties-panel-group", has=page.locator(
                ".bio-properties-panel-group-header", has_text="自定义属性"))
            group.scroll_into_view_if_needed()
            # the header's "新增" button, pressed from the keyboard (a pointer click on it is lost headless: the
            # panel re-draws the header between mouse-down and mouse-up)
            group.locator(".bio-properties-panel-add-entry").focus()
            page.keyboard.press("Enter")
            page.wait_for_function("""() => window.zxFormEditor.saveSchema().components
                .some(c => c.key === 'guarantee_amount' && c.properties)""")
            inputs = group.locator("input[type=text]")
            if not inputs.first.is_visible():          # the new entry may come folded
                group.locator(".bio-properties-panel-collapsible-entry-header").first.click()
            inputs.first.wait_for()
            _fill(page, inputs.nth(0), "money")
            _fill(page, inputs.nth(1), "true")
    # the administrator's own texts are not touched: the field keeps the label she typed
    assert page.locator(".fjs-properties-panel .bio-properties-panel-header-label").inner_text() == "担保金额（元）"
    page.fill("#form-editor-form-id", form_id)
    page.click("#form-editor-deploy")
    page.wait_for_selector("#form-editor[data-deployed]")
    assert host.get_attribute("data-deployed") == "ok", (page.inner_text("#modeler-status"),
                                                         page.inner_text("#modeler-refusals"))
    assert f"已部署新表单：{form_id} v1" in page.inner_text("#modeler-status")
    return page


def _click_band(page, element_id):
    """Click a lane on its left band (where its name is), not on the tasks inside it."""
    box = page.locator(f'#modeler-canvas .djs-element[data-element-id="{element_id}"]').first.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2)


def _context_pad(page, title):
    page.locator(f'.djs-context-pad .entry[title="{title}"]').click()


def _add_step(page, form_id):
    """The new lane, the user task in it and its properties, through the modeler's UI."""
    lanes_before = set(page.evaluate(
        "window.zxModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane').map(e => e.id)"))
    _click_band(page, "lane_bank")
    _context_pad(page, "在下方添加泳道")
    lane = page.wait_for_function("""before => window.zxModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Lane' && !before.includes(e.id)).map(e => e.id)[0]""", arg=list(lanes_before))
    lane = lane.json_value()
    _click_band(page, lane)
    _open_group(page, "常规")
    _fill(page, "#bio-properties-panel-name", "担保公司 Guarantee company")
    _fill(page, "#bio-properties-panel-id", "lane_guarantee")   # the lane's id names the organisation kind
    page.wait_for_selector('#modeler-canvas .djs-element[data-element-id="lane_guarantee"]')

    # a task from the palette, dropped in the new lane below the bank's step
    page.click('#modeler-canvas .djs-palette [aria-label="添加任务"]')
    lane_box = page.locator('#modeler-canvas .djs-element[data-element-id="lane_guarantee"]').first.bounding_box()
    bank_box = page.locator('#modeler-canvas .djs-element[data-element-id="bank_due_diligence"]').first.bounding_box()
    x, y = bank_box["x"] + bank_box["width"] / 2, lane_box["y"] + lane_box["height"] / 2
    page.mouse.move(x - 30, y, steps=4)
    page.mouse.move(x, y, steps=4)
    page.mouse.click(x, y)
    page.keyboard.press("Escape")          # leave the label's direct editing, if the modeler opened it
    task = page.wait_for_function("""() => { const s = window.zxModeler.get('selection').get();
        return s.length === 1 && s[0].type === 'bpmn:Task' ? s[0].id : null; }""").json_value()
    assert page.evaluate("id => window.zxModeler.get('elementRegistry').get(id).parent.id", task) != "lane_bank"
    assert page.evaluate("""id => window.zxModeler.get('elementRegistry').get(id).businessObject.lanes
        .map(l => l.id)""", task) == ["lane_guarantee"]

    # the context pad's replace menu makes it a user task
    _context_pad(page, "更改元素类型")
    page.click('.djs-popup [data-id="replace-with-user-task"]')
    page.wait_for_function("""() => { const s = window.zxModeler.get('selection').get();
        return s.length === 1 && s[0].type === 'bpmn:UserTask'; }""")
    _open_group(page, "常规")
    _fill(page, "#bio-properties-panel-name", TASK_NAME)
    _fill(page, "#bio-properties-panel-id", "guarantee_review")
    _open_group(page, "平台属性")
    _fill(page, "#bio-properties-panel-zx-formKey", form_id)
    _fill(page, "#bio-properties-panel-zx-dueWorkingDays", "3")

    # the flows: the department's "recommend" now leads to the new step, which leads to the bank's
    # (the modeler's API: dragging a connection's end is not reliable headless)
    page.evaluate("""() => {
        const m = window.zxModeler, reg = m.get('elementRegistry'), modeling = m.get('modeling');
        const task = reg.get('guarantee_review'), bank = reg.get('bank_due_diligence');
        modeling.reconnectEnd(reg.get('flow_recommend'), task, { x: task.x + task.width / 2, y: task.y });
        modeling.connect(task, bank);
    }""")


def test_an_administrator_changes_one_schemes_loan_process_in_the_browser(world, login, new_context):
    a = world("jiangjin_2020")
    b = world("jiangjin_2020")
    tag = uuid.uuid4().hex[:6]
    form_id, new_pid = f"guarantee_check_{tag}", f"loan_application_g{tag}"
    old_spec = engine.latest_spec("loan_application")
    old_spec_id, old_version = old_spec.id, old_spec.version

    # an application of scheme A submitted before the change
    app_before = _submit(a, login)
    admin_name = a.u["admin"].username
    scheme_a, scheme_b = a.scheme.id, b.scheme.id
    db.session.rollback()

    problems: list[str] = []
    admin = _page(new_context, admin_name, problems)
    _watch(admin, problems)

    # -- the modeler, opened from the process versions page on the loan process's current version
    admin.goto("/admin/processes")
    admin.click(f"#spec-loan_application-v{old_version} .model-link")
    host = admin.wait_for_selector("#modeler-canvas[data-rendered=true], #modeler-canvas[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")

    # -- the form, in the form-js editor (a new tab from the modeler page)
    form_page = _make_form(admin, form_id)
    form_page.close()

    # -- the new step, deployed as a new process
    _add_step(admin, form_id)
    admin.fill("#modeler-new-process-id", new_pid)
    admin.click("#modeler-deploy-new")
    admin.wait_for_selector("#modeler-canvas[data-deployed]")
    assert host.get_attribute("data-deployed") == "ok", (admin.inner_text("#modeler-status"),
                                                         admin.inner_text("#modeler-refusals"))
    assert f"已部署新版本：{new_pid} v1" in admin.inner_text("#modeler-status")
    assert _violations(admin) == []

    # -- scheme A's loan applications run the new process (the scheme's page, its binding form)
    admin.goto(f"/admin/schemes/{scheme_a}")
    form = admin.locator("#binding-form-loan_application")
    form.locator("select[name=loan_application-target]").select_option(f"current:{new_pid}")
    form.locator("input[name=loan_application-note]").fill("区金融办 2026 年第 7 次会议纪要：增加担保公司审查")
    with admin.expect_navigation():
        form.locator("button").click()
    assert "已修改流程绑定" in admin.inner_text("main")
    assert admin.inner_text("#binding-loan_application code.process") == new_pid
    assert "增加担保公司审查" in admin.inner_text("#binding-history")
    admin.goto(f"/admin/schemes/{scheme_b}")
    assert admin.inner_text("#binding-loan_application code.process") == "loan_application"   # B untouched
    assert problems == []

    # -- the application submitted before the change keeps the old version and finishes on it
    _recommend(a, login, app_before)
    assert _open_task(a.units["guarantee"].id, form_id, app_before) is None
    _bank_and_filing(a, login, app_before)
    assert _instance(app_before) == ("loan_application", old_spec_id, True)

    # -- scheme B's new application: the old diagram, straight from the department to the bank
    app_b = _submit(b, login)
    _recommend(b, login, app_b)
    assert _open_task(b.bank.id, "bank_due_diligence", app_b) is not None
    assert _open_task(b.units["guarantee"].id, form_id, app_b) is None
    assert _instance(app_b) == ("loan_application", old_spec_id, False)

    # -- scheme A's new application reaches the new step, in scheme A's guarantee company's queue only
    app_new = _submit(a, login)
    process_id, _spec, _done = _instance(app_new)
    assert process_id == new_pid
    _recommend(a, login, app_new)
    task_id = _open_task(a.units["guarantee"].id, form_id, app_new)
    assert task_id is not None
    assert _open_task(b.units["guarantee"].id, form_id, app_new) is None
    app_no = db.session.get(LoanApplication, app_new).no
    guarantee_name, other_guarantee = a.u["guarantee"].username, b.u["guarantee"].username
    db.session.rollback()

    other = _page(new_context, other_guarantee, problems)
    other.goto("/tasks/")
    assert app_no not in other.inner_text("main")
    other.context.close()

    user = _page(new_context, guarantee_name, problems)
    _watch(user, problems)
    user.goto("/tasks/")
    with user.expect_navigation():
        user.click(f"#task-table tr:has-text('{TASK_NAME}') a:has-text('{app_no}')")
    host = user.wait_for_selector("#formjs-viewer[data-rendered=true], #formjs-viewer[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")
    user.locator("#formjs-viewer textarea").fill("反担保措施充分，同意担保。")
    amount = user.locator("#formjs-viewer .fjs-form-field", has_text="担保金额").locator("input")
    amount.fill("2000000000000")           # the viewer takes it; the server's money range (1 万亿元) does not
    with user.expect_navigation():
        user.click("#formjs-submit")
    host = user.wait_for_selector("#formjs-viewer[data-rendered=true]")
    field = user.locator("#formjs-viewer .fjs-form-field", has_text="担保金额")
    user.wait_for_timeout(300)            # past the viewer's own first validation of the values shown again
    assert "金额超出允许范围" in field.locator(".fjs-form-field-error").inner_text()      # next to the field
    assert _open_task(a.units["guarantee"].id, form_id, app_new) == task_id   # nothing stored
    db.session.rollback()
    user.locator("#formjs-viewer .fjs-form-field", has_text="担保金额").locator("input").fill("800000.50")
    user.locator("#formjs-viewer textarea").fill("反担保措施充分，同意担保。")
    with user.expect_navigation():
        user.click("#formjs-submit")
    assert re.search(r"/tasks/$", user.url), user.inner_text("main")
    assert _violations(user) == []
    assert [p for p in problems if not p.endswith(f"/tasks/{task_id}")] == []   # the refusal answered 400
    assert len(problems) == 1 and problems[0].startswith("400 ")

    # the values are task data and on the timeline; the application goes on to the bank, then is filed
    assert db.session.get(HumanTask, task_id).status == "completed"
    bank_task = db.session.get(HumanTask, _open_task(a.bank.id, "bank_due_diligence", app_new))
    data = engine.task_data(bank_task)                    # the values flowed on to the bank's step
    assert (data["guarantee_amount"], data["guarantee_opinion"]) == ("800000.50", "反担保措施充分，同意担保。")
    assert "form_submitted" in [e.action for e in timeline("loan_application", app_new)]
    db.session.rollback()
    _bank_and_filing(a, login, app_new)
    process_id, _spec, done = _instance(app_new)
    assert (process_id, done) == (new_pid, True)
    assert db.session.get(LoanApplication, app_new).status == "filed"
    db.session.rollback()
