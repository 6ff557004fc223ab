"""The form-js viewer in headless Chromium: a task of a deployed .form is drawn by @bpmn-io/form-js-viewer
(served locally), in Chinese, its own checks speak Chinese, and a filled form is submitted and stored —
with no console error and no Content-Security-Policy violation."""
from __future__ import annotations

import re

import pytest

from app.core.db import db
from app.core.timeutil import today
from app.workflow import engine
from app.workflow.models import HumanTask
from tests.e2e.test_browser_csp import _page, _violations
from tests.e2e.test_formjs_http import start_guarantee_review

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("retire_new_schemes")]


def _field(page, label):
    return page.locator(".fjs-form-field", has=page.locator("label", has_text=re.compile("^" + re.escape(label))))


def test_the_viewer_renders_and_submits_the_form(world, new_context):
    w = world()
    ht_id = start_guarantee_review(w)
    username = w.u["guarantee"].username
    db.session.rollback()

    problems: list[str] = []
    page = _page(new_context, username, problems)
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(f"/tasks/{ht_id}")
    host = page.wait_for_selector("#formjs-viewer[data-rendered=true], #formjs-viewer[data-error]")
    assert host.get_attribute("data-error") is None, host.get_attribute("data-error")
    assert page.locator("#formjs-fallback [name]").count() == 0          # one set of fields: the viewer's
    assert page.locator("#formjs-viewer .fjs-form").count() == 1
    # the date picker (flatpickr) speaks Chinese too: weekday and month names
    assert page.locator("#formjs-viewer .flatpickr-weekday").first.inner_text().strip() == "周日"
    assert "月" in page.locator("#formjs-viewer .flatpickr-monthDropdown-month").first.inner_text()
    assert page.locator("#formjs-viewer button").filter(has_text="提交").count() == 0   # the page's button only

    page.click("#formjs-submit")                                         # empty: the viewer refuses, in Chinese
    assert "此项为必填项。" in " ".join(page.locator(".fjs-form-field-error").all_inner_texts())
    assert page.url.endswith(f"/tasks/{ht_id}")

    _field(page, "担保意见").locator(".fjs-select-display").click()
    page.locator(".fjs-dropdownlist-item", has_text=re.compile("^同意担保$")).click()
    _field(page, "担保金额").locator("input").fill("800000.50")
    until = today().replace(year=today().year + 1).isoformat()
    date_input = _field(page, "担保截止日").locator("input").first
    date_input.fill(until)
    date_input.press("Enter")
    _field(page, "担保合同号").locator("input").fill("DB-20261")
    _field(page, "审查意见").locator("textarea").fill("反担保措施充分，同意担保。")
    for label in ("营业执照", "已提供反担保"):
        # leave the field being edited first: form-js validates it on blur and the messages it removes shift
        # the layout, which would move the box between mouse-down and mouse-up
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(100)
        page.get_by_label(label).click()
        assert page.get_by_label(label).is_checked()
    page.click("#formjs-submit")
    page.wait_for_url(re.compile(r"/tasks/$"))
    assert _violations(page) == []
    assert problems == []

    db.session.expire_all()
    ht = db.session.get(HumanTask, ht_id)
    assert ht.status == "completed"
    data = engine.workflow_data(ht.instance)
    assert (data["decision"], data["guarantee_amount"], data["guarantee_until"]) == ("approve", "800000.50", until)
    assert data["checked_items"] == ["licence"] and data["counter_guarantee"] is True
    assert data["guarantee_opinion"] == "反担保措施充分，同意担保。"
    db.session.rollback()
