"""Registers (台账): true counts over pages, export = what the filter shows, each role only its own rows."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.accounts.operations import create_user
from app.core.db import db
from app.core.timeutil import today
from app.fund import operations as fund_ops
from app.loans.models import Loan
from tests.conftest import PASSWORD
from tests.e2e.test_compensation_http import claim_of, make_loan, ok, report

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def _bulk_loans(w, n, bank=None, amount_of=lambda i: D("100000.00") + i):
    """n loans in one commit (no filings: registers of banks and scheme members do not need them)."""
    bank = bank or w.bank
    base = db.session.scalar(select(func.max(Loan.id))) or 0
    loans = [Loan(no=f"DK-R{w.tag}-{bank.id}-{i:04d}", scheme_id=w.scheme.id, bank_id=bank.id, enterprise_id=w.firm.id,
                  sector_id=w.sector.id, contract_no=f"HT-R{w.tag}-{base + i}", product=w.scheme.params.products[0].code,
                  amount=amount_of(i), annual_rate=D("5.0000"), term_months=12,
                  disbursed_on=today() - timedelta(days=i % 300), outstanding_principal=amount_of(i), status="active")
             for i in range(n)]
    db.session.add_all(loans)
    db.session.commit()
    return loans


def _count(html: str) -> int:
    m = re.search(r'id="register-count">\D*?(\d+)', html)
    assert m, html[:3000]
    return int(m.group(1))


def _nos(html: str, tag: str) -> list[str]:
    return re.findall(rf">(DK-[RT]{tag}-[\d-]+)<", html)


def _xlsx_rows(resp):
    assert resp.status_code == 200, resp.data[:2000]
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] in ("编号", "序号"))
    return rows[header + 1:], ws, header


def test_pages_count_every_row_beyond_the_old_cut_and_export_holds_the_filtered_set(world, login):
    w = world()
    _bulk_loans(w, 520)                           # more than the old silent limit of 500
    _bulk_loans(w, 7, bank=w.bank2)
    finance = login(w.user("finance"))

    page = finance.get(f"/loans/?scheme={w.scheme.id}&bank={w.bank.id}&per_page=200").data.decode()
    assert _count(page) == 520 and "第 1/3 页" in page
    seen = []
    for p in (1, 2, 3):
        html = finance.get(f"/loans/?scheme={w.scheme.id}&bank={w.bank.id}&per_page=200&page={p}").data.decode()
        seen += _nos(html, w.tag)
    assert len(seen) == 520 and len(set(seen)) == 520          # every row once, none lost between pages
    # a page past the end shows the last page, not an empty one
    assert len(_nos(finance.get(f"/loans/?scheme={w.scheme.id}&bank={w.bank.id}&per_page=200&page=99").data.decode(),
                    w.tag)) == 120

    rows, _ws, _h = _xlsx_rows(finance.get(f"/registers/loans.xlsx?scheme={w.scheme.id}&bank={w.bank.id}"))
    assert len(rows) == 520 and {r[0] for r in rows} == set(seen)
    # a narrower filter: the page's count, the page's rows and the file agree
    q = f"scheme={w.scheme.id}&amount_min=100500&amount_max=100509.5"
    html = finance.get(f"/loans/?{q}").data.decode()
    assert _count(html) == 10
    rows, _ws, _h = _xlsx_rows(finance.get(f"/registers/loans.xlsx?{q}"))
    assert sorted(r[0] for r in rows) == sorted(_nos(html, w.tag))
    assert all(isinstance(r[5], (int, float)) and 100500 <= r[5] <= 100509.5 for r in rows)   # amounts stay numbers

    # sort: by amount ascending, then descending; a sort key that is not a column is ignored
    asc = _nos(finance.get(f"/loans/?scheme={w.scheme.id}&bank={w.bank.id}&sort=amount&per_page=20").data.decode(), w.tag)
    desc = _nos(finance.get(f"/loans/?scheme={w.scheme.id}&bank={w.bank.id}&sort=-amount&per_page=20").data.decode(),
                w.tag)
    assert asc[0].endswith("-0000") and desc[0].endswith("-0519")
    assert finance.get(f"/loans/?scheme={w.scheme.id}&sort=password_hash").status_code == 200


def test_each_role_sees_only_its_own_rows(world, login):
    w, other = world(), world()
    mine = make_loan(w, "800000.00")
    make_loan(w, "300000.00", bank=w.bank2)
    officer = login(w.user("officer"))
    ok(report(w, officer, mine, "800000.00"))
    claim = claim_of(mine)
    fund_ops.post(w.scheme.id, "payout", D("1000.00"), key=f"reg-{w.tag}", memo="=HYPERLINK(\"http://x\")",
                  ref_type="compensation_claim", ref_id=claim.id)
    db.session.commit()

    # the bank: its own loan and claim, not the other bank's; its fund movements only
    page = officer.get("/loans/").data.decode()
    assert mine.no in page and _count(page) == 1
    other_bank = login(w.user("other_bank"))
    page = other_bank.get("/loans/").data.decode()
    assert mine.no not in page and _count(page) == 1
    assert claim.no not in other_bank.get("/compensation/").data.decode()
    assert claim.no in officer.get("/compensation/").data.decode()
    rows, _ws, _h = _xlsx_rows(other_bank.get("/registers/loans.xlsx"))
    assert mine.no not in {r[0] for r in rows}
    assert _count(officer.get("/registers/fund").data.decode()) == 1
    assert _count(other_bank.get("/registers/fund").data.decode()) == 0

    # another scheme's finance bureau, financial office and regulators: nothing of this scheme
    for key in ("finance", "finoffice", "pboc", "cbirc"):
        c = login(other.user(key))
        assert mine.no not in c.get("/loans/").data.decode(), key
        assert claim.no not in c.get("/compensation/").data.decode(), key
        assert f"reg-{w.tag}" not in c.get("/registers/fund").data.decode(), key
        # the foreign scheme is not offered as a filter; asked for anyway, it is refused, not applied
        html = c.get(f"/loans/?scheme={w.scheme.id}").data.decode()
        assert "filter-error" in html and mine.no not in html, key
        assert c.get(f"/registers/loans.xlsx?scheme={w.scheme.id}").status_code == 400, key
        # this scheme's own members see it, read-only
        own = login(w.user(key))
        assert mine.no in own.get("/loans/").data.decode(), key
    # the department sees the applications and loans it reviewed (none here), not the claims register
    dept = login(w.user("dept"))
    assert _count(dept.get("/loans/").data.decode()) == 0
    assert dept.get("/registers/claims").status_code == 403
    # the firm: its own, and no fund register
    firm = login(w.user("firm"))
    assert mine.no in firm.get("/loans/").data.decode()
    assert firm.get("/registers/fund").status_code == 403 and firm.get("/registers/fund.xlsx").status_code == 403
    assert mine.no not in login(other.user("firm")).get("/loans/").data.decode()
    # a data-source unit sees no register at all
    src = Organisation(kind="data_source", name=f"税务{w.tag}", code=f"ds-reg-{w.tag}")
    db.session.add(src)
    db.session.flush()
    create_user(src, f"dsr_{w.tag.lower()}", "报送员", PASSWORD)
    db.session.commit()
    ds = login(db.session.scalar(select(Organisation).where(Organisation.id == src.id)).users[0])
    for url in ("/registers/", "/registers/loans", "/registers/applications.xlsx", "/registers/claims",
                "/registers/fund"):
        assert ds.get(url).status_code == 403, url
    assert login(w.user("officer")).get("/registers/nothing").status_code == 404

    # the formula-like memo is text in the file, never a formula
    finance = login(w.user("finance"))
    rows, ws, header = _xlsx_rows(finance.get(f"/registers/fund.xlsx?scheme={w.scheme.id}&kind=payout"))
    assert len(rows) == 1 and rows[0][7].startswith("=HYPERLINK")
    cell = ws.cell(header + 2, 8)
    assert cell.data_type == "s" and cell.quotePrefix


HOSTILE = ["Infinity", "NaN", "-1e30", "18446744073709551616", "-9223372036854775809", "9999-12-31",
           "0001-01-01", "2026-02-30", "' OR 1=1 --", "%_%", "\u202e\u0645", "x" * 5000, "[]", "-", "--amount"]


def test_hostile_filter_values_never_fail_the_export(world, login):
    """(The pages' filter forms are fuzzed by tests/e2e/test_fuzz_filters.py; the files are not linked from a form.)"""
    from app.registers.definitions import REGISTERS
    w = world()
    make_loan(w, "500000.00")
    finance = login(w.user("finance"))
    params = {f.name for r in REGISTERS.values() for f in r.filters} | {"page", "per_page", "sort"}
    for name in ("applications", "loans", "claims", "fund"):
        for param in sorted(params):
            for value in HOSTILE:
                r = finance.get(f"/registers/{name}.xlsx", query_string={param: value})
                assert r.status_code in (200, 400), (name, param, value, r.status_code)


def test_registers_and_dashboards_read_in_english(world, login):
    from tests.e2e.test_i18n import _name_orgs_in_english, _titles, english
    w = world()
    _name_orgs_in_english(w)
    make_loan(w, "500000.00")
    db.session.commit()
    for key in ("finance", "officer"):
        c = login(w.user(key))
        c.get("/tasks/?lang=en")
        for url in ("/registers/", "/registers/loans", "/registers/applications", "/registers/claims",
                    "/registers/fund", "/loans/?scheme=x", "/dashboards/"):
            english(c, url, data=_titles())


def test_dashboards_show_each_role_its_own(world, login):
    w, other = world(), world()
    make_loan(w, "700000.00")
    make_loan(w, "123456.00", bank=w.bank2)
    fund_ops.post(w.scheme.id, "payout", D("4321.00"), key=f"dash-own-{w.tag}")
    db.session.commit()
    for key in ("finance", "finoffice", "pboc", "cbirc"):
        page = login(w.user(key)).get("/dashboards/").data.decode()
        assert "4,321.00" in page, key                     # (scheme names repeat: every world uses the preset's)
        foreign = login(other.user(key)).get("/dashboards/").data.decode()
        assert "4,321.00" not in foreign, key
        # a scheme the user does not belong to, asked for by id: refused, not shown
        asked = login(other.user(key)).get(f"/dashboards/?scheme={w.scheme.id}").data.decode()
        assert "alert-warning" in asked and "4,321.00" not in asked, key
    officer = login(w.user("officer")).get("/dashboards/").data.decode()
    assert "700,000.00" in officer and "123,456.00" not in officer
    assert "123,456.00" in login(w.user("other_bank")).get("/dashboards/").data.decode()
    for key in ("firm", "dept", "centre", "guarantee"):
        assert login(w.user(key)).get("/dashboards/").status_code == 403, key


def test_the_inbox_pages_with_its_true_count_instead_of_stopping_at_100(world, login):
    from app.notifications.models import Notification
    w = world()
    user = w.user("finance")
    db.session.add_all([Notification(key=f"reg-{w.tag}-{i}", user_id=user.id, kind="info", title=f"通知{w.tag}-{i:03d}")
                        for i in range(120)])
    db.session.commit()
    c = login(user)
    titles = []
    for p in (1, 2, 3):
        html = c.get(f"/notifications/?page={p}").data.decode()
        assert "共 120 条" in html and f"第 {p}/3 页" in html
        titles += re.findall(rf"通知{w.tag}-\d+", html)
    assert len(set(titles)) == 120
    for hostile in ("0", "-5", "abc", "18446744073709551616", "1e9"):
        assert c.get(f"/notifications/?page={hostile}").status_code == 200, hostile
    # other query arguments the pager carries on cannot steer url_for
    assert c.get("/notifications/?page=2&_scheme=javascript&_external=1&endpoint=x").status_code == 200
