"""The public 公示 page in headless Chromium, without logging in: a firm on notice is shown and an
objection lodged through the page is recorded — no console error, no Content-Security-Policy violation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import db
from app.credit.models import ListObjection
from tests.e2e.test_browser_csp import WATCH
from tests.e2e.test_compensation_http import ok
from tests.e2e.test_credit_http import nominate, open_task

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("retire_new_schemes")]


def test_anyone_lodges_an_objection_on_the_public_page(world, login, new_context):
    w = world("lingyuan_2020")
    n = nominate(w, login)
    office = login(w.user("finoffice"))
    for key, decision in (("list_office_review", "approve"), ("list_credit_check", "pass")):
        t = open_task(w.units["finoffice"].id, key, "list_nomination", n.id)
        ok(office.post(f"/tasks/{t.id}", data={"decision": decision, "opinion": "通过"}))
    n_id, firm_name = n.id, w.firm.name
    db.session.rollback()

    problems: list[str] = []
    context = new_context(locale="zh-CN")                 # no login
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text)     # the refused post answers 400, by design
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login")
    page.click("#public-list-link")
    card = page.locator(f"#notice-{n_id}")
    assert firm_name in card.inner_text()
    card.locator("summary").click()
    card.locator("textarea[name=text]").fill("该企业拖欠供应商货款，请核实")
    card.locator("button[type=submit]").click()              # empty contact: refused next to the field
    assert "请留下联系方式" in page.locator(f"#notice-{n_id}").inner_text()
    card = page.locator(f"#notice-{n_id}")
    card.locator("input[name=contact]").fill("13800000000")
    card.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")
    assert "异议已登记" in page.locator(".alert-success").inner_text()
    assert page.evaluate("window.__csp") == [] and problems == [], problems

    db.session.rollback()
    objs = db.session.scalars(select(ListObjection).where(ListObjection.nomination_id == n_id)).all()
    assert [(o.contact, o.text) for o in objs] == [("13800000000", "该企业拖欠供应商货款，请核实")]
