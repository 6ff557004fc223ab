"""The Content-Security-Policy holds in Chromium: the pages work and not one violation is reported."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.applications.models import LoanApplication
from app.core.db import db
from tests.conftest import PASSWORD, application_form

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""


def _page(new_context, username, problems):
    context = new_context(locale="zh-CN")
    context.add_init_script(WATCH)
    r = context.request.get("/login")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', r.text()).group(1)
    r = context.request.post("/login", form={"csrf_token": token, "username": username, "password": PASSWORD},
                             max_redirects=0)
    assert r.status == 302
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _watch(page, problems, levels=("error",)):
    """Console messages of these levels (a failed load is reported by its response instead, with its URL) and
    answers of 400 or more (the browser's own favicon request aside) go to ``problems``."""
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in levels and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)


def _violations(page):
    return page.evaluate("window.__csp")


def test_pages_work_under_the_csp(world, login, new_context):
    w = world()
    firm_client = login(w.user("firm"))
    assert firm_client.post("/applications/new", data=application_form(w)).status_code == 302
    app_id = db.session.scalar(select(LoanApplication.id).where(LoanApplication.enterprise_id == w.firm.id))
    firm_name, scheme_id, bank_id = w.u["firm"].username, w.scheme.id, w.bank.id
    db.session.rollback()

    problems: list[str] = []
    page = _page(new_context, firm_name, problems)
    # the application page: bpmn-js draws the diagram
    page.goto(f"/applications/{app_id}")
    el = page.wait_for_selector("#diagram[data-rendered=true], #diagram[data-error]")
    assert el.get_attribute("data-error") is None, el.get_attribute("data-error")
    assert page.locator("#diagram svg").count() >= 1
    assert _violations(page) == []
    # the new-application form: its script (a static file now) fills the banks of the chosen policy
    page.goto("/applications/new")
    page.select_option("select[name=scheme_id]", str(scheme_id))
    page.dispatch_event("select[name=scheme_id]", "change")
    assert str(bank_id) in page.eval_on_selector_all("select[name=consent_bank_id] option",
                                                     "os => os.map(o => o.value)")
    assert _violations(page) == []
    # htmx-driven pages and the task queue
    page.goto("/tasks/")
    page.goto("/notifications/")
    assert _violations(page) == []
    assert problems == []
