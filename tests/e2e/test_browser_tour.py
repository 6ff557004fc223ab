"""The README's picture tour: each role's main page in Chromium, in Chinese, at 1366 × 900.

The test asserts that each page draws (status 200, the page's heading present, no console error) and
writes one PNG per role.  With ``ZX_SCREENSHOTS=docs/screenshots`` set, the PNGs go there and the
README shows them; without it they go to the test's temporary directory, so an ordinary run of the
suite changes no file in the checkout:

    ZX_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/e2e/test_browser_tour.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_browser_a11y import _login, _settle, pages  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

TOUR = [  # (file, role, page, what it shows)
    ("firm.png", "firm", "/applications/", "企业：我的贷款申请、状态和下一步"),
    ("department.png", "dept", "/home", "行业主管部门：工作台（今日待办、报送任务）"),
    ("department-review.png", "dept", "task", "行业主管部门：审核推荐（流程图与当前环节）"),
    ("bank.png", "officer", "/home", "合作银行：工作台"),
    ("bank-claim.png", "officer", "claim", "合作银行：补偿申请与计算过程"),
    ("finance-fund.png", "finance", "fund", "财政局：风险补偿基金台账"),
    ("finoffice-oversight.png", "finoffice", "/compensation/dashboard", "金融办：补偿督办"),
    ("regulator-dashboard.png", "cbirc", "/dashboards/", "银保监：统计看板"),
    ("admin.png", "admin", "/admin/schemes", "管理员：政策与参数"),
]


def _url(tour_pages, role, which):
    urls = tour_pages.roles[role][1]
    if which == "task":
        return next(u for u in urls if u.startswith("/tasks/") and u != "/tasks/")
    if which == "claim":
        return next(u for u in urls if u.startswith("/compensation/") and u.rstrip("/") != "/compensation")
    if which == "fund":
        return next(u for u in urls if u.startswith("/fund/") and u != "/fund/")
    return which


def test_picture_tour_of_each_roles_main_page(pages, new_context, tmp_path):  # noqa: F811
    out = Path(os.environ.get("ZX_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, role, which, _caption in TOUR:
        page = _login(new_context, pages.roles[role][0])
        errors = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        url = _url(pages, role, which)
        _settle(page, url)
        if page.locator("h1").count() == 0:
            problems.append(f"{role} {url}: no heading")
        if errors:
            problems.append(f"{role} {url}: console {errors}")
        page.screenshot(path=str(out / name), full_page=False)
        assert (out / name).stat().st_size > 10_000, name      # a page, not a blank
        page.context.close()
    assert not problems, "\n".join(problems)
