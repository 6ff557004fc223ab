"""English mode shows no Chinese except names and data (issue 14).

Each role crawls its pages in English (same-site GET links from ``/``, a few pages per route) and every
text node and every visible attribute text (title, placeholder, aria-label, alt, button values) is checked
for Chinese characters.  Exempt: text inside an element that says it is Chinese (``lang="zh…"``) and the
data this test's world holds (organisation, user, sector, scheme names as stored, what the firm typed).

The crawl runs on an app of its own over a fresh SQLite database, so that what other tests typed (an
opinion, a publicity venue) cannot appear on the administrator's pages: the data it exempts is exactly
the data it made.  (The pages, not the database, are under test here.)
"""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


from tests.e2e.test_compensation_http import claim_of, make_loan, ok, report
from tests.e2e.test_fuzz_forms import SKIP_LINK
from tests.e2e.test_loan_flow_http import _submit

PAGES_PER_ENDPOINT = 2
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\u3001-\u3011\uff0c\uff1a\uff1b]+")
VISIBLE_ATTRS = ("title", "placeholder", "aria-label", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []     # (tag, exempt)
        self.found: list[str] = []
        self.links: list[str] = []

    def _exempt(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        exempt = self._exempt() or (a.get("lang") or "").lower().startswith("zh") or tag in ("script", "style", "textarea")
        if not exempt:
            for name in VISIBLE_ATTRS:
                if a.get(name) and CJK.search(a[name]):
                    self.found.append(f"<{tag} {name}> {a[name]}")
            if tag == "input" and (a.get("type") or "") in ("submit", "button") and a.get("value") and CJK.search(a["value"]):
                self.found.append(f"<input value> {a['value']}")
        if tag not in VOID:
            self.stack.append((tag, exempt))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._exempt() and CJK.search(data):
            self.found.append(data.strip())


def _strip_data(text, data):
    for d in data:
        text = text.replace(d, "")
    return text


def _crawl(client, adapter, data, problems, visited):
    seen, todo, per_endpoint = set(), deque(["/?lang=en"]), {}
    while todo:
        url = todo.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=True)
        is_page = r.status_code == 200 and r.mimetype.startswith("text/html")
        body = r.get_data(as_text=True) if is_page else ""
        r.close()
        if not is_page:
            continue
        assert '<html lang="en">' in body, r.request.path
        visited.add(adapter.match(r.request.path, method="GET")[0])
        p = _Text()
        p.feed(body)
        for text in p.found:
            rest = _strip_data(text, data)
            if CJK.search(rest):
                problems.setdefault(rest[:80], (client.username, r.request.path))
        page_url = r.request.path
        for href in p.links:
            parts = urlsplit(urljoin(page_url, href))
            if parts.netloc not in ("", "localhost") or SKIP_LINK.search(parts.path) or parts.path in seen:
                continue
            if "lang=" in (parts.query or ""):
                continue
            try:
                endpoint, _args = adapter.match(parts.path, method="GET")
            except Exception:
                continue
            if per_endpoint.get(endpoint, 0) < PAGES_PER_ENDPOINT:
                per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
                todo.append(parts.path)


def test_english_pages_show_no_chinese_outside_data(fresh_app):
    from tests.conftest import Browser, World
    app = fresh_app
    w = World("qianjiang_2018", app)

    def login(user):
        return Browser(app, user.username)
    loan = make_loan(w, "800000.00")
    officer = login(w.user("officer"))
    ok(report(w, officer, loan, "800000.00"))
    claim_of(loan)
    # an application waiting in the bank's queue: with the other bank (the overdue report suspended the first)
    _submit(w, login, consent_bank_id=str(w.bank2.id), preferred_bank_id=str(w.bank2.id))
    from app.accounts.models import Organisation, Sector, User
    from app.core.db import db
    from app.policies.models import Scheme
    from sqlalchemy import select
    data = set()
    # names as stored (the world's organisations have no English names); scheme names are not data: each
    # scheme has its English name, so a Chinese one on an English page is a missing |localname
    for model, cols in ((Organisation, ("name",)), (User, ("display_name",)), (Sector, ("name",)), (Scheme, ())):
        for row in db.session.scalars(select(model)):
            for c in cols:
                v = getattr(row, c, None)
                if v:
                    data.add(v)
    data |= {"采购原材料", "按月付息，到期还本", "销售回款", "贷前调查", "连续三期未付息，本金逾期"}   # typed by the test
    data = sorted(data, key=len, reverse=True)
    adapter = app.url_map.bind("localhost")
    problems: dict = {}
    visited: set = set()
    for key in ("firm", "dept", "officer", "finance", "finoffice", "pboc", "cbirc", "guarantee", "gov", "admin"):
        _crawl(login(w.user(key)), adapter, data, problems, visited)
    for endpoint in ("tasks.queue", "tasks.show", "compensation.show", "fund.show", "registers.show", "dashboards.index",
                     "duties.index", "notifications.index", "admin.scheme", "credit.blacklist_index", "credit.public_list",
                     "cockpit.instance", "loanbook.index", "reports.show"):
        assert endpoint in visited, f"the crawl did not reach {endpoint}: {sorted(visited)}"
    lines = [f"{who} {path}: {text!r}" for text, (who, path) in sorted(problems.items(), key=lambda kv: kv[1])]
    assert not problems, f"{len(problems)} Chinese texts on English pages:\n" + "\n".join(lines[:300])
