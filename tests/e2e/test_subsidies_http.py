"""永川 interest subsidies over HTTP (issue 13 item 5): a subsidy paid once per period from its budget,
never twice, never beyond the budget; each role sees only its own.

The rates are entered by the administrator in the test (the seed gives none for 信用村贷款贴息): they
are test entries, not the seed's numbers.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.core.db import db
from app.core.timeutil import today
from app.policies.models import Scheme
from app.subsidies import operations as ops
from app.subsidies.models import SubsidyApplication, SubsidyEntry
from tests.e2e.test_seed_chain_lingyuan_yongchuan import loan_over_http, ok, open_task

D = Decimal


def quarter_before(d: date, back: int) -> str:
    """The quarter ``back`` quarters before the one ``d`` is in, as 2025Q1."""
    q = (d.year * 4 + (d.month - 1) // 3) - back
    return f"{q // 4}Q{q % 4 + 1}"


def yongchuan_live(w, login):
    """The administrator enters the product ratios, the 担保贷 three-way split and 信用村贷款贴息's
    numbers (test entries), then takes the scheme live."""
    admin = login(w.user("admin"))
    raw = json.loads(db.session.get(Scheme, w.scheme.id).params_json)
    for p, share in zip(raw["products"], ("0.50", "0.60", "0.30")):
        p["fund_share"] = share
    raw["products"][2].update(bank_share="0.40", guarantee_share="0.30")
    prog = raw["subsidy_programmes"][0]
    assert prog["code"] == "xinyongcun" and prog["rate"] is None
    prog.update(basis="interest_share", rate="0.5", period="quarter", cap_per_period="20000.00",
                eligible_products=["xinyongdai"])
    ok(admin.post(f"/admin/schemes/{w.scheme.id}/params", data={
        "params": json.dumps(raw, ensure_ascii=False), "note": "录入比例和贴息参数（测试录入）", "version": "1"}))
    ok(admin.post(f"/admin/schemes/{w.scheme.id}/active", data={"active": "1", "note": "上线"}))
    w.filing_keys = ("finance", "finoffice")


def budget_balance(w) -> Decimal:
    db.session.expire_all()
    return ops.balance(ops.budget(w.scheme.id, "xinyongcun").id)


def payments(loan_id) -> list[SubsidyEntry]:
    db.session.expire_all()
    ids = select(SubsidyApplication.id).where(SubsidyApplication.loan_id == loan_id)
    return list(db.session.scalars(select(SubsidyEntry).where(SubsidyEntry.kind == "payment",
                                                              SubsidyEntry.application_id.in_(ids))))


def applications(loan_id, period) -> list[SubsidyApplication]:
    db.session.expire_all()
    return list(db.session.scalars(select(SubsidyApplication).where(
        SubsidyApplication.loan_id == loan_id, SubsidyApplication.period == period).order_by(SubsidyApplication.id)))


def review(w, login, a_id, *, interest="4000.00"):
    """Bank confirms → department approves; returns the finance bureau's open task."""
    t = open_task(w.bank.id, "subsidy_bank_confirm", "subsidy_application", a_id)
    ok(login(w.user("officer")).post(f"/tasks/{t.id}", data={
        "decision": "confirm", "interest_paid": interest, "principal": "800000.00", "opinion": "已核对扣息凭证"}))
    t = open_task(w.dept.id, "subsidy_department_review", "subsidy_application", a_id)
    ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "属信用村农户贷款"}))
    return open_task(w.units["finance"].id, "subsidy_finance_review", "subsidy_application", a_id)


def test_a_yongchuan_subsidy_is_paid_once_per_period_from_its_budget_never_twice_never_beyond(world, login):
    w = world("yongchuan_2023")
    yongchuan_live(w, login)
    loan = loan_over_http(w, login, w.user("firm"), w.firm, w.sector, w.user("dept"), "800000.00", 24, "4.35",
                          "xinyongdai")
    finance = login(w.user("finance"))
    ledger = f"/subsidies/budgets/{w.scheme.id}/xinyongcun"
    # the budget is the finance bureau's ledger, apart from the fund: 3,000.00 entered
    page = finance.get(ledger)
    assert page.status_code == 200
    ok(finance.post(f"{ledger}/allocate", data={"amount": "3000.00", "memo": "永财预〔2026〕1号", "token": "t-1"}))
    ok(finance.post(f"{ledger}/allocate", data={"amount": "3000.00", "memo": "永财预〔2026〕1号", "token": "t-1"}))
    assert budget_balance(w) == D("3000.00")        # the same form posted twice enters it once
    r = finance.post(f"{ledger}/allocate", data={"amount": "-5", "memo": "x", "token": "t-2"})
    assert r.status_code == 400 and budget_balance(w) == D("3000.00")

    firm = login(w.user("firm"))
    q1, q2 = quarter_before(today(), 2), quarter_before(today(), 1)
    # a period not yet ended is refused, with the reason, and nothing is stored
    r = firm.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun",
                                           "period": quarter_before(today(), 0), "interest_paid": "4000.00",
                                           "principal": "800000.00"})
    assert r.status_code == 400 and "尚未结束" in r.data.decode()
    ok(firm.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun", "period": q1,
                                           "interest_paid": "4000.00", "principal": "800000.00"}))
    [a] = applications(loan.id, q1)
    assert a.status == "bank_confirm" and a.applicant_org_id == w.firm.id

    # each role sees only its own
    assert firm.get(f"/subsidies/{a.id}").status_code == 200
    for key in ("firm2", "other_bank", "dept2"):
        assert login(w.user(key)).get(f"/subsidies/{a.id}").status_code == 404, key
    for key in ("firm", "officer", "dept"):
        assert login(w.user(key)).get(ledger).status_code == 404, key
    other = world("yongchuan_2023")
    assert login(other.user("finance")).get(ledger).status_code == 404
    assert login(other.user("finance")).post(f"{ledger}/allocate", data={
        "amount": "1.00", "memo": "x", "token": "t-x"}).status_code == 404
    r = login(w.user("firm2")).post("/subsidies/apply", data={
        "loan_id": str(loan.id), "programme": "xinyongcun", "period": q2, "interest_paid": "1.00", "principal": "1.00"})
    assert r.status_code == 400 and applications(loan.id, q2) == []

    # the bank applies for the same period while the firm's is open: refused
    bank = login(w.user("officer"))
    r = bank.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun", "period": q1,
                                           "interest_paid": "4000.00", "principal": "800000.00"})
    assert r.status_code == 400 and "已有申请在办" in r.data.decode()
    assert len(applications(loan.id, q1)) == 1

    t = review(w, login, a.id)
    for key in ("other_bank", "officer", "dept", "firm"):      # the finance bureau's task is its own
        assert login(w.user(key)).get(f"/tasks/{t.id}").status_code == 404, key
    assert login(other.user("finance")).get(f"/tasks/{t.id}").status_code == 404
    db.session.expire_all()
    a = db.session.get(SubsidyApplication, a.id)
    assert a.amount == D("2000.00")                  # 4,000.00 × 50%, 四舍五入到分
    assert "四舍五入到分" in finance.get(f"/tasks/{t.id}").data.decode()
    ok(finance.post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意拨付"}))
    assert [e.amount for e in payments(loan.id)] == [D("2000.00")]
    assert budget_balance(w) == D("1000.00")
    assert applications(loan.id, q1)[0].status == "paid"

    # never twice: the same period again, by the firm or the bank, is refused
    for who in (firm, bank):
        r = who.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun", "period": q1,
                                               "interest_paid": "4000.00", "principal": "800000.00"})
        assert r.status_code == 400 and "已拨付" in r.data.decode()
    assert len(applications(loan.id, q1)) == 1 and len(payments(loan.id)) == 1

    # never beyond the budget: the next period's 2,000.00 against 1,000.00 left is refused and nothing is paid
    ok(bank.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun", "period": q2,
                                           "interest_paid": "4000.00", "principal": "800000.00"}))
    [a2] = applications(loan.id, q2)
    t = review(w, login, a2.id)
    r = finance.post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意拨付"})
    assert r.status_code == 400 and "贴息预算余额不足" in r.data.decode()
    assert budget_balance(w) == D("1000.00") and len(payments(loan.id)) == 1
    assert open_task(w.units["finance"].id, "subsidy_finance_review", "subsidy_application", a2.id).id == t.id
    # a new allocation, then the payment goes through
    ok(finance.post(f"{ledger}/allocate", data={"amount": "5000.00", "memo": "追加预算", "token": "t-3"}))
    ok(finance.post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "预算已追加，同意拨付"}))
    assert sorted(e.amount for e in payments(loan.id)) == [D("2000.00"), D("2000.00")]
    assert budget_balance(w) == D("4000.00")
    page = finance.get(ledger).data.decode()
    assert "追加预算" in page and "4,000.00" in page
    # the subsidy budget is its own ledger: the fund's balance did not move
    assert db.session.scalar(select(func.count()).select_from(SubsidyEntry).where(
        SubsidyEntry.budget_id == ops.budget(w.scheme.id, "xinyongcun").id)) == 4
    english = finance.get(f"{ledger}?lang=en").data.decode()
    assert "Subsidy budget ledger" in english and "Budget allocation" in english and "Subsidy payment" in english
    # the lists: the firm sees its applications, another firm none of them
    assert f"/subsidies/{a2.id}" in firm.get("/subsidies/").data.decode()
    assert f"/subsidies/{a2.id}" not in login(w.user("firm2")).get("/subsidies/").data.decode()


def test_a_rejected_period_may_be_applied_for_again_and_guarantee_fees_are_recorded(world, login):
    w = world("yongchuan_2023")
    yongchuan_live(w, login)
    loan = loan_over_http(w, login, w.user("firm"), w.firm, w.sector, w.user("dept"), "500000.00", 24, "4.35",
                          "xinyongdai")
    q1 = quarter_before(today(), 1)
    firm = login(w.user("firm"))
    form = {"loan_id": str(loan.id), "programme": "xinyongcun", "period": q1, "interest_paid": "3000.00",
            "principal": "500000.00"}
    ok(firm.post("/subsidies/apply", data=form))
    [a] = applications(loan.id, q1)
    t = open_task(w.bank.id, "subsidy_bank_confirm", "subsidy_application", a.id)
    ok(login(w.user("officer")).post(f"/tasks/{t.id}", data={"decision": "reject", "opinion": "利息未结清"}))
    assert applications(loan.id, q1)[0].status == "rejected"
    ok(firm.post("/subsidies/apply", data=form))
    assert [x.status for x in applications(loan.id, q1)] == ["rejected", "bank_confirm"]

    # guarantee-fee subsidies: only for a guaranteed (three-way) loan, one record per loan and period
    finance = login(w.user("finance"))
    url = f"/subsidies/budgets/{w.scheme.id}/xinyongcun/guarantee-fees"
    r = finance.post(url, data={"loan_no": loan.no, "period": "2025", "fee_paid": "5000.00", "amount": "2500.00"})
    assert r.status_code == 400 and "担保" in r.data.decode()
    loan2 = loan_over_http(w, login, w.user("firm"), w.firm, w.sector, w.user("dept"), "600000.00", 12, "4.35",
                           "danbaodai")
    data = {"loan_no": loan2.no, "period": "2025", "fee_paid": "6000.00", "amount": "3000.00", "note": "担保费减半"}
    ok(finance.post(url, data=data))
    r = finance.post(url, data=data)
    assert r.status_code == 400 and "已登记" in r.data.decode()
    r = finance.post(url, data={**data, "period": "2024", "amount": "7000.00"})
    assert r.status_code == 400 and "不能超过实付担保费" in r.data.decode()
    page = finance.get(f"/subsidies/budgets/{w.scheme.id}/xinyongcun").data.decode()
    assert loan2.no in page and "3,000.00" in page and w.user("finance").display_name in page
    assert login(w.user("guarantee")).post(url, data={**data, "period": "2023"}).status_code == 404
