"""The fund page over HTTP: who sees it, the finance bureau's inflow form, filters, Excel export,
resume, and the rectification task pages."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.db import db
from app.fund import operations as fund
from app.fund.models import FundEntry, Suspension
from app.policies.models import Scheme, SchemeMember
from app.workflow.models import HumanTask
from tests.conftest import PDF
from tests.integration.test_thresholds import make_loan

D = Decimal


def _count(scheme_id):
    db.session.expire_all()
    return db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.scheme_id == scheme_id))


def _inflow(w, **over):
    data = {"kind": "capital_injection", "amount": "500000.00", "base_amount": "", "bank_id": "0", "period": "",
            "voucher_no": f"PZ-{w.tag}-1", "booked_on": "2025-03-01", "memo": "追加注资"}
    data.update(over)
    return data


def test_who_sees_the_fund_page(world, login):
    w = world("qianjiang_2018")
    url = f"/fund/{w.scheme.id}"
    for key in ("finance", "finoffice", "pboc", "cbirc", "admin"):
        r = login(w.user(key)).get(url)
        assert r.status_code == 200, key
        assert "20,000,000.00" in r.data.decode()
    pboc = login(w.user("pboc")).get(url).data.decode()
    assert 'id="inflow-form"' not in pboc                         # read-only
    assert login(w.user("pboc")).post(f"{url}/inflow", data=_inflow(w)).status_code == 403
    assert login(w.user("officer")).get(url).status_code == 404
    other = world("qianjiang_2018")
    assert login(other.user("finance")).get(url).status_code == 404   # another scheme's finance bureau
    assert 'id="inflow-form"' in login(w.user("finance")).get(url).data.decode()


def test_inflow_form_validates_and_posts_once(world, login):
    w = world("lingyuan_2020")
    fin = login(w.user("finance"))
    url = f"/fund/{w.scheme.id}"
    before = _count(w.scheme.id)
    r = fin.post(f"{url}/inflow", data=_inflow(w, amount="1.005", voucher_no=""))
    page = r.data.decode()
    assert r.status_code == 400
    assert "两位小数" in page and "请填写凭证号" in page and "追加注资" in page   # errors shown, input kept
    r = fin.post(f"{url}/inflow", data=_inflow(w, kind="bank_interest_contribution", bank_id="0"))
    assert r.status_code == 400 and "请选择缴存利息收入的合作银行" in r.data.decode()
    r = fin.post(f"{url}/inflow", data=_inflow(w, booked_on="2040-01-01"))   # (2999 is outside every date field's window)
    assert r.status_code == 400 and "不能晚于今天" in r.data.decode()
    assert _count(w.scheme.id) == before

    # 凌源: 20 % of the year's financial-sector tax revenue, computed from the base
    tax = _inflow(w, kind="tax_allocation", amount="", base_amount="1234567.89", period="2024",
                  voucher_no=f"TAX-{w.tag}")
    assert fin.post(f"{url}/inflow", data=tax).status_code == 302
    assert fin.post(f"{url}/inflow", data=tax).status_code == 302          # same voucher: posted once
    assert _count(w.scheme.id) == before + 1
    e = fund.find(f"inflow:{w.scheme.code}:tax_allocation:TAX-{w.tag}")
    assert e.amount == D("246913.57")          # 1,234,567.89 × 0.20 = 246,913.578 → down (凌源 rounding)
    assert "× 0.2" in e.memo and e.actor_id == w.u["finance"].id
    # a stated amount that disagrees with the base is refused
    r = fin.post(f"{url}/inflow", data=_inflow(w, kind="bank_interest_contribution", bank_id=str(w.bank.id),
                                               base_amount="100000.00", amount="6000.00", voucher_no=f"B-{w.tag}"))
    assert r.status_code == 400 and "不一致" in r.data.decode()
    r = fin.post(f"{url}/inflow", data=_inflow(w, kind="bank_interest_contribution", bank_id=str(w.bank.id),
                                               base_amount="100000.00", amount="", voucher_no=f"B-{w.tag}"))
    assert r.status_code == 302
    assert fund.balance(w.scheme.id) == D("10000000.00") + D("246913.57") + D("5000.00")
    # reusing a voucher number for another amount is refused next to the field
    r = fin.post(f"{url}/inflow", data=_inflow(w, kind="tax_allocation", amount="1.00", period="2024",
                                               voucher_no=f"TAX-{w.tag}"))
    assert r.status_code == 400 and "已登记" in r.data.decode()


def test_ledger_filters_and_excel_export(world, login):
    w = world("qianjiang_2018")
    s = w.scheme.id
    fund.post(s, "payout", D("1234.56"), key=f"p-{w.tag}", memo="补偿拨付测试")
    fund.post(s, "interest_credit", D("78.90"), key=f"i-{w.tag}")
    db.session.commit()
    fo = login(w.user("finoffice"))
    page = fo.get(f"/fund/{s}?kind=payout").data.decode()
    assert "补偿拨付测试" in page and 'data-kind="interest_credit"' not in page
    r = fo.get(f"/fund/{s}?date_from=2025-13-01")
    assert "日期格式" in r.data.decode()
    r = fo.get(f"/fund/{s}?date_from=2000-01-01&date_to=2000-12-31")
    assert "没有符合条件的记录" in r.data.decode()
    r = fo.get(f"/fund/{s}/ledger.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [row for row in ws.iter_rows(min_row=6, values_only=True) if row[0]]
    amounts = sorted(D(str(row[4])) for row in rows)
    assert amounts == [D("-1234.56"), D("78.90"), D("20000000.00")]
    assert D(str(ws["B2"].value)) == D("20000000.00") - D("1234.56") + D("78.90")
    r = fo.get(f"/fund/{s}/ledger.xlsx?kind=interest_credit")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert [row[2] for row in ws.iter_rows(min_row=6, values_only=True) if row[0]] == ["存款利息"]
    assert login(w.user("officer")).get(f"/fund/{s}/ledger.xlsx").status_code == 404


def test_utilisation_pause_and_resume_over_http(world, login):
    w = world("qianjiang_2018")
    fund.post(w.scheme.id, "payout", D("10000000.00"), key=f"p-{w.tag}")
    db.session.commit()
    fo = login(w.user("finoffice"))
    page = fo.get(f"/fund/{w.scheme.id}").data.decode()
    assert 'id="paused-banner"' in page and "50.00%" in page
    assert 'id="committed"' in page
    r = fo.post(f"/fund/{w.scheme.id}/resume", data={"reason": ""})
    assert r.status_code == 400 and "请填写恢复业务的理由" in r.data.decode()
    assert db.session.get(Scheme, w.scheme.id).paused
    assert login(w.user("finance")).post(f"/fund/{w.scheme.id}/resume", data={"reason": "x"}).status_code == 403
    r = fo.post(f"/fund/{w.scheme.id}/resume", data={"reason": "区政府已追加注资"})
    assert r.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Scheme, w.scheme.id).paused


def test_review_flag_is_visible_and_acknowledged(world, login):
    w = world("qianjiang_2018")
    make_loan(w, "200000000.00")
    from app.fund import thresholds
    thresholds.check_loan_volume(w.scheme.id)
    db.session.commit()
    fo = login(w.user("finoffice"))
    page = fo.get(f"/fund/{w.scheme.id}").data.decode()
    assert 'id="review-flag"' in page and "10 倍" in page and "1E+1" not in page
    assert fo.post(f"/fund/{w.scheme.id}/review-ack", data={"note": ""}).status_code == 400
    assert fo.post(f"/fund/{w.scheme.id}/review-ack", data={"note": "已提请研究"}).status_code == 302
    assert 'id="review-flag"' not in fo.get(f"/fund/{w.scheme.id}").data.decode()


def test_rectification_task_pages(world, login):
    w = world("qianjiang_2018")   # 黔江 suspends until rectified (江津 ends the cooperation instead)
    from app.fund import thresholds
    make_loan(w, "800000.00")
    s = thresholds.after_loan_classified(make_loan(w, "200000.00", classification="loss"))
    db.session.commit()
    page = login(w.user("finoffice")).get(f"/fund/{w.scheme.id}").data.decode()
    assert "20.00%" in page and "已暂停" in page and "3.00%" in page
    bank = login(w.user("officer"))
    assert "暂停业务整改" in bank.get("/tasks/").data.decode()
    t = db.session.scalar(select(HumanTask).where(HumanTask.form_key == "rectification_report",
                                                 HumanTask.subject_id == s.id, HumanTask.status == "open"))
    assert "不良贷款率" in bank.get(f"/tasks/{t.id}").data.decode()
    assert login(w.user("other_bank")).get(f"/tasks/{t.id}").status_code == 404
    r = bank.post(f"/tasks/{t.id}", data={"report": ""})
    assert r.status_code == 400 and "请填写整改报告" in r.data.decode()
    r = bank.post(f"/tasks/{t.id}", data={"report": "已处置不良贷款，完善贷后管理",
                                          "files": (io.BytesIO(b"not a pdf"), "x.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 400 and "PDF" in r.data.decode()
    r = bank.post(f"/tasks/{t.id}", data={"report": "已处置不良贷款，完善贷后管理",
                                          "files": (io.BytesIO(PDF), "report.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    fo = login(w.user("finoffice"))
    rv = db.session.scalar(select(HumanTask).where(HumanTask.form_key == "rectification_review",
                                                  HumanTask.subject_id == s.id, HumanTask.status == "open"))
    page = fo.get(f"/tasks/{rv.id}").data.decode()
    assert "已处置不良贷款" in page and "report.pdf" in page
    r = fo.post(f"/tasks/{rv.id}", data={"decision": "approve", "opinion": "整改到位"})
    assert r.status_code == 302
    db.session.expire_all()
    m = db.session.scalar(select(SchemeMember).where(SchemeMember.scheme_id == w.scheme.id,
                                                    SchemeMember.organisation_id == w.bank.id))
    assert not m.suspended and db.session.get(Suspension, s.id).status == "lifted"
    page = fo.get(f"/fund/suspensions/{s.id}").data.decode()
    assert "已恢复" in page and "整改到位" in page
    assert bank.get(f"/fund/suspensions/{s.id}").status_code == 200
    assert login(w.user("other_bank")).get(f"/fund/suspensions/{s.id}").status_code == 404
