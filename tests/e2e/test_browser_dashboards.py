"""Each dashboard in Chinese and English in Chromium: every chart draws (a canvas, ECharts in the page's
language), the table behind it opens with one click, and the console stays clean (no error, no CSP report)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.core.db import db
from app.fund import operations as fund_ops
from tests.e2e.test_browser_csp import _page as csp_page, _violations, _watch
from tests.e2e.test_compensation_http import claim_of, make_loan, ok, report

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("retire_new_schemes")]

def _page(new_context, username, problems):
    """Logged in (test_browser_csp's page, which records CSP reports and page errors), with console errors and
    warnings and failed answers recorded too."""
    page = csp_page(new_context, username, problems)
    page.set_default_timeout(15_000)
    _watch(page, problems, levels=("error", "warning"))
    return page


def test_dashboards_draw_in_both_languages(world, login, new_context):
    w = world()
    loans = [make_loan(w, "800000.00"), make_loan(w, "500000.00"), make_loan(w, "300000.00", bank=w.bank2)]
    officer = login(w.user("officer"))
    ok(report(w, officer, loans[0], "800000.00"))
    claim_of(loans[0])
    fund_ops.post(w.scheme.id, "payout", D("20000.00"), key=f"dash-{w.tag}", memo="测试拨付")
    db.session.commit()
    users = {key: w.u[key].username for key in ("finance", "finoffice", "pboc", "cbirc", "officer")}
    db.session.rollback()

    for key, username in users.items():
        problems: list[str] = []
        page = _page(new_context, username, problems)
        for lang, locale, title in (("zh", "ZH", "保存为图片"), ("en", "EN", "Save as Image")):
            page.goto(f"/lang/{lang}?next=/dashboards/")
            assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
            charts = page.locator(".zx-chart")
            n = charts.count()
            assert n >= (3 if key == "officer" else 4), (key, lang, n)
            page.wait_for_function(f"document.querySelectorAll('.zx-chart[data-drawn={locale}]').length === {n}")
            for i in range(n):
                assert charts.nth(i).locator("canvas").count() >= 1, (key, lang, i)
            # ECharts' own texts follow the page's language
            saved = page.evaluate("echarts.getInstanceByDom(document.querySelector('.zx-chart'))"
                                  ".getOption().toolbox[0].feature.saveAsImage.title")
            assert saved == title, (key, lang, saved)
            # the table behind a chart: one click
            first = page.locator("details").first
            first.locator("summary").click()
            assert first.locator("table").is_visible()
            assert _violations(page) == []
            if key in ("pboc", "cbirc"):
                assert page.locator("#read-only").count() == 1 and page.locator("main form[method=post]").count() == 0
        assert problems == [], (key, problems)
        page.context.close()
