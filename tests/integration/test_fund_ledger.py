"""The fund ledger: direction by kind, idempotent keys, never below zero, append-only."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.errors import DomainError
from app.core.db import db
from app.fund import operations as fund
from app.fund.models import FundEntry, LedgerIsAppendOnly


def _count(scheme_id):
    return db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.scheme_id == scheme_id))


def test_new_scheme_is_funded_with_its_fund_size(world):
    w = world("qianjiang_2018")
    assert fund.balance(w.scheme.id) == Decimal("20000000.00")
    e = fund.find(f"capital:{w.scheme.code}:initial")
    assert e.kind == "capital_injection" and e.direction == "in" and e.balance_after == Decimal("20000000.00")
    assert fund.totals(w.scheme.id)["capital_injection"] == Decimal("20000000.00")


def test_kind_gives_direction_and_totals(world):
    w = world("lingyuan_2020")
    s = w.scheme.id
    fund.post(s, "tax_allocation", Decimal("300000.00"), key=f"t-{w.tag}-tax")
    fund.post(s, "bank_interest_contribution", Decimal("12500.50"), key=f"t-{w.tag}-bic")
    fund.post(s, "interest_credit", Decimal("0.01"), key=f"t-{w.tag}-int")
    fund.post(s, "payout", Decimal("150000.00"), key=f"t-{w.tag}-pay")
    fund.post(s, "advance", Decimal("50000.00"), key=f"t-{w.tag}-adv")
    fund.post(s, "recovery_return", Decimal("20000.00"), key=f"t-{w.tag}-rec")
    fund.post(s, "adjustment", Decimal("0.51"), key=f"t-{w.tag}-adj", direction="out", memo="银行手续费")
    db.session.commit()
    expected = (Decimal("10000000.00") + Decimal("300000.00") + Decimal("12500.50") + Decimal("0.01")
                - Decimal("150000.00") - Decimal("50000.00") + Decimal("20000.00") - Decimal("0.51"))
    assert fund.balance(s) == expected
    t = fund.totals(s)
    assert t["payout"] == Decimal("150000.00") and t["advance"] == Decimal("50000.00")
    assert t["adjustment"] == Decimal("-0.51")
    assert fund.net_payouts(s) == Decimal("180000.00")
    last = fund.entries(s, limit=1)[0]
    assert last.balance_after == expected


@pytest.mark.parametrize("amount, field", [
    (0.5, "amount"), (Decimal("0"), "amount"), (Decimal("-1.00"), "amount"), (Decimal("1.005"), "amount"),
    ("abc", "amount"), (None, "amount")])
def test_bad_amounts_are_refused(world, amount, field):
    w = world()
    before = _count(w.scheme.id)
    with pytest.raises(fund.FundError) as exc:
        fund.post(w.scheme.id, "capital_injection", amount, key=f"bad-{w.tag}")
    assert exc.value.field == field
    assert _count(w.scheme.id) == before


def test_unknown_kind_and_adjustment_rules(world):
    w = world()
    with pytest.raises(fund.FundError, match="未知"):
        fund.post(w.scheme.id, "gift", Decimal("1.00"), key=f"k-{w.tag}-1")
    with pytest.raises(fund.FundError, match="方向"):
        fund.post(w.scheme.id, "adjustment", Decimal("1.00"), key=f"k-{w.tag}-2", memo="x")
    with pytest.raises(fund.FundError, match="原因"):
        fund.post(w.scheme.id, "adjustment", Decimal("1.00"), key=f"k-{w.tag}-3", direction="in")
    with pytest.raises(fund.FundError, match="方向"):
        fund.post(w.scheme.id, "payout", Decimal("1.00"), key=f"k-{w.tag}-4", direction="in")
    with pytest.raises(fund.FundError):
        fund.post(w.scheme.id, "payout", Decimal("1.00"), key="  ")


def test_outflow_beyond_balance_raises_and_writes_nothing(world):
    w = world("qianjiang_2018")
    s = w.scheme.id
    fund.post(s, "payout", Decimal("19999999.99"), key=f"p-{w.tag}-1")
    db.session.commit()
    before = _count(s)
    with pytest.raises(fund.InsufficientFunds) as exc:
        fund.post(s, "payout", Decimal("0.02"), key=f"p-{w.tag}-2")
    msg = str(exc.value)
    assert "余额不足" in msg and "0.01" in msg and "0.02" in msg
    assert isinstance(exc.value, DomainError)      # a refusal with a message for the user
    assert _count(s) == before and fund.find(f"p-{w.tag}-2") is None
    # exactly the balance is allowed: it reaches zero, never below
    fund.post(s, "advance", Decimal("0.01"), key=f"p-{w.tag}-3")
    db.session.commit()
    assert fund.balance(s) == Decimal("0.00")
    assert min(e.balance_after for e in fund.entries(s)) == Decimal("0.00")


def test_same_key_twice_posts_once(world):
    w = world()
    s = w.scheme.id
    first = fund.post(s, "payout", Decimal("1000.00"), key=f"claim:{w.tag}:payout")
    db.session.commit()
    again = fund.post(s, "payout", Decimal("1000.00"), key=f"claim:{w.tag}:payout")
    db.session.commit()
    assert again.id == first.id
    assert fund.balance(s) == Decimal("20000000.00") - Decimal("1000.00")
    # the same key for a different posting is a programming error, not a retry
    with pytest.raises(fund.KeyConflict):
        fund.post(s, "payout", Decimal("2000.00"), key=f"claim:{w.tag}:payout")


def test_failed_step_leaves_ledger_unchanged(world):
    w = world()
    s = w.scheme.id
    before_balance, before_count = fund.balance(s), _count(s)

    def step():
        fund.post(s, "payout", Decimal("500000.00"), key=f"claim:{w.tag}:step")
        raise RuntimeError("a later part of the step failed")

    with pytest.raises(RuntimeError):
        step()
    db.session.rollback()
    assert fund.balance(s) == before_balance and _count(s) == before_count
    assert fund.find(f"claim:{w.tag}:step") is None
    # the retry of the whole step posts it once
    fund.post(s, "payout", Decimal("500000.00"), key=f"claim:{w.tag}:step")
    db.session.commit()
    assert fund.balance(s) == before_balance - Decimal("500000.00")


def test_entries_are_append_only(world):
    w = world()
    e = fund.find(f"capital:{w.scheme.code}:initial")
    e.amount = Decimal("1.00")
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    e = fund.find(f"capital:{w.scheme.code}:initial")
    db.session.delete(e)
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert fund.balance(w.scheme.id) == Decimal("20000000.00")


def _in_thread(app, fn, results, name, started=None, hold=0.0):
    def run():
        with app.app_context():
            try:
                entry = fn()
                if started is not None:
                    started.set()
                time.sleep(hold)        # keep the transaction (and its lock) open a moment
                db.session.commit()
                results[name] = ("ok", entry.id)
            except Exception as exc:   # noqa: BLE001 - reported to the test
                db.session.rollback()
                results[name] = ("error", exc)
                if started is not None:
                    started.set()
            finally:
                db.session.remove()
    t = threading.Thread(target=run)
    t.start()
    return t


def test_two_concurrent_outflows_never_overdraw(world, app):
    """Two sessions each pay 60 % of the fund at the same time: one wins, one is refused."""
    w = world("qianjiang_2018")
    s = w.scheme.id
    db.session.rollback()   # end this session's transaction (SQLite: it would hold the write lock)
    amount = Decimal("12000000.00")
    results: dict = {}
    started = threading.Event()
    a = _in_thread(app, lambda: fund.post(s, "payout", amount, key=f"race-{w.tag}-a"), results, "a",
                   started=started, hold=0.3)
    started.wait(10)
    b = _in_thread(app, lambda: fund.post(s, "payout", amount, key=f"race-{w.tag}-b"), results, "b")
    a.join(20)
    b.join(20)
    assert results["a"][0] == "ok", results
    assert results["b"][0] == "error" and isinstance(results["b"][1], fund.InsufficientFunds), results
    db.session.expire_all()
    assert fund.balance(s) == Decimal("8000000.00")
    assert all(e.balance_after >= 0 for e in fund.entries(s))


def test_concurrent_double_post_of_one_key_posts_once(world, app):
    w = world()
    s = w.scheme.id
    key = f"claim:{w.tag}:double"
    db.session.rollback()
    results: dict = {}
    started = threading.Event()
    a = _in_thread(app, lambda: fund.post(s, "payout", Decimal("100.00"), key=key), results, "a",
                   started=started, hold=0.3)
    started.wait(10)
    b = _in_thread(app, lambda: fund.post(s, "payout", Decimal("100.00"), key=key), results, "b")
    a.join(20)
    b.join(20)
    assert results["a"][0] == "ok" and results["b"][0] == "ok", results
    assert results["a"][1] == results["b"][1]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(FundEntry.id)).where(FundEntry.key == key)) == 1
    assert fund.balance(s) == Decimal("20000000.00") - Decimal("100.00")
