"""Every GET filter form (registers, fund ledger, dashboards, task queue, cockpit ...), every field, the hostile
values of tests/e2e/test_fuzz_forms.py: never a 5xx.

Discovery as in the POST fuzz test: each role crawls the site from ``/`` (same-site links, GET only) and
every ``<form method="get">`` found is fuzzed field by field, the other fields keeping their values.
Bounded: one form per (route, field set), the fixed corpus, a few roles.
"""
from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.e2e.test_compensation_http import claim_of, make_loan, ok, report
from tests.e2e.test_fuzz_forms import CHOICE, DATE, NUMBER, SKIP_LINK, TEXT

pytestmark = pytest.mark.usefixtures("retire_new_schemes")
PAGES_PER_ENDPOINT = 2
EXTRA = ["-", "--amount", "%_%", "' OR 1=1 --", "2026-02-30", "[]", "1.5", "-1"]


class _GetForms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.links = [], []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "get":
            self._form = {"action": a.get("action"), "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and a.get("name") and tag in ("input", "select", "textarea"):
            kind = "select" if tag == "select" else (a.get("type") or "text").lower()
            self._form["fields"].setdefault(a["name"], {"kind": kind, "value": a.get("value") or ""})

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _crawl(client, adapter):
    seen, found, todo, per_endpoint = set(), [], deque(["/"]), {}
    while todo:
        url = todo.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=True)
        is_page = r.status_code == 200 and r.mimetype.startswith("text/html")
        body = r.get_data(as_text=True) if is_page else ""
        r.close()   # a download (an upload served from disk) holds its file open until closed
        if not is_page:
            continue
        page_url = r.request.path
        p = _GetForms()
        p.feed(body)
        for form in p.forms:
            form["url"] = urljoin(page_url, form["action"] or page_url)
            found.append(form)
        for href in p.links:
            parts = urlsplit(urljoin(page_url, href))
            if parts.netloc not in ("", "localhost") or SKIP_LINK.search(parts.path) or parts.path in seen:
                continue
            try:
                endpoint, _args = adapter.match(parts.path, method="GET")
            except Exception:   # not a page
                continue
            if per_endpoint.get(endpoint, 0) < PAGES_PER_ENDPOINT:
                per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
                todo.append(parts.path)
    return found


def _corpus(kind):
    base = {"number": NUMBER, "date": DATE, "select": CHOICE}.get(kind, TEXT)
    return base + EXTRA


def test_every_get_filter_refuses_hostile_values(app, world, login):
    w = world()
    loan = make_loan(w, "800000.00")
    officer = login(w.user("officer"))
    ok(report(w, officer, loan, "800000.00"))
    claim_of(loan)
    adapter = app.url_map.bind("localhost")
    targets = {}
    for key in ("finance", "officer", "admin"):   # the filter forms of the other roles are the same forms
        client = login(w.user(key))
        for form in _crawl(client, adapter):
            path = urlsplit(form["url"]).path
            try:
                endpoint, _args = adapter.match(path, method="GET")
            except Exception:
                continue
            visible = {n: f for n, f in form["fields"].items() if f["kind"] not in ("hidden", "submit", "button")}
            if visible:
                targets.setdefault((endpoint, tuple(sorted(visible))), (client, form))
    reached = {endpoint for endpoint, _names in targets}
    for expected in ("loans.index", "applications.index", "compensation.index", "registers.show", "fund.show",
                     "dashboards.index"):
        assert expected in reached, f"no GET filter form reached on {expected}: {sorted(reached)}"

    failures = []
    for (endpoint, _names), (client, form) in sorted(targets.items(), key=lambda kv: kv[0]):
        base = {n: f["value"] for n, f in form["fields"].items()}
        for name, f in form["fields"].items():
            if f["kind"] in ("hidden", "submit", "button"):
                continue
            for value in _corpus(f["kind"]):
                r = client.get(form["url"], query_string={**base, name: value})
                if r.status_code >= 500:
                    failures.append(f"{r.status_code}: {endpoint} {form['url']} [{name}={value[:20]!r}] as {client.username}")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures, {len(targets)} forms)"
