"""The performance-evaluation pages over HTTP: compute, view (each role its own rows), confirm once."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from sqlalchemy import func, select

from app.core.db import db
from app.core.timeutil import today
from app.fund.models import FundEntry
from app.performance.models import Evaluation
from tests.integration.test_performance import _application, _decide, _targets
from tests.integration.test_thresholds import make_loan


def _deposits(scheme_id):
    db.session.expire_all()
    return db.session.scalar(select(func.count(FundEntry.id)).where(
        FundEntry.scheme_id == scheme_id, FundEntry.kind == "performance_deposit"))


def test_compute_view_scoped_and_confirm_once(world, login):
    w = world("jiangjin_2020")
    _targets(w, {w.bank.code: "2000000.00", w.bank2.code: "2000000.00"})
    make_loan(w, "1000000.00").disbursed_on = today()
    db.session.commit()
    _a, _dt, bank_task, officer = _application(w)
    _decide(w, bank_task, officer, "approve", 1)
    year = str(today().year)

    finance = login(w.user("finance"))
    r = finance.post("/performance/compute", data={"scheme_id": str(w.scheme.id), "period": "20x6"})
    assert r.status_code == 400 and "四位年份".encode() in r.data
    assert db.session.scalar(select(Evaluation).where(Evaluation.scheme_id == w.scheme.id)) is None
    r = finance.post("/performance/compute", data={"scheme_id": str(w.scheme.id), "period": year})
    assert r.status_code == 302, r.data.decode()[:1000]
    ev = db.session.scalar(select(Evaluation).where(Evaluation.scheme_id == w.scheme.id))
    page = finance.get(f"/performance/{ev.id}").data.decode()
    assert w.bank.name in page and w.bank2.name in page and w.dept.name in page and "接单率" in page
    assert "100.00%" in page                                        # one bank decision, approved
    assert f"/performance/{ev.id}" in finance.get("/performance/").data.decode()

    # each bank and department sees its own row only; others see nothing
    mine = login(w.user("officer")).get(f"/performance/{ev.id}")
    assert mine.status_code == 200 and w.bank.name in mine.data.decode() and w.bank2.name not in mine.data.decode()
    other = login(w.user("other_bank")).get(f"/performance/{ev.id}").data.decode()
    assert w.bank2.name in other and w.bank.name not in other and w.dept.name not in other
    dept = login(w.user("dept")).get(f"/performance/{ev.id}").data.decode()
    assert w.dept.name in dept and w.bank.name not in dept
    assert login(w.user("dept2")).get(f"/performance/{ev.id}").status_code == 404
    firm = login(w.user("firm"))
    assert firm.get(f"/performance/{ev.id}").status_code == 404 and firm.get("/performance/").status_code == 403
    assert login(w.user("pboc")).get("/performance/").status_code == 403
    assert login(w.user("officer")).post("/performance/compute", data={
        "scheme_id": str(w.scheme.id), "period": year}).status_code == 403

    # the Excel file holds what the reader may see: all rows for the bureau, its own row for a bank
    def sheet_text(client):
        r = client.get(f"/performance/{ev.id}.xlsx")
        if r.status_code != 200:
            return r.status_code
        wb = load_workbook(io.BytesIO(r.data))
        return " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    everything = sheet_text(finance)
    assert w.bank.name in everything and w.bank2.name in everything and w.dept.name in everything
    own = sheet_text(login(w.user("officer")))
    assert w.bank.name in own and w.bank2.name not in own and w.dept.name not in own
    assert sheet_text(firm) == 404 and sheet_text(login(w.user("dept2"))) == 404

    # only the finance bureau confirms; a second confirmation posts nothing more
    assert login(w.user("finoffice")).post(f"/performance/{ev.id}/confirm", data={"note": ""}).status_code == 403
    assert login(w.user("officer")).post(f"/performance/{ev.id}/confirm", data={"note": ""}).status_code == 403
    assert _deposits(w.scheme.id) == 0
    r = finance.post(f"/performance/{ev.id}/confirm", data={"note": "年度考核确认"})
    assert r.status_code == 302
    assert _deposits(w.scheme.id) == 1      # bank: 2,000,000 lent of 2,000,000 → its half, 15,000,000; bank2 lent nothing
    entry = db.session.scalar(select(FundEntry).where(FundEntry.key == f"performance:{ev.id}:bank:{w.bank.id}"))
    assert entry.amount == Decimal("15000000.00")
    page = finance.get(f"/performance/{ev.id}").data.decode()
    assert "已确认" in page and "年度考核确认" in page and 'id="performance-confirm"' not in page
    r = finance.post(f"/performance/{ev.id}/confirm", data={"note": ""})
    assert r.status_code in (302, 303, 409)
    assert _deposits(w.scheme.id) == 1
