"""The monthly statistics to 人民银行: totals of a month of data on the page, in the Excel file and the PDF;
the archive keeps what was issued; only the scheme's overseeing members read it."""
from __future__ import annotations

import io
import re
import zlib
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.accounts.models import Organisation, User
from app.applications.models import CreditAccessLog
from app.core.db import db
from app.core.timeutil import SHANGHAI, today
from app.fund import operations as fund_ops
from app.loans.models import Loan
from app.policies.models import Scheme
from app.reports.models import ArchivedReport

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def _pdf_fonts(data: bytes) -> list[bytes]:
    """Names of the fonts embedded in a PDF (its object streams are compressed)."""
    names = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            names += re.findall(rb"/BaseFont\s*/([^\s/<>]+)", zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return names


def _month():
    first = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, f"{first:%Y-%m}"


def _loan(w, bank, firm, amount, day, eligible=True, status="active"):
    n = (db.session.scalar(select(func.max(Loan.id))) or 0) + 1
    loan = Loan(no=f"DK-M{w.tag}-{n}", scheme_id=w.scheme.id, bank_id=bank.id, enterprise_id=firm.id,
                sector_id=w.sector.id, contract_no=f"HT-M{w.tag}-{n}", product=w.scheme.params.products[0].code,
                amount=D(amount), annual_rate=D("5.0000"), term_months=12, disbursed_on=day,
                outstanding_principal=D(amount), status=status, eligible=eligible)
    db.session.add(loan)
    db.session.flush()
    return loan


def _month_of_data(w):
    first, period = _month()
    before = first - timedelta(days=20)
    # bank: two firms this month (one through the credit platform), one loan before, one ineligible, one next month
    _loan(w, w.bank, w.firm, "1000000.00", first + timedelta(days=3))
    _loan(w, w.bank, w.firm, "500000.00", first + timedelta(days=10))
    _loan(w, w.bank, w.firm2, "300000.00", first + timedelta(days=12))
    _loan(w, w.bank, w.firm2, "200000.00", before)
    _loan(w, w.bank, w.firm, "999999.00", first + timedelta(days=5), eligible=False)
    _loan(w, w.bank, w.firm, "777777.00", today())
    # bank2: one loan this month, repaid since (it counts as lent, not as outstanding)
    _loan(w, w.bank2, w.firm2, "400000.00", first + timedelta(days=1), status="repaid")
    at = datetime.combine(first + timedelta(days=2), time(10), SHANGHAI).astimezone(timezone.utc)
    db.session.add(CreditAccessLog(enterprise_id=w.firm.id, user_id=w.u["officer"].id, bank_id=w.bank.id,
                                   what="credit", granted=True, at=at))
    db.session.add(CreditAccessLog(enterprise_id=w.firm2.id, user_id=w.u["officer"].id, bank_id=w.bank.id,
                                   what="credit", granted=False, at=at))     # refused: not through the platform
    fund_ops.post(w.scheme.id, "payout", D("50000.00"), key=f"m-pay-{w.tag}", booked_on=first + timedelta(days=8))
    db.session.commit()
    return period


def test_monthly_statistics_totals_page_excel_pdf_and_archive(world, login):
    w = world("qianjiang_2018")
    period = _month_of_data(w)
    pboc = login(w.user("pboc"))
    url = f"/reports/{w.scheme.id}/{period}"
    html = pboc.get(url).data.decode()
    total = re.search(r'id="total-row">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", total, re.S)]
    # firms, loans, amount this month; of which through the platform; cumulative; outstanding
    assert cells[1:10] == ["3", "4", "2,200,000.00", "1", "2", "1,500,000.00", "5", "2,400,000.00", "2,000,000.00"]
    assert "50,000.00" in html                                          # the month's payout

    xlsx = pboc.get(url + ".xlsx")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "合计")
    assert list(row[1:10]) == [3, 4, 2200000, 1, 2, 1500000, 5, 2400000, 2000000]
    pdf = pboc.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert any(b"WenQuanYi" in f or b"CJK" in f for f in _pdf_fonts(pdf.data)), _pdf_fonts(pdf.data)   # CJK glyphs

    # archived once by 人民银行; later data does not change the archived month; archiving again adds nothing
    finance = login(w.user("finance"))
    assert 'id="archive-form"' not in finance.get(url).data.decode()
    assert finance.post(url + "/archive").status_code == 403
    r = pboc.post(url + "/archive")
    assert r.status_code == 302, r.data[:500]
    first, _period = _month()
    _loan(w, w.bank, w.firm, "123456.00", first + timedelta(days=15))
    db.session.commit()
    html = pboc.get(url).data.decode()
    assert 'id="archived"' in html and "2,200,000.00" in html and "2,323,456.00" not in html
    ws = load_workbook(io.BytesIO(pboc.get(url + ".xlsx").data)).active
    assert next(r for r in ws.iter_rows(values_only=True) if r[0] == "合计")[3] == 2200000
    assert login(w.user("finoffice")).post(url + "/archive").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ArchivedReport).where(
        ArchivedReport.scheme_id == w.scheme.id)) == 1


def test_who_reads_the_monthly_statistics(world, login):
    w, other = world("qianjiang_2018"), world("qianjiang_2018")
    _first, period = _month()
    url = f"/reports/{w.scheme.id}/{period}"
    for key in ("finance", "finoffice", "pboc", "cbirc", "admin"):
        assert login(w.user(key)).get(url).status_code == 200, key
    for key in ("firm", "dept", "centre"):
        c = login(w.user(key))
        assert c.get("/reports/").status_code == 403 and c.get(url).status_code == 404, key
    for key in ("officer", "guarantee"):      # reporters: the index lists only their own reports
        c = login(w.user(key))
        index = c.get("/reports/")
        assert index.status_code == 200 and url not in index.data.decode() and c.get(url).status_code == 404, key
    foreign = login(other.user("pboc"))
    assert foreign.get(url).status_code == 404 and foreign.get(url + ".xlsx").status_code == 404
    assert foreign.post(url + "/archive").status_code == 404
    assert login(w.user("cbirc")).post(url + "/archive").status_code == 403
    pboc = login(w.user("pboc"))
    for bad in (f"{today():%Y-%m}", "2026-13", "1999-12", "9999-01", "abcd-ef", "2026-1"):
        assert pboc.get(f"/reports/{w.scheme.id}/{bad}").status_code == 404, bad
    assert period in pboc.get("/reports/").data.decode()


def test_reports_read_in_english_and_are_archived_in_chinese(world, login):
    from tests.e2e.test_i18n import _name_orgs_in_english, _titles, english
    w = world("qianjiang_2018")
    _name_orgs_in_english(w)
    period = _month_of_data(w)
    pboc = login(w.user("pboc"))
    pboc.get("/tasks/?lang=en")
    english(pboc, "/reports/", data=_titles())
    page = english(pboc, f"/reports/{w.scheme.id}/{period}", data=_titles())
    assert w.bank.name_en in page and "Total" in page
    assert pboc.post(f"/reports/{w.scheme.id}/{period}/archive").status_code == 302
    rep = db.session.scalar(select(ArchivedReport).where(ArchivedReport.scheme_id == w.scheme.id))
    ws = load_workbook(io.BytesIO(rep.xlsx)).active
    names = [r[0] for r in ws.iter_rows(values_only=True)]
    assert "合计" in names and w.bank.name in names and w.bank.name_en not in names


def test_monthly_statistics_of_a_month_of_demo_data(fresh_app):
    """The demo (``flask zx demo``) on a database of its own: the statistics to 人民银行 of the month six
    months back hold exactly the demo's loans of that month and before (app/demo.py DEMO_LOANS: each
    bank lends the listed amounts × its position in the list, in the months listed)."""
    from app.demo import DEMO_LOANS, _month_of, load_demo
    from app.reports import monthly
    from tests.conftest import Browser
    with fresh_app.test_request_context("/"):
        load_demo("demo-pass-123")
        db.session.commit()
        scheme = db.session.scalar(select(Scheme).where(Scheme.code == "jiangjin_2020"))
        month = _month_of(6)
        stats = monthly.compute(scheme, month)
    demo_loans = {loan.no: loan for loan in db.session.scalars(select(Loan).where(
        Loan.scheme_id == scheme.id, Loan.no.like(f"DEMO-{scheme.id}-%")))}
    assert stats.rows and len(demo_loans) == len(DEMO_LOANS) * len(stats.rows)
    for row in stats.rows:
        b_i = int(next(no for no, loan in demo_loans.items() if loan.bank_id == row.bank_id).split("-")[2]) - 1
        lent = [D(a) * (1 + b_i) for back, a, _story in DEMO_LOANS if back == 6]
        before = [D(a) * (1 + b_i) for back, a, _story in DEMO_LOANS if back >= 6]
        assert (row.loans, row.amount) == (len(lent), sum(lent)), row.bank
        assert (row.cumulative_loans, row.cumulative_amount) == (len(before), sum(before)), row.bank
    assert stats.total.amount == sum(r.amount for r in stats.rows)
    assert stats.total.cumulative_amount == D("9120000.00") * sum(range(1, len(stats.rows) + 1))
    # and the page 人民银行 reads shows that total
    pboc = db.session.scalar(select(User).join(Organisation, Organisation.id == User.organisation_id)
                             .where(Organisation.kind == "pboc").order_by(User.id).limit(1))
    page = Browser(fresh_app, pboc.username, password="demo-pass-123").get(f"/reports/{scheme.id}/{month}")
    assert page.status_code == 200 and f"{stats.total.cumulative_amount:,.2f}" in page.data.decode()
