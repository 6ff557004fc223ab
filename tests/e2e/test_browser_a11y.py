"""Each role's main pages in Chromium: axe-core finds no serious or critical WCAG 2.1 AA violation in
either language, in English the browser shows no Chinese outside passages marked lang="zh" and the
world's own data (what scripts draw included: the diagram's step list), and at 390 px wide (a phone)
no page scrolls sideways.

axe-core comes from the npm registry (a devDependency in package.json) and is injected by Playwright
from ``node_modules``: it is never served by the application.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.applications.models import LoanApplication
from app.core.db import db
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD, application_form
from tests.e2e.test_compensation_http import claim_of, make_loan, report, task

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _login(new_context, username, *, width=1366, lang="zh"):
    context = new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    r = context.request.get("/login")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', r.text()).group(1)
    r = context.request.post("/login", form={"csrf_token": token, "username": username, "password": PASSWORD},
                             max_redirects=0)
    assert r.status == 302, f"login failed for {username}"
    if lang == "en":
        context.request.get("/lang/en")
    context.add_init_script(path=str(AXE))     # an init script is not subject to the page's CSP
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _settle(page, url):
    page.goto(url)
    if page.locator("#diagram").count():
        page.wait_for_selector("#diagram[data-rendered=true], #diagram[data-error]")


def _axe(page) -> list[str]:
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    bad = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
            bad.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×) {targets}")
    return bad


RAW_KEYS = r"""() => {
  // visible text outside code samples and form values: a stored key (snake_case word) must not show
  const skip = new Set(['CODE', 'PRE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'OPTION']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    let el = node.parentElement, hidden = false;
    for (let p = el; p; p = p.parentElement) { if (skip.has(p.tagName)) { hidden = true; break; } }
    if (hidden || !el.offsetParent && el.tagName !== 'BODY') { continue; }
    const m = node.textContent.match(/\b[a-z]+(?:_[a-z0-9]+)+\b(?:#\d+)?/g);
    if (m) { found.push(...m); }
  }
  return found;
}"""


CHINESE_SHOWN = r"""() => {
  // Chinese the browser shows (scripts' output included: charts' titles, form-js labels), outside passages
  // marked Chinese (lang="zh…") and outside form values
  const skip = new Set(['SCRIPT', 'STYLE', 'TEXTAREA', 'OPTION', 'NOSCRIPT']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!/[\u3400-\u9fff]/.test(node.textContent)) { continue; }
    let el = node.parentElement, out = false;
    for (let p = el; p; p = p.parentElement) {
      if (skip.has(p.tagName) || (p.lang || '').startsWith('zh')) { out = true; break; }
    }
    if (out || !el.offsetParent && el.tagName !== 'BODY') { continue; }
    found.push(node.textContent.trim());
  }
  return found;
}"""


# data that looks like a key: test users and codes carry a world's tag (``officer_3fa9c1``), presets a
# year (``qianjiang_2018``)
DATA_WORD = re.compile(r"_(?:[0-9a-f]{6}|\d{4})$")


def _raw_keys(page) -> list[str]:
    return page.evaluate(RAW_KEYS)


CJK = re.compile(r"[\u3400-\u9fff]")


def _without(text: str, data) -> str:
    for value in data:
        text = text.replace(value, "")
    return text


def _overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.fixture
def pages(world, login):
    """A scheme with one submitted application (recommended to the bank): every role has a task or a
    record to look at.  ``roles``: {role key: (username, [main page urls])}."""
    w = world()
    assert login(w.user("firm")).post("/applications/new", data=application_form(w)).status_code == 302
    app_id = db.session.scalar(select(LoanApplication.id).where(LoanApplication.enterprise_id == w.firm.id))
    task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.status == "open")
                                .join(LoanApplication, LoanApplication.instance_id == HumanTask.instance_id)
                                .where(LoanApplication.id == app_id))
    # a loan reported overdue: a compensation claim with its diagram and the bank's recovery task
    loan = make_loan(w)
    assert report(w, login(w.user("officer")), loan, "800000.00").status_code == 302
    claim_id = claim_of(loan).id
    close_task = task(w.bank, "comp_recovery_close", claim_id)
    users = {k: w.u[k].username for k in ("firm", "dept", "officer", "finance", "finoffice", "cbirc", "admin")}
    scheme_id, close_task_id = w.scheme.id, close_task.id
    # what may stay Chinese on an English page: the names this world holds (its organisations have no
    # English names) and what its users typed
    from app.accounts.models import Organisation, Sector, User
    data = [o.name for o in db.session.scalars(select(Organisation))] + \
           [u.display_name for u in db.session.scalars(select(User))] + \
           [s.name for s in db.session.scalars(select(Sector))] + \
           ["采购原材料", "按月付息，到期还本", "销售回款", "贷前调查", "连续三期未付息，本金逾期"]
    data = sorted({d for d in data if d}, key=len, reverse=True)
    db.session.rollback()
    common = ["/tasks/", "/applications/", "/notifications/"]
    return SimpleNamespace(data=data, roles={
        "firm": (users["firm"], [*common, f"/applications/{app_id}", "/applications/new"]),
        "dept": (users["dept"], [*common, "/home", f"/tasks/{task_id}", "/firms/verification", "/duties/"]),
        "officer": (users["officer"], ["/home", "/tasks/", "/loans/", "/compensation/", f"/compensation/{claim_id}",
                                       f"/tasks/{close_task_id}", "/duties/"]),
        "finance": (users["finance"], ["/home", "/tasks/", "/fund/", f"/fund/{scheme_id}", "/compensation/"]),
        "finoffice": (users["finoffice"], ["/home", "/tasks/", "/compensation/dashboard", f"/compensation/{claim_id}", "/loans/"]),
        "cbirc": (users["cbirc"], ["/home", "/tasks/", "/fund/"]),
        "admin": (users["admin"], ["/admin/", "/admin/jobs/", "/admin/calendar/", "/admin/schemes",
                                   "/admin/workflow/instances"]),
    })


def test_main_pages_pass_axe_in_both_languages(pages, new_context):
    """…and show no stored key (``duty_created``, ``business_licence``, ``compensation_claim#1``)."""
    failures = []
    for role, (username, urls) in pages.roles.items():
        for lang in ("zh", "en"):
            page = _login(new_context, username, lang=lang)
            for url in urls:
                _settle(page, url)
                assert page.get_attribute("html", "lang") == ("en" if lang == "en" else "zh-CN")
                failures += [f"{role} {lang} {url}: {v}" for v in _axe(page)]
                failures += [f"{role} {lang} {url}: raw key {k!r} on screen" for k in _raw_keys(page)
                             if not DATA_WORD.search(k)]
                if lang == "en":      # the English crawl, as the browser draws the page
                    failures += [f"{role} en {url}: Chinese {t[:60]!r}" for t in page.evaluate(CHINESE_SHOWN)
                                 if CJK.search(_without(t, pages.data))]
            page.context.close()
    assert failures == [], "\n".join(failures)


def test_main_pages_fit_a_phone(pages, new_context):
    wide = []
    for role, (username, urls) in pages.roles.items():
        page = _login(new_context, username, width=390, lang="en")
        for url in urls:
            _settle(page, url)
            if (px := _overflow(page)) > 0:
                wide.append(f"{role} {url}: {px}px too wide")
        page.context.close()
    assert wide == [], "\n".join(wide)


def test_keyboard_diagram_and_alternative_fields(pages, new_context):
    """The skip link is the first Tab stop and moves to the content; every header link shows a focus
    ring; the diagram has a role, a name and its steps as text; approve and decline fields are not
    shown together."""
    username, urls = pages.roles["dept"]
    task_url = next(u for u in urls if u.startswith("/tasks/") and u != "/tasks/")
    page = _login(new_context, username)
    _settle(page, "/tasks/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "zx-skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    def rings(links):
        for link in links:
            link.focus()
            ring = link.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
            assert ring.startswith("solid") and not ring.endswith(" 0px"), (link.inner_text(), ring)
    rings(page.locator("nav a:visible").all())
    # the header's menus (统计与台账, 信用): opened from the keyboard, each item shows its ring too
    for toggle in page.locator("nav .dropdown-toggle").all():
        toggle.focus()
        page.keyboard.press("Enter")
        items = page.locator("nav .dropdown-menu.show a").all()
        assert items, toggle.inner_text()
        rings(items)
        page.keyboard.press("Escape")

    # the department's review: the bank choice only after "recommend"
    _settle(page, task_url)
    assert page.locator("#recommend-fields").is_hidden()
    page.check("input[name=decision][value=recommend]")
    assert page.locator("#recommend-fields").is_visible()
    page.check("input[name=decision][value=return]")
    assert page.locator("#recommend-fields").is_hidden()

    page.context.close()
    # the application page: the diagram is named and described by its list of steps
    username, urls = pages.roles["firm"]
    page = _login(new_context, username)
    _settle(page, next(u for u in urls if re.fullmatch(r"/applications/\d+", u)))
    d = page.locator("#diagram")
    assert d.get_attribute("role") == "figure" and d.get_attribute("aria-label")
    states = page.eval_on_selector_all("#diagram-steps li", "els => els.map(e => [e.dataset.elementId, e.dataset.state])")
    assert ["department_review", "current"] in states and any(s == "done" for _, s in states), states
    page.context.close()


def test_english_header_on_one_line_at_1366(pages, new_context):
    for role in ("admin", "finoffice", "officer", "firm"):
        page = _login(new_context, pages.roles[role][0], width=1366, lang="en")
        _settle(page, "/tasks/" if role != "admin" else "/admin/")
        # every item's vertical centre on the same line, and the bar no taller than one line of items
        mids = page.eval_on_selector_all(
            "nav .navbar-brand, nav .nav-link, nav .btn",
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim(), Math.round(r.top + r.height / 2)]; })")
        centres = [m for _, m in mids]
        assert max(centres) - min(centres) < 10, (role, [m for m in mids if abs(m[1] - 40) > 4])
        assert page.evaluate("document.querySelector('nav').getBoundingClientRect().height") < 70, role
        assert _overflow(page) <= 0, role
        page.context.close()
