"""The loan-application flow in headless Chromium against the real app on a local port.

Each role works in its own browser context (own cookies).  The test thread reads the database
only between browser steps and ends each read with a rollback, so it never holds a transaction
(on SQLite every transaction takes the write lock) while the server is handling a request.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.applications.models import Attachment, LoanApplication
from app.core.db import db
from app.loans.models import Filing, Loan
from tests.conftest import PASSWORD, PDF, PNG

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUBMIT = "main form[novalidate] button[type=submit]"


def _snapshot(w, *keys):
    """Plain values of the world (ids, usernames), read in one short transaction."""
    out = {"scheme": w.scheme.id, "sector": w.sector.id, "bank": w.bank.id,
           "users": {k: w.u[k].username for k in keys}}
    db.session.rollback()
    return out


def _login(new_context, username):
    """A browser context logged in as ``username``.

    The login form itself is covered by the HTTP tests; here the context's request API posts it
    (sharing the context's cookies), which saves a page load and two form fills per role.
    """
    context = new_context(locale="zh-CN")
    r = context.request.get("/login")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', r.text()).group(1)
    r = context.request.post("/login", form={"csrf_token": token, "username": username, "password": PASSWORD},
                             max_redirects=0)
    assert r.status == 302, f"login failed for {username}"
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _open_task(page, app_no):
    page.goto("/tasks/")
    page.click(f"#task-table a:has-text('{app_no}')")
    page.wait_for_url(re.compile(r"/tasks/\d+$"))


def _errors(page) -> str:
    return " | ".join(page.locator(".invalid-feedback, #form-error, main .alert").all_inner_texts())


def _submit_task(page):
    with page.expect_navigation():
        page.click(SUBMIT)
    assert re.search(r"/tasks/$", page.url), _errors(page)
    assert page.locator(".alert-success").count() == 1, _errors(page)


def _diagram(page, app_id, *, reload=True):
    """Open the application page, wait for bpmn-js, return (current ids, finished ids, timeline actions)."""
    if reload:
        page.goto(f"/applications/{app_id}")
    el = page.wait_for_selector("#diagram[data-rendered=true], #diagram[data-error]")
    assert el.get_attribute("data-error") is None, el.get_attribute("data-error")
    assert page.locator("#diagram svg").count() >= 1
    ids = "els => els.map(e => e.getAttribute('data-element-id'))"
    current = page.eval_on_selector_all("#diagram .djs-element.zx-current", ids)
    done = page.eval_on_selector_all("#diagram .djs-element.zx-done", ids)
    actions = page.eval_on_selector_all("#timeline li[data-action]", "els => els.map(e => e.dataset.action)")
    return sorted(current), set(done), actions


def _english_nav(page):
    """The language switch: English link → <html lang=en>; nav text in English once a catalog exists."""
    with page.expect_navigation():
        page.click("nav a:has-text('English')")
    assert page.get_attribute("html", "lang") == "en"
    po = PROJECT_ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    if po.exists() and po.with_suffix(".mo").exists():
        from babel.messages.pofile import read_po
        with po.open("rb") as f:
            catalog = read_po(f)
        nav = page.inner_text("nav")
        for msgid in ("我的待办", "贷款申请", "贷款台账"):
            msg = catalog.get(msgid)
            if msg is not None and msg.string and not msg.fuzzy:
                assert msg.string in nav and msgid not in nav, (msgid, nav)
    # (no catalog yet: only the lang attribute and the link back are checked)
    with page.expect_navigation():
        page.click("nav a:has-text('中文')")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "我的待办" in page.inner_text("nav")


@pytest.mark.parametrize("preset,units", [("qianjiang_2018", ["finoffice"]),
                                          ("jiangjin_2020", ["finance", "centre", "guarantee"])])
def test_loan_application_in_browser(world, new_context, tmp_path, preset, units):
    w = world(preset)
    s = _snapshot(w, "firm", "dept", "officer", *units)
    users = s["users"]

    # -- enterprise submits the form with a PDF and a PNG
    firm = _login(new_context, users["firm"])
    firm.goto("/applications/new")
    f = "#application-form "
    firm.select_option(f + "select[name=scheme_id]", str(s["scheme"]))
    firm.select_option(f + "select[name=sector_id]", str(s["sector"]))
    firm.fill(f + "input[name=amount]", "1000000.00")
    firm.fill(f + "input[name=term_months]", "12")
    firm.select_option(f + "select[name=activity]", "working_capital")
    firm.fill(f + "textarea[name=purpose]", "采购原材料")
    firm.fill(f + "textarea[name=repayment_plan]", "按月付息，到期还本")
    firm.fill(f + "textarea[name=repayment_source]", "销售回款")
    firm.select_option(f + "select[name=preferred_bank_id]", str(s["bank"]))
    firm.select_option(f + "select[name=credit_rating]", "A")
    firm.set_input_files(f + "input[name=business_licence]",
                         [{"name": "licence.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    firm.set_input_files(f + "input[name=financial_statements]",
                         [{"name": "statements.png", "mimeType": "image/png", "buffer": PNG}])
    firm.select_option(f + "select[name=consent_bank_id]", str(s["bank"]))
    firm.fill(f + "input[name=consent_valid_until]", (date.today() + timedelta(days=90)).isoformat())
    firm.check(f + "input[name=consent_agree]")
    with firm.expect_navigation():
        firm.click(f + "button[type=submit]")
    assert re.search(r"/applications/\d+$", firm.url), _errors(firm)
    app_id = int(firm.url.rsplit("/", 1)[1])
    a = db.session.get(LoanApplication, app_id)
    app_no, enterprise_id = a.no, a.enterprise_id
    n_files = len(db.session.scalars(select(Attachment).where(Attachment.subject_id == app_id)).all())
    db.session.rollback()
    assert n_files == 2
    assert app_no in firm.inner_text("h1")

    current, done, actions = _diagram(firm, app_id, reload=False)   # where the form redirected
    assert current == ["department_review"] and "start_submitted" in done
    assert actions == ["submitted"]

    # -- department recommends to the bank
    dept = _login(new_context, users["dept"])
    _open_task(dept, app_no)
    dept.check("input[name=decision][value=recommend]")
    dept.select_option("select[name=bank_id]", str(s["bank"]))
    dept.fill("textarea[name=opinion]", "经营正常，信用良好，符合产业方向")
    _submit_task(dept)

    # -- bank officer claims; part-way the diagram shows the bank step as current
    officer = _login(new_context, users["officer"])
    _open_task(officer, app_no)
    task_url = officer.url
    officer.click("#claim-btn")
    officer.wait_for_selector("#claimed-by")
    current, done, actions = _diagram(officer, app_id)
    assert current == ["bank_due_diligence"]
    assert {"start_submitted", "department_review", "gw_department"} <= done
    assert actions == ["submitted", "department_recommend", "claimed"]

    officer.goto(task_url)
    officer.check("input[name=decision][value=approve]")
    officer.fill("textarea[name=opinion]", "调查属实")
    officer.fill("input[name=contract_no]", f"HT-{app_no}")
    officer.select_option("select[name=product]", index=1)   # the preset's product (0 is "—")
    # 江津 requires the controllers' joint guarantee: the box is shown only where the policy asks for it
    assert officer.locator("input[name=joint_guarantee]").count() == (1 if preset == "jiangjin_2020" else 0)
    if preset == "jiangjin_2020":
        officer.check("input[name=joint_guarantee]")
    officer.fill("input[name=amount]", "1000000.00")
    officer.fill("input[name=annual_rate]", "5.22")
    officer.fill("input[name=term_months]", "12")
    officer.fill("input[name=disbursed_on]", date.today().isoformat())
    _submit_task(officer)

    # -- the filing recipients of this preset acknowledge
    for i, key in enumerate(units):
        unit = _login(new_context, users[key])
        _open_task(unit, app_no)
        unit.fill("textarea[name=note]", "已备案")
        _submit_task(unit)
        if i == 0 and len(units) > 1:
            current, _done, _a = _diagram(unit, app_id)
            assert current == ["filing_ack"]   # the other recipients are still to acknowledge

    # -- the firm sees everything finished
    current, done, actions = _diagram(firm, app_id)
    assert current == []
    assert {"start_submitted", "department_review", "gw_department", "bank_due_diligence", "gw_bank",
            "filing_ack", "end_filed"} <= done
    assert "enterprise_supplement" not in done and "end_rejected" not in done
    assert actions == (["submitted", "department_recommend", "bank_approved"]
                       + ["filing_acknowledged"] * len(units) + ["filed"])
    assert "经营正常，信用良好，符合产业方向" in firm.inner_text("#timeline")
    assert firm.locator("#loan-card").count() == 1
    if preset == "jiangjin_2020":
        shot = tmp_path / "application.png"
        firm.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

    a = db.session.get(LoanApplication, app_id)
    loan = db.session.scalar(select(Loan).where(Loan.application_id == app_id))
    filings = db.session.scalars(select(Filing).where(Filing.loan_id == loan.id)).all()
    status, loan_status, acked = a.status, loan.status, [bool(f.acknowledged_at) for f in filings]
    assert a.enterprise_id == enterprise_id
    db.session.rollback()
    assert status == "filed" and loan_status == "active" and acked == [True] * len(units)

    if preset == "qianjiang_2018":
        _english_nav(firm)
