"""Reports routed as duties (issue 12, item 3): 江津's monthly reports of each bank and of the guarantee company,
黔江's quarterly 通报, the 黔江 monthly statistics as a duty; their totals on data made here, the duties'
deadlines on the working-day calendar, completion by issuing, who reads what; and the NPL-by-bank history
chart's table (item 4)."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.compensation.models import CompensationClaim
from app.core.db import db
from app.core.timeutil import SHANGHAI, local, today
from app.dashboards import data as dash
from app.duties.models import Duty
from app.jobs.runner import run_now
from app.loanbook.models import LoanBookRow
from app.loans.models import Filing, Loan
from app.reports import operations as ops
from app.reports.models import ArchivedReport
from app.workflow.models import HumanTask

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def _loan(w, bank, firm, amount, day, eligible=True):
    n = (db.session.scalar(select(func.max(Loan.id))) or 0) + 1
    loan = Loan(no=f"DK-R{w.tag}-{n}", scheme_id=w.scheme.id, bank_id=bank.id, enterprise_id=firm.id,
                sector_id=w.sector.id, contract_no=f"HT-R{w.tag}-{n}", product=w.scheme.params.products[0].code,
                amount=D(amount), annual_rate=D("5.0000"), term_months=12, disbursed_on=day,
                outstanding_principal=D(amount), status="active", eligible=eligible)
    db.session.add(loan)
    db.session.flush()
    return loan


def _row(loan, month, outstanding, repaid="0.00", cls="normal", status="performing"):
    db.session.add(LoanBookRow(loan_id=loan.id, bank_id=loan.bank_id, scheme_id=loan.scheme_id, month=month,
                               outstanding_principal=D(outstanding), repaid_principal=D(repaid),
                               classification=cls, status=status, source="form"))


def _utc(d: date) -> datetime:
    return datetime.combine(d, time(10), SHANGHAI).astimezone(timezone.utc)


def _claim(w, loan, created: date, *, advance=None, advance_paid: date | None = None, share=None,
           paid: date | None = None):
    n = (db.session.scalar(select(func.max(CompensationClaim.id))) or 0) + 1
    c = CompensationClaim(no=f"BC-R{w.tag}-{n}", loan_id=loan.id, scheme_id=loan.scheme_id, bank_id=loan.bank_id,
                          status="paid" if paid else "recovering", overdue_on=created, overdue_principal=loan.amount,
                          classification="substandard", reported_by_id=w.u["officer"].id, created_at=_utc(created),
                          advance_amount=D(advance) if advance else None,
                          advance_paid_at=_utc(advance_paid) if advance_paid else None,
                          fund_share_amount=D(share) if share else None, paid_at=_utc(paid) if paid else None)
    db.session.add(c)
    db.session.flush()
    return c


def _months():
    p = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    pp = (p - timedelta(days=1)).replace(day=1)
    return p, f"{p:%Y-%m}", pp, f"{pp:%Y-%m}"


def _jiangjin_month(w):
    first, period, before, prev = _months()
    l1 = _loan(w, w.bank, w.firm, "1000000.00", before + timedelta(days=2))
    _row(l1, prev, "1000000.00")
    _row(l1, period, "800000.00", "200000.00", "substandard", "overdue")
    l2 = _loan(w, w.bank, w.firm, "500000.00", first + timedelta(days=2))
    _row(l2, period, "450000.50", "49999.50")
    _loan(w, w.bank, w.firm2, "300000.00", first + timedelta(days=9))           # never in the loan book
    l4 = _loan(w, w.bank, w.firm2, "200000.00", before + timedelta(days=5))
    _row(l4, period, "0.00", "200000.00", status="repaid")
    _loan(w, w.bank, w.firm, "999999.00", first + timedelta(days=4), eligible=False)
    l6 = _loan(w, w.bank2, w.firm2, "400000.00", first)
    _row(l6, period, "400000.00", cls="doubtful", status="overdue")
    guarantee = w.units["guarantee"]
    for loan in (l1, l2, l6):
        db.session.add(Filing(loan_id=loan.id, recipient_id=guarantee.id))
    _claim(w, l1, first + timedelta(days=3), advance="520000.00", advance_paid=first + timedelta(days=12))
    _claim(w, l1, before, advance="1.00", advance_paid=before + timedelta(days=1))   # last month: not counted
    db.session.commit()
    return period


def _table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_jiangjin_bank_and_guarantee_reports_totals(world):
    w = world("jiangjin_2020")
    period = _jiangjin_month(w)
    rtype = ops.REPORTS["jiangjin_monthly"]
    t = ops.compute(rtype, w.scheme, period, w.bank)
    assert len(t.rows) == 4                                        # l1, l2, the unreported loan, l4 (repaid)
    assert t.total[3:6] == [D("2000000.00"), D("449999.50"), D("1550000.50")]
    summary = dict(t.summary)
    assert summary["本期发放笔数"] == 2 and summary["本期发放企业数"] == 2
    assert summary["本期发放金额（元）"] == D("800000.00") and summary["期末在贷笔数"] == 3
    assert summary["期末逾期贷款余额（元）"] == D("800000.00") and summary["期末不良贷款余额（元）"] == D("800000.00")
    assert summary["不良率"] == "51.61%"                          # 800,000 / 1,550,000.50, half up
    assert summary["累计发放金额（元）"] == D("2000000.00")
    assert t.notes == [["{n} 笔贷款截至本期未报送月度贷款台账，按发放金额、正常类计", {"n": 1}]]

    g = ops.compute(rtype, w.scheme, period, w.units["guarantee"])
    by_bank = {r[0]: r[1:] for r in g.rows}
    assert by_bank[w.bank.name] == [1, D("500000.00"), D("249999.50"), 2, D("1250000.50"), D("800000.00"),
                                    D("800000.00"), D("520000.00")]
    assert by_bank[w.bank2.name] == [1, D("400000.00"), D("0.00"), 1, D("400000.00"), D("400000.00"),
                                     D("400000.00"), D("0.00")]
    assert g.total == ["合计", 2, D("900000.00"), D("249999.50"), 3, D("1650000.50"), D("1200000.00"),
                       D("1200000.00"), D("520000.00")]


def test_qianjiang_quarterly_bulletin_totals(world, login):
    w = world("qianjiang_2018")
    rtype = ops.REPORTS["quarterly_bulletin"]
    quarter = ops.recent_periods(rtype)[0]
    start = date.fromisoformat(f"{quarter[:4]}-{3 * int(quarter[-1]) - 2:02d}-01")
    last = f"{quarter[:4]}-{3 * int(quarter[-1]):02d}"
    a = _loan(w, w.bank, w.firm, "1000000.00", start + timedelta(days=3))
    _row(a, last, "600000.00", "400000.00", "loss", "overdue")
    b = _loan(w, w.bank, w.firm2, "250000.00", start - timedelta(days=40))        # before; never in the book
    c = _loan(w, w.bank2, w.firm2, "300000.00", start + timedelta(days=40))
    _row(c, last, "300000.00")
    _claim(w, a, start + timedelta(days=50), share="300000.00", paid=start + timedelta(days=70))
    _claim(w, b, start - timedelta(days=30), share="100000.00", paid=start - timedelta(days=10))
    db.session.commit()
    t = ops.compute(rtype, w.scheme, quarter, None)
    rows = {r[0]: r[1:] for r in t.rows}
    assert rows[w.bank.name] == [1, D("1000000.00"), 2, D("1250000.00"), D("850000.00"), D("600000.00"),
                                 D("600000.00"), "70.59%", 1, 2, D("300000.00"), D("400000.00")]
    assert rows[w.bank2.name] == [1, D("300000.00"), 1, D("300000.00"), D("300000.00"), D("0.00"), D("0.00"),
                                  "0.00%", 0, 0, D("0.00"), D("0.00")]
    assert t.total == ["合计", 2, D("1300000.00"), 3, D("1550000.00"), D("1150000.00"), D("600000.00"),
                       D("600000.00"), "52.17%", 1, 2, D("300000.00"), D("400000.00")]

    # the page, the Excel file and the PDF; issued by the financial office, then as archived
    office = login(w.user("finoffice"))
    url = f"/reports/r/quarterly_bulletin/{w.scheme.id}/0/{quarter}"
    html = office.get(url).data.decode()
    total = _table(html, "report-table")[-1]
    assert total[1:9] == ["2", "1,300,000.00", "3", "1,550,000.00", "1,150,000.00", "600,000.00", "600,000.00",
                          "52.17%"]
    ws = load_workbook(io.BytesIO(office.get(url + ".xlsx").data)).active
    assert list(next(r for r in ws.iter_rows(values_only=True) if r[0] == "合计")[1:5]) == [2, 1300000, 3, 1550000]
    pdf = office.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert office.post(url + "/issue").status_code == 302
    _loan(w, w.bank, w.firm, "1.00", start + timedelta(days=5))
    db.session.commit()
    html = office.get(url).data.decode()
    assert 'id="archived"' in html and "1,300,000.00" in html and "1,300,001.00" not in html
    assert login(w.user("pboc")).post(url + "/issue").status_code == 403          # a reader, not the issuer


def test_report_duties_deadlines_and_done_by_issuing(world, login):
    jj, qj = world("jiangjin_2020"), world("qianjiang_2018")
    # 2026-05-01..05 is the Labour Day holiday, 05-09 (Saturday) an adjusted working day
    run_now("report_duties", date(2026, 5, 4))                     # before the first working day: nothing
    assert not db.session.scalars(select(Duty).where(Duty.scheme_id == jj.scheme.id)).all()
    run_now("report_duties", date(2026, 5, 6))
    run_now("report_duties", date(2026, 5, 20))                    # again in the same month: nothing new

    def duties(w, kind, period):
        return {d.org_id: d for d in db.session.scalars(select(Duty).where(
            Duty.scheme_id == w.scheme.id, Duty.kind == kind, Duty.period == period))}

    jjd = duties(jj, "jiangjin_monthly", "2026-04")
    assert set(jjd) == {jj.bank.id, jj.bank2.id, jj.units["guarantee"].id}
    for d in jjd.values():        # default, not in the seed: the 5th working day: 05-06, 07, 08, 09 (Sat), 11
        assert local(d.due_at).date() == date(2026, 5, 11)
        ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == d.instance_id))
        assert ht.org_id == d.org_id and ht.form_key == "report_issue" and ht.due_at == d.due_at
    stats = duties(qj, "monthly_statistics", "2026-04")
    assert set(stats) == {qj.units["pboc"].id}                     # 次月5日前, the 5th a holiday: 05-06
    assert local(stats[qj.units["pboc"].id].due_at).date() == date(2026, 5, 6)
    assert not duties(jj, "monthly_statistics", "2026-04") and not duties(qj, "jiangjin_monthly", "2026-04")
    run_now("report_duties", date(2026, 4, 1))
    q = duties(qj, "quarterly_bulletin", "2026Q1")
    assert set(q) == {qj.units["finoffice"].id}                    # 10th working day; 清明 04-04..06 off
    assert local(q[qj.units["finoffice"].id].due_at).date() == date(2026, 4, 15)

    # the bank issues from the report page: its duty is done, the task completed, the report archived
    bank = login(jj.user("officer"))
    url = f"/reports/r/jiangjin_monthly/{jj.scheme.id}/{jj.bank.id}/2026-04"
    assert 'id="issue-form"' in bank.get(url).data.decode()
    assert bank.post(url + "/issue").status_code == 302
    db.session.expire_all()
    d = db.session.get(Duty, jjd[jj.bank.id].id)
    assert d.status == "done" and d.late is True and d.completed_by_id == jj.u["officer"].id
    assert db.session.scalar(select(HumanTask.status).where(HumanTask.instance_id == d.instance_id)) == "completed"
    rep = db.session.scalar(select(ArchivedReport).where(ArchivedReport.kind == "jiangjin_monthly",
                                                         ArchivedReport.org_id == jj.bank.id))
    assert rep is not None and rep.period == "2026-04" and d.result["report_id"] == rep.id
    assert db.session.get(Duty, jjd[jj.bank2.id].id).status == "open"      # the other bank's is its own

    # the guarantee company issues from its task page (unconfirmed: refused, nothing stored)
    g = login(jj.user("guarantee"))
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == jjd[jj.units["guarantee"].id].instance_id))
    assert g.get(f"/tasks/{ht.id}").status_code == 200
    assert g.post(f"/tasks/{ht.id}", data={}).status_code == 400
    assert db.session.get(Duty, jjd[jj.units["guarantee"].id].id).status == "open"
    assert g.post(f"/tasks/{ht.id}", data={"confirmed": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Duty, jjd[jj.units["guarantee"].id].id).status == "done"
    assert db.session.scalar(select(func.count()).select_from(ArchivedReport).where(
        ArchivedReport.scheme_id == jj.scheme.id, ArchivedReport.org_id == jj.units["guarantee"].id)) == 1

    # 黔江's monthly statistics: archiving the month (the existing page) completes 人民银行's duty
    assert login(qj.user("pboc")).post(f"/reports/{qj.scheme.id}/2026-04/archive").status_code == 302
    db.session.expire_all()
    assert db.session.get(Duty, stats[qj.units["pboc"].id].id).status == "done"


def test_who_reads_the_routed_reports(world, login):
    w, other = world("jiangjin_2020"), world("jiangjin_2020")
    _first, period, _b, _p = _months()
    mine = f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.bank.id}/{period}"
    theirs = f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.bank2.id}/{period}"
    gco = f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.units['guarantee'].id}/{period}"
    officer = login(w.user("officer"))
    assert officer.get(mine).status_code == 200 and officer.get(mine + ".xlsx").status_code == 200
    assert officer.get(theirs).status_code == 404 and officer.get(theirs + ".pdf").status_code == 404
    assert officer.post(theirs + "/issue").status_code == 404 and officer.get(gco).status_code == 404
    index = officer.get("/reports/").data.decode()
    assert mine in index and theirs not in index and gco not in index
    assert login(w.user("other_bank")).get(theirs).status_code == 200
    g = login(w.user("guarantee"))
    assert g.get(gco).status_code == 200 and g.get(mine).status_code == 404
    for key in ("finance", "pboc", "cbirc"):                       # the receivers: read all, issue none
        c = login(w.user(key))
        assert all(c.get(u).status_code == 200 for u in (mine, theirs, gco)), key
        assert c.post(mine + "/issue").status_code == 403, key
        assert mine in c.get("/reports/").data.decode(), key
    for key in ("dept", "firm", "centre"):
        c = login(w.user(key))
        assert c.get("/reports/").status_code == 403 and c.get(mine).status_code == 404, key
    foreign = login(other.user("pboc"))
    assert foreign.get(mine).status_code == 404 and foreign.get(mine + ".xlsx").status_code == 404
    assert login(other.user("officer")).get(mine).status_code == 404
    # not a reporter of the scheme, a scheme-wide report with an organisation, a month not finished, bad kind
    for bad in (f"/reports/r/jiangjin_monthly/{w.scheme.id}/{other.bank.id}/{period}",
                f"/reports/r/jiangjin_monthly/{w.scheme.id}/0/{period}",
                f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.bank.id}/{today():%Y-%m}",
                f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.bank.id}/2026Q1",
                f"/reports/r/quarterly_bulletin/{w.scheme.id}/0/2026Q1",
                f"/reports/r/nope/{w.scheme.id}/0/{period}"):
        assert login(w.user("pboc")).get(bad).status_code == 404, bad


def test_npl_history_chart_table_two_banks_three_months(world, login):
    w = world("jiangjin_2020")
    x = _loan(w, w.bank, w.firm, "1000000.00", date(2024, 12, 10))
    y = _loan(w, w.bank, w.firm2, "100000.00", date(2025, 2, 3))
    z = _loan(w, w.bank2, w.firm2, "500000.00", date(2024, 12, 20))
    _row(x, "2025-01", "1000000.00")
    _row(x, "2025-02", "900000.00", "100000.00", "substandard", "overdue")     # March: not reported, carried
    _row(y, "2025-02", "100000.00")
    _row(y, "2025-03", "0.00", "100000.00", status="repaid")
    _row(z, "2025-01", "500000.00")
    _row(z, "2025-03", "400000.00", "100000.00", "loss", "overdue")
    db.session.commit()
    c = dash.npl_history([w.scheme], ["2025-01", "2025-02", "2025-03"])
    s, b1, b2 = w.scheme.name, w.bank.name, w.bank2.name
    assert c.rows == [
        ["2025-01", s, b1, D("0.00"), D("1000000.00"), "0.00%"],
        ["2025-02", s, b1, D("900000.00"), D("1000000.00"), "90.00%"],
        ["2025-03", s, b1, D("900000.00"), D("900000.00"), "100.00%"],
        ["2025-01", s, b2, D("0.00"), D("500000.00"), "0.00%"],
        ["2025-02", s, b2, D("0.00"), D("500000.00"), "0.00%"],
        ["2025-03", s, b2, D("400000.00"), D("400000.00"), "100.00%"]]
    assert c.series == [{"name": b1, "data": [0.0, 90.0, 100.0]}, {"name": b2, "data": [0.0, 0.0, 100.0]}]
    # on the dashboard, with its table, in both languages
    finance = login(w.user("finance"))
    html = finance.get(f"/dashboards/?scheme={w.scheme.id}").data.decode()
    assert 'id="chart-npl_history"' in html and 'id="table-npl_history"' in html and "合作银行不良率（按月，贷款台账）" in html
    finance.get("/tasks/?lang=en")
    html = finance.get(f"/dashboards/?scheme={w.scheme.id}").data.decode()
    assert 'id="table-npl_history"' in html and "NPL ratio by bank, by month (loan book)" in html


def test_routed_reports_read_in_english_and_are_issued_in_chinese(world, login):
    from tests.e2e.test_i18n import STORED, _name_orgs_in_english, _titles, english
    w = world("jiangjin_2020")
    _name_orgs_in_english(w)
    period = _jiangjin_month(w)
    drop = STORED + ('//*[@id="report-source"]',)       # the seed citation names the policy text
    officer = login(w.user("officer"))
    officer.get("/tasks/?lang=en")
    url = f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.bank.id}/{period}"
    english(officer, "/reports/", data=_titles(), drop=drop)
    page = english(officer, url, data=_titles(), drop=drop)
    assert "Substandard" in page and "Overdue" in page and "51.61%" in page and w.bank.name_en in page
    assert "1 loan(s) not yet in the monthly loan book" in page
    g = login(w.user("guarantee"))
    g.get("/tasks/?lang=en")
    page = english(g, f"/reports/r/jiangjin_monthly/{w.scheme.id}/{w.units['guarantee'].id}/{period}",
                   data=_titles(), drop=drop)
    assert "platform records no guarantee contracts" in page
    assert f"{period} ✓" not in officer.get("/reports/").data.decode()
    assert officer.post(url + "/issue").status_code == 302
    english(officer, url, data=_titles(), drop=drop)
    assert f"{period} ✓" in officer.get("/reports/").data.decode()              # the index marks it issued
    rep = db.session.scalar(select(ArchivedReport).where(ArchivedReport.kind == "jiangjin_monthly",
                                                         ArchivedReport.org_id == w.bank.id))
    ws = load_workbook(io.BytesIO(rep.xlsx)).active
    cells = [c for r in ws.iter_rows(values_only=True) for c in r if c is not None]
    assert "合计" in cells and "次级" in cells and w.bank.name in cells[0] and w.bank.name_en not in str(cells)


def test_a_schemes_reports_and_their_deadlines_are_its_parameters(world, login):
    """Which reports a scheme owes and when is scheme data (params.report_deadlines), edited by an
    administrator like any parameter: a changed deadline moves the next duty, a report taken out opens none."""
    import json

    from app.admin import operations as admin_ops
    qj = world("qianjiang_2018")
    raw = json.loads(qj.scheme.params_json)
    assert raw["report_deadlines"] == {"monthly_statistics": {"day_of_month": 5}, "quarterly_bulletin": {"working_days": 10}}
    admin = login(qj.user("admin"))
    bad = dict(raw, report_deadlines={"weekly_gossip": {"working_days": 3}})
    r = admin.post(f"/admin/schemes/{qj.scheme.id}/params", data={
        "params": json.dumps(bad, ensure_ascii=False), "note": "试", "version": str(qj.scheme.params_version)})
    assert r.status_code == 400 and "未知的报表" in r.data.decode()
    raw["report_deadlines"] = {"monthly_statistics": {"working_days": 3}}     # no quarterly bulletin any more
    admin_ops.update_params(qj.user("admin"), qj.scheme, raw, "报表期限改为第3个工作日（测试）")
    db.session.commit()
    run_now("report_duties", date(2026, 4, 1))       # opens 04-01; 清明 04-04..06 off: 04-01, 02, 03
    stats = db.session.scalar(select(Duty).where(Duty.scheme_id == qj.scheme.id, Duty.kind == "monthly_statistics",
                                                 Duty.period == "2026-03"))
    assert stats is not None and local(stats.due_at).date() == date(2026, 4, 3)
    assert db.session.scalar(select(Duty.id).where(Duty.scheme_id == qj.scheme.id,
                                                   Duty.kind == "quarterly_bulletin")) is None
    assert login(qj.user("finoffice")).get(f"/reports/r/quarterly_bulletin/{qj.scheme.id}/0/2026Q1").status_code == 404
