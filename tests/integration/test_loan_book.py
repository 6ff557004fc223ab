"""The loan book: one validation for form, Excel and API; whole-book refusal; idempotence; history;
current balances feeding the NPL rule and the fund-size review."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.api import tokens
from app.core.db import db
from app.fund import thresholds
from app.loanbook import excel
from app.loanbook import operations as ops
from app.loanbook.models import LoanBookRow
from app.loans.models import Loan
from tests.integration.test_thresholds import make_loan, member

D = Decimal


def _xlsx(rows, header=("贷款编号", "企业名称", "贷款金额（元）", "月末贷款余额（元）", "本月归还本金（元）", "五级分类", "贷款状态")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stored(bank_id, month):
    db.session.expire_all()
    return sorted((r.values() for r in ops.month_rows(bank_id, month)), key=lambda v: v["loan_no"])


MONTH = ops.previous_month(ops.current_month())


def test_excel_and_api_give_the_same_rows_and_a_repeat_changes_nothing(world, app, login):
    w = world()
    a, b = make_loan(w, "1000000.00"), make_loan(w, "500000.00")
    officer = w.user("officer")
    token, raw = tokens.issue(w.bank.id, "core", w.user("admin"))
    db.session.commit()
    book = [(a.no, "", "", "900000.00", "100000.00", "正常", "正常还款"),
            (b.no, "", "", 480000.5, 19999.5, "关注", "逾期")]            # numbers as Excel stores them
    r = login(officer).post("/loanbook/upload", data={"month": MONTH, "file": (io.BytesIO(_xlsx(book)), "book.xlsx")},
                            content_type="multipart/form-data")
    assert r.status_code == 303, r.data.decode()[:2000]
    by_excel = _stored(w.bank.id, MONTH)
    assert [v["outstanding_principal"] for v in by_excel] == ["900000.00", "480000.50"]
    # the same book through the API (codes instead of labels): identical rows, nothing inserted or updated
    client = app.test_client()
    body = {"rows": [{"loan_no": a.no, "outstanding_principal": "900000.00", "repaid_principal": "100000.00",
                      "classification": "normal", "status": "performing"},
                     {"loan_no": b.no, "outstanding_principal": "480000.50", "repaid_principal": "19999.50",
                      "classification": "special_mention", "status": "overdue"}]}
    resp = client.put(f"/api/v1/loan-book/{MONTH}", json=body, headers={"Authorization": f"Bearer {raw}"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["inserted"], resp.json["updated"], resp.json["unchanged"]) == (0, 0, 2)
    assert _stored(w.bank.id, MONTH) == by_excel
    assert db.session.scalar(select(db.func.count(LoanBookRow.id)).where(LoanBookRow.bank_id == w.bank.id)) == 2
    # the loans carry their current position
    assert db.session.get(Loan, a.id).outstanding_principal == D("900000.00")
    assert db.session.get(Loan, b.id).status == "overdue"
    # a re-upload without b replaces the month: b's row goes, a's stays
    resp = client.put(f"/api/v1/loan-book/{MONTH}", json={"rows": body["rows"][:1]},
                      headers={"Authorization": f"Bearer {raw}"})
    assert resp.json["removed"] == 1 and len(_stored(w.bank.id, MONTH)) == 1


def test_a_bad_row_refuses_the_whole_book_with_every_error(world, login):
    w = world()
    a, b = make_loan(w, "1000000.00"), make_loan(w, "500000.00")
    other = make_loan(w, "100000.00", bank=w.bank2)
    db.session.commit()
    book = [(a.no, "", "", "900000.00", "0", "正常", "正常还款"),
            (b.no, "", "", "600000.00", "-1", "优秀", "已结清"),            # > amount, negative, class, repaid≠0
            (other.no, "", "", "1.00", "0", "正常", "正常还款"),            # another bank's loan
            (a.no, "", "", "1.00", "0", "正常", "正常还款")]                # twice
    r = login(w.user("officer")).post("/loanbook/upload", data={
        "month": MONTH, "file": (io.BytesIO(_xlsx(book)), "book.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 400
    html = r.data.decode()
    assert "book-error-table" in html
    with pytest.raises(ops.BookRefused) as exc:
        ops.report(w.bank, MONTH, excel.read(_xlsx(book)), source="excel")
    found = {(e.line, e.column) for e in exc.value.errors}
    assert {(3, "outstanding_principal"), (3, "repaid_principal"), (3, "classification"), (4, "loan_no"),
            (5, "loan_no")} <= found
    for e in exc.value.errors:
        assert e.message in html
    assert _stored(w.bank.id, MONTH) == []
    assert db.session.get(Loan, a.id).outstanding_principal == D("1000000.00")
    # not a workbook, or a header without the needed columns: refused, nothing stored
    with pytest.raises(ops.BookRefused):
        excel.read(b"PK\x03\x04 not really")
    with pytest.raises(ops.BookRefused) as exc:
        excel.read(_xlsx([], header=("贷款编号", "金额")))
    assert exc.value.errors[0].column == "file"


def test_npl_and_suspension_follow_reclassification_and_repayment(world):
    w = world()            # 黔江: suspend at 3 % inclusive
    big = make_loan(w, "1000000.00")
    small = make_loan(w, "30000.00")
    db.session.commit()
    m1, m2 = ops.previous_month(MONTH), MONTH
    row = lambda loan, bal, cls="normal", st="performing", rep="0": ops.RowInput(loan.no, bal, rep, cls, st)  # noqa: E731
    ops.report(w.bank, m1, [row(big, "1000000.00"), row(small, "30000.00")], source="api")
    assert thresholds.bank_npl(w.scheme.id, w.bank.id).npl_principal == 0
    # the small loan turns substandard: 29,000 / 1,029,000 < 3 % → no suspension yet
    ops.report(w.bank, m2, [row(big, "1000000.00"), row(small, "29000.00", "substandard", "overdue", "1000")],
               source="api")
    n = thresholds.bank_npl(w.scheme.id, w.bank.id)
    assert (n.npl_principal, n.total_principal) == (D("29000.00"), D("1029000.00"))
    assert not member(w).suspended
    # the performing loan is mostly repaid: 29,000 / 929,000 ≥ 3 % → suspended, with the figures
    result = ops.report(w.bank, m2, [row(big, "900000.00", rep="100000"),
                                     row(small, "29000.00", "substandard", "overdue", "1000")], source="api")
    assert result.suspended and member(w).suspended
    assert result.suspended[0].total_principal == D("929000.00")
    # history as of the first month is kept
    assert ops.as_of(m1, bank_id=w.bank.id)[small.id].classification == "normal"
    assert [r.month for r in ops.history(small.id)] == [m2, m1]
    # an older month re-sent does not move the current position
    ops.report(w.bank, m1, [row(big, "1000000.00"), row(small, "30000.00")], source="api")
    db.session.expire_all()
    assert db.session.get(Loan, small.id).classification == "substandard"


def test_loan_volume_uses_current_balances_and_repaid_loans_leave(world):
    w = world()
    a = make_loan(w, "1000000.00")
    make_loan(w, "200000.00")                              # never reported: its approved amount counts
    db.session.commit()
    ops.report(w.bank, MONTH, [ops.RowInput(a.no, "0", "1000000.00", "normal", "repaid")], source="form",
               replace=False)
    assert thresholds.loan_volume(db.session.get(type(w.scheme), w.scheme.id)).loans_total == D("200000.00")
    assert db.session.get(Loan, a.id).status == "repaid"
    # closed: a later month cannot report it again
    with pytest.raises(ops.BookRefused):
        ops.report(w.bank, ops.current_month(), [ops.RowInput(a.no, "1.00", "0", "normal", "performing")],
                   source="form", replace=False)


def test_future_months_and_other_banks_are_refused(world):
    w = world()
    a = make_loan(w, "100.00")
    db.session.commit()
    future = f"{date.today().year + 1}-01"
    with pytest.raises(ops.BookRefused) as exc:
        ops.report(w.bank, future, [ops.RowInput(a.no, "1", "0", "normal", "performing")], source="api")
    assert exc.value.errors[0].column == "month"
    with pytest.raises(ops.BookRefused):
        ops.report(w.bank2, MONTH, [ops.RowInput(a.no, "1", "0", "normal", "performing")], source="api")


def test_template_lists_the_banks_loans_and_reads_back(world, login):
    w = world()
    a = make_loan(w, "1000.00")
    make_loan(w, "2000.00", bank=w.bank2)
    db.session.commit()
    r = login(w.user("officer")).get(f"/loanbook/template.xlsx?month={MONTH}")
    assert r.status_code == 200
    rows = excel.read(r.data)
    assert [x.loan_no for x in rows] == [a.no]
    ops.report(w.bank, MONTH, rows, source="excel")          # the template as downloaded is a valid book
    assert len(_stored(w.bank.id, MONTH)) == 1
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.active.cell(1, 1).value == "贷款编号"
    assert login(w.user("firm")).get("/loanbook/template.xlsx").status_code == 403


def test_form_per_loan_and_pages_are_scoped(world, login):
    w = world()
    a = make_loan(w, "1000.00")
    db.session.commit()
    bank = login(w.user("officer"))
    r = bank.post(f"/loanbook/loan/{a.id}", data={"month": MONTH, "outstanding_principal": "2000.00",
                                                  "repaid_principal": "0", "classification": "normal",
                                                  "status": "performing"})
    assert r.status_code == 400 and "1000.00" in r.data.decode()     # more than the loan: same rule as Excel
    r = bank.post(f"/loanbook/loan/{a.id}", data={"month": MONTH, "outstanding_principal": "800.00",
                                                  "repaid_principal": "200.00", "classification": "normal",
                                                  "status": "performing"})
    assert r.status_code == 303
    assert _stored(w.bank.id, MONTH)[0]["outstanding_principal"] == "800.00"
    other = login(w.user("other_bank"))
    assert other.get(f"/loanbook/loan/{a.id}").status_code == 404
    assert other.get(f"/loanbook/{w.bank.id}/{MONTH}").status_code == 404
    assert a.no not in other.get("/loanbook/").data.decode()
    assert a.no in login(w.user("finoffice")).get(f"/loanbook/{w.bank.id}/{MONTH}").data.decode()


def test_fund_page_figures_trace_to_the_rows_behind_them(world, login):
    w = world()
    a, b = make_loan(w, "1000000.00"), make_loan(w, "300000.00")
    db.session.commit()
    ops.report(w.bank, MONTH, [ops.RowInput(a.no, "800000.00", "200000.00", "substandard", "overdue")],
               source="form", replace=False)
    db.session.commit()
    fin = login(w.user("finoffice"))
    page = fin.get(f"/fund/{w.scheme.id}").data.decode()
    assert f"/fund/{w.scheme.id}/trace/npl/{w.bank.id}" in page and "balance-source" in page
    html = fin.get(f"/fund/{w.scheme.id}/trace/npl/{w.bank.id}").data.decode()
    assert "800,000.00 / 1,100,000.00" in html                         # the ratio's two figures
    assert f'data-source="book"><td><a href="/loanbook/loan/{a.id}">{a.no}' in html
    assert f'data-source="approved"><td><a href="/loanbook/loan/{b.id}">{b.no}' in html
    vol = fin.get(f"/fund/{w.scheme.id}/trace/volume").data.decode()
    assert "1,100,000.00" in vol and a.no in vol and b.no in vol
    assert login(w.user("other_bank")).get(f"/fund/{w.scheme.id}/trace/npl/{w.bank.id}").status_code == 404
