"""The subsidy budget ledger and payment rules as operations (no HTTP): append-only, one payment per
loan, programme and period whatever path it comes by, never beyond the budget."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.core.timeutil import today
from app.loans.models import Loan
from app.subsidies import operations as ops
from app.subsidies.models import SubsidyApplication, SubsidyEntry, SubsidyLedgerIsAppendOnly


def _loan(w) -> Loan:
    loan = Loan(no=f"L-{w.tag}-{id(w) % 10000}", scheme_id=w.scheme.id, bank_id=w.bank.id, enterprise_id=w.firm.id,
                contract_no="HT-1", product="xinyongdai", amount=D("800000.00"), annual_rate=D("4.35"), term_months=24,
                disbursed_on=today() - timedelta(days=400), outstanding_principal=D("800000.00"), status="active")
    db.session.add(loan)
    db.session.flush()
    return loan


def _application(w, loan, period: str, amount: str, status="finance_review") -> SubsidyApplication:
    """An application at the finance bureau's step (the chain is driven over HTTP in tests/e2e)."""
    a = SubsidyApplication(scheme_id=w.scheme.id, loan_id=loan.id, programme="xinyongcun", period=period,
                           period_start=date(2025, 1, 1), period_end=date(2025, 3, 31),
                           interest_declared=D("4000.00"), principal_declared=D("800000.00"), amount=D(amount),
                           status=status, applicant_org_id=w.firm.id, applied_by_id=w.u["firm"].id,
                           bank_id=w.bank.id, enterprise_id=w.firm.id, department_id=w.dept.id,
                           finance_id=w.units["finance"].id)
    db.session.add(a)
    db.session.flush()
    return a


def test_payment_once_per_period_and_never_beyond_the_budget(world):
    w = world("yongchuan_2023")
    finance = w.user("finance")
    loan = _loan(w)
    e = ops.allocate(finance, w.scheme.id, "xinyongcun", "2500.00", "永财预〔2026〕2号", token="a")
    assert ops.allocate(finance, w.scheme.id, "xinyongcun", "2500.00", "永财预〔2026〕2号", token="a").id == e.id
    b = ops.budget(w.scheme.id, "xinyongcun")
    assert ops.balance(b.id) == D("2500.00")

    a = _application(w, loan, "2025Q1", "2000.00")
    paid = ops.pay(a, finance)
    assert paid.balance_after == D("500.00") and a.status == "paid" and a.paid_entry_id == paid.id
    # a second application of the same period (had it slipped past the open key) cannot be paid again
    a.open_key = None
    twin = _application(w, loan, "2025Q1", "2000.00")
    with pytest.raises(Conflict):
        ops.pay(twin, finance)
    # beyond the budget: refused with the balance and the gap, nothing written
    a2 = _application(w, loan, "2025Q2", "600.00")
    with pytest.raises(ops.InsufficientBudget) as exc:
        ops.pay(a2, finance)
    assert "500.00" in str(exc.value) and "100.00" in str(exc.value)
    assert a2.status == "finance_review" and ops.balance(b.id) == D("500.00")
    a3 = _application(w, loan, "2025Q3", "500.00")
    assert ops.pay(a3, finance).balance_after == D("0.00")
    assert [x.amount for x in ops.entries(b.id)] == [D("500.00"), D("2000.00"), D("2500.00")]
    db.session.rollback()


def test_the_ledger_is_append_only(world):
    w = world("yongchuan_2023")
    e = ops.allocate(w.user("finance"), w.scheme.id, "green_micro", "100.00", "预算")
    db.session.flush()
    e.amount = D("1000000.00")
    with pytest.raises(SubsidyLedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    e = ops.allocate(w.user("finance"), w.scheme.id, "green_micro", "100.00", "预算")
    db.session.delete(e)
    with pytest.raises(SubsidyLedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_only_the_schemes_finance_bureau_posts_and_only_to_its_programmes(world):
    w = world("yongchuan_2023")
    other = world("yongchuan_2023")
    for user, prog in ((other.user("finance"), "xinyongcun"), (w.user("finoffice"), "xinyongcun"),
                       (w.user("finance"), "no_such_programme")):
        with pytest.raises(NotFound):
            ops.allocate(user, w.scheme.id, prog, "1.00", "x")
    assert db.session.scalar(select(SubsidyEntry.id).where(
        SubsidyEntry.budget_id == ops.budget(w.scheme.id, "xinyongcun").id)) is None
    with pytest.raises(ops.SubsidyError) as exc:
        ops.allocate(w.user("finance"), w.scheme.id, "xinyongcun", "0.001", "x")
    assert exc.value.field == "amount"
    db.session.rollback()


def test_a_programme_not_yet_entered_takes_no_application(world):
    w = world("yongchuan_2023")
    loan = _loan(w)
    with pytest.raises(ops.SubsidyError) as exc:
        ops.apply(w.user("firm"), loan.id, "xinyongcun", "2025Q1", "100.00", "1000.00")
    assert "尚未录入" in str(exc.value) and exc.value.field == "programme"
    with pytest.raises(ops.SubsidyError) as exc:        # another firm's loan is not offered
        ops.apply(w.user("firm2"), loan.id, "xinyongcun", "2025Q1", "100.00", "1000.00")
    assert exc.value.field == "loan_id"
    db.session.rollback()


def _pay_in_thread(app, app_id, user_id, results, name, started=None, hold=0.0):
    from tests.integration.test_fund_ledger import _in_thread

    def pay():
        from app.accounts.models import User
        a = db.session.get(SubsidyApplication, app_id)
        return ops.pay(a, db.session.get(User, user_id))
    return _in_thread(app, pay, results, name, started=started, hold=hold)


def _race(app, w, first, second):
    import threading
    finance_id = w.u["finance"].id
    db.session.rollback()   # end this session's transaction (SQLite: it would hold the write lock)
    results: dict = {}
    started = threading.Event()
    a = _pay_in_thread(app, first, finance_id, results, "a", started=started, hold=0.3)
    started.wait(10)
    b = _pay_in_thread(app, second, finance_id, results, "b")
    a.join(20)
    b.join(20)
    return results


def test_two_concurrent_payments_never_go_beyond_the_budget_nor_pay_a_period_twice(world, app):
    w = world("yongchuan_2023")
    loan = _loan(w)
    ops.allocate(w.user("finance"), w.scheme.id, "xinyongcun", "3000.00", "预算")
    q1, q2 = _application(w, loan, "2025Q1", "2000.00"), _application(w, loan, "2025Q2", "2000.00")
    # two applications of one period (had the second slipped past the open key)
    q3, q3_twin = _application(w, loan, "2025Q3", "400.00"), _application(w, loan, "2025Q3", "400.00")
    ids = (q1.id, q2.id, q3.id, q3_twin.id)
    db.session.commit()
    results = _race(app, w, ids[0], ids[1])                # together 4,000.00 against 3,000.00: one is refused
    assert results["a"][0] == "ok", results
    assert results["b"][0] == "error" and isinstance(results["b"][1], ops.InsufficientBudget), results
    results = _race(app, w, ids[2], ids[3])                # the same period at once: paid once
    assert results["a"][0] == "ok", results
    assert results["b"][0] == "error" and isinstance(results["b"][1], Conflict), results
    db.session.expire_all()
    b = ops.budget(w.scheme.id, "xinyongcun")
    assert ops.balance(b.id) == D("600.00")
    assert all(e.balance_after >= 0 for e in ops.entries(b.id))
    assert db.session.scalar(select(func.count(SubsidyEntry.id)).where(
        SubsidyEntry.key == f"subsidy:{w.scheme.id}:xinyongcun:{loan.id}:2025Q3")) == 1
