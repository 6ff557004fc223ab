"""Performance evaluation (绩效评价, issue 12 item 5): the order-taking rate and decision times from
the task history of real applications, targets as scheme data (a missing one is not evaluated),
confirmation by the finance bureau only and once, and 江津's pool filled per bank (第七条)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.applications import operations as app_ops
from app.core.db import db
from app.core.errors import NotAllowed
from app.core.timeutil import SHANGHAI, today
from app.fund import operations as fund
from app.fund.models import FundEntry
from app.performance import operations as perf
from app.performance.models import Evaluation, EvaluationIsConfirmed, EvaluationRow
from app.policies.params import validate_params
from app.policies.presets import load_preset
from app.workflow.models import HumanTask
from tests.conftest import PDF, PNG
from tests.integration.test_thresholds import make_loan, open_task

D = Decimal


def _sh(y, m, d, h=10):
    return datetime(y, m, d, h, 0, tzinfo=SHANGHAI)


def _application(w, firm_key="firm", sector=None, bank=None, dept=None):
    """A real application: submitted, recommended by its department to ``bank``, claimed there."""
    bank, dept, sector = bank or w.bank, dept or w.dept, sector or w.sector
    a = app_ops.submit_application(w.user(firm_key), app_ops.ApplicationInput(
        scheme_id=w.scheme.id, sector_id=sector.id, amount=D("1000000.00"), term_months=12,
        purpose="采购原材料", activity="working_capital", repayment_plan="按月付息，到期还本",
        repayment_source="销售回款", preferred_bank_id=bank.id, consent_bank_id=bank.id,
        consent_valid_until=today() + timedelta(days=90), consent_purpose="贷前调查", credit_rating="A"),
        [("licence.pdf", PDF)], [("statements.png", PNG)], [])
    db.session.commit()
    dt = open_task(dept, "department_review", a.id)
    app_ops.department_review(dt.id, w.user("dept" if dept == w.dept else "dept2"), "recommend", "经营正常", bank.id)
    db.session.commit()
    bt = open_task(bank, "bank_due_diligence", a.id)
    officer = w.user("officer" if bank == w.bank else "other_bank")
    app_ops.claim(bt.id, officer)
    db.session.commit()
    return a, dt.id, bt.id, officer


def _decide(w, task_id, officer, decision, n):
    if decision == "approve":
        app_ops.bank_decide(task_id, officer, "approve", approval=app_ops.Approval(
            contract_no=f"HT-{w.tag}-{n}", amount=D("1000000.00"), annual_rate=D("5.0000"), term_months=12,
            disbursed_on=today(), product=w.scheme.params.products[0].code, joint_guarantee=True))
    else:
        app_ops.bank_decide(task_id, officer, "decline", reason="经营现金流不足")
    db.session.commit()


def _dated(task_id, created, completed):
    t = db.session.get(HumanTask, task_id)
    t.created_at, t.completed_at = created, completed
    db.session.commit()


def _row(ev, kind, org_id):
    return next(r for r in ev.rows if r.kind == kind and r.org_id == org_id)


def test_an_evaluation_computes_the_order_taking_rate_from_task_history(world):
    w = world("jiangjin_2020")
    decided = []
    for n, decision in enumerate(("approve", "approve", "decline"), 1):
        _a, dept_task, bank_task, officer = _application(w)
        _decide(w, bank_task, officer, decision, n)
        decided.append((dept_task, bank_task))
    _a, dept_task2, bank2_task, officer2 = _application(w, "firm2", w.sector2, w.bank2, w.dept2)
    _decide(w, bank2_task, officer2, "decline", 9)
    assert db.session.get(HumanTask, decided[0][1]).status == "completed"
    # the history placed in 2025 (Shanghai): 24 Jan → 7 Feb is 5 working days (春节; 26 Jan a 调休 working
    # day), 3 Mar → 3 Mar is 0, 3 Mar → 6 Mar is 3
    _dated(decided[0][1], _sh(2025, 1, 24), _sh(2025, 2, 7, 16))
    _dated(decided[1][1], _sh(2025, 3, 3, 9), _sh(2025, 3, 3, 17))
    _dated(decided[2][1], _sh(2025, 3, 3), _sh(2025, 3, 6))
    _dated(bank2_task, _sh(2025, 6, 2), _sh(2025, 6, 4))
    _dated(decided[0][0], _sh(2025, 1, 20), _sh(2025, 1, 24))        # department: Mon → Fri, 4 working days
    _dated(dept_task2, _sh(2025, 12, 31, 20), _sh(2026, 1, 2))        # completed in 2026: not in 2025

    ev = perf.compute(w.scheme.id, "2025", w.user("finance"))
    db.session.commit()
    bank = _row(ev, "bank", w.bank.id).figures["actuals"]
    assert (bank["decided"], bank["accepted"], bank["acceptance_rate"]) == (3, 2, "0.6667")
    assert (bank["median_days"], bank["mean_days"]) == ("3.0", "2.7")
    other = _row(ev, "bank", w.bank2.id).figures["actuals"]
    assert (other["decided"], other["accepted"], other["acceptance_rate"], other["median_days"]) == (1, 0, "0.0000", "2.0")
    total = _row(ev, "scheme", None).figures["actuals"]
    assert (total["decided"], total["accepted"], total["acceptance_rate"]) == (4, 2, "0.5000")
    dept = _row(ev, "department", w.dept.id).figures["actuals"]
    assert (dept["completed"], dept["median_days"], dept["mean_days"]) == (1, "4.0", "4.0")
    assert all(r.org_id != w.dept2.id for r in ev.rows)             # its only review was decided in 2026


def _targets(w, growth: dict):
    """The administrator enters each bank's growth target (by organisation code) in the scheme's parameters."""
    from app.admin import operations as admin_ops
    params = json.loads(w.scheme.params.to_json())
    params["performance"]["targets"][0]["bank_values"] = growth
    admin_ops.update_params(w.user("admin"), w.scheme, params, "录入各合作银行增信贷余额增长目标")
    db.session.commit()


def test_a_missing_target_is_not_evaluated_and_deposits_nothing(world):
    w = world("jiangjin_2020")
    make_loan(w, "1000000.00").disbursed_on = today()
    db.session.commit()
    year = str(today().year)
    ev = perf.compute(w.scheme.id, year, w.user("finance"))
    db.session.commit()
    targets = {t["metric"]: t for t in _row(ev, "bank", w.bank.id).figures["targets"]}
    assert targets["balance_growth"]["evaluated"] is False and targets["balance_growth"]["reason"] == "not_entered"
    assert targets["npl_ratio"]["evaluated"] is True and targets["npl_ratio"]["met"] is True   # 1.8 %, seed line 61
    scheme_row = _row(ev, "scheme", None).figures
    assert {t["metric"]: t["target"] for t in scheme_row["targets"]}["balance_growth"] == "50000000.00"
    assert scheme_row["pool_not_computed"] == {"reason": "missing_targets", "banks": [w.bank.id, w.bank2.id]}
    before = fund.balance(w.scheme.id)
    perf.confirm(ev.id, w.user("finance"))
    db.session.commit()
    assert fund.balance(w.scheme.id) == before
    assert _row(db.session.get(Evaluation, ev.id), "bank", w.bank.id).deposit is None


def test_confirmation_fills_jiangjin_pool_per_bank_once(world):
    w = world("jiangjin_2020")
    _targets(w, {w.bank.code: "3000000.00", w.bank2.code: "4000000.00"})
    for amount, bank, cls in (("1000000.00", w.bank, "normal"), ("3900000.00", w.bank2, "normal"),
                              ("100000.00", w.bank2, "substandard")):
        make_loan(w, amount, bank=bank, classification=cls).disbursed_on = today()
    db.session.commit()
    year = str(today().year)
    ev = perf.compute(w.scheme.id, year, w.user("finoffice"))        # the financial office may compute
    db.session.commit()
    assert ev.params_version == 2                                    # computed with the entered targets
    a, b = _row(ev, "bank", w.bank.id).figures, _row(ev, "bank", w.bank2.id).figures
    # slice = 30,000,000 × 3/7 = 12,857,142.857…; completion 1/3 → 4,285,714.2857… → down to the fen
    assert (a["pool"]["completion"], a["pool"]["due"]) == ("0.3333", "4285714.28")
    assert (b["pool"]["completion"], b["pool"]["due"]) == ("1.0000", "17142857.14")     # capped at 100 %
    npl = {t["metric"]: t for t in b["targets"]}["npl_ratio"]
    assert (npl["actual"], npl["met"]) == ("0.0250", False)

    with pytest.raises(NotAllowed):
        perf.confirm(ev.id, w.user("finoffice"))                     # only the finance bureau confirms
    db.session.rollback()
    before = fund.balance(w.scheme.id)
    perf.confirm(ev.id, w.user("finance"), "经审核确认")
    db.session.commit()
    assert fund.balance(w.scheme.id) == before + D("4285714.28") + D("17142857.14")
    entry = db.session.scalar(select(FundEntry).where(FundEntry.key == f"performance:{ev.id}:bank:{w.bank.id}"))
    assert entry.kind == "performance_deposit" and entry.amount == D("4285714.28")

    # confirmed: a second confirmation is refused and posts nothing; the rows cannot change
    with pytest.raises(perf.PerformanceError) as exc:
        perf.confirm(ev.id, w.user("finance"))
    assert exc.value.status == 409
    db.session.rollback()
    row = db.session.get(EvaluationRow, _row(ev, "bank", w.bank.id).id)
    row.deposit = D("1.00")
    with pytest.raises(EvaluationIsConfirmed):
        db.session.flush()
    db.session.rollback()
    assert fund.balance(w.scheme.id) == before + D("21428571.42")

    # a recomputation opens revision 2; confirming it tops the bank up only by what its completion adds
    make_loan(w, "2000000.00").disbursed_on = today()                 # bank now at 3,000,000: 100 %
    db.session.commit()
    ev2 = perf.compute(w.scheme.id, year, w.user("finance"))
    db.session.commit()
    assert ev2.id != ev.id and ev2.revision == 2 and db.session.get(Evaluation, ev.id).status == "confirmed"
    perf.confirm(ev2.id, w.user("finance"))
    db.session.commit()
    assert _row(ev2, "bank", w.bank.id).deposit == D("12857142.85") - D("4285714.28")
    assert _row(ev2, "bank", w.bank2.id).deposit == D("0.00")
    assert fund.balance(w.scheme.id) == before + D("12857142.85") + D("17142857.14")


def test_who_computes_and_who_sees_which_row(world):
    w = world("jiangjin_2020")
    with pytest.raises(NotAllowed):
        perf.compute(w.scheme.id, "2025", w.user("officer"))
    db.session.rollback()
    for bad in ("20x5", "25", str(today().year + 1)):
        with pytest.raises(perf.PerformanceError):
            perf.compute(w.scheme.id, bad, w.user("finance"))
        db.session.rollback()
    _a, dept_task, bank_task, officer = _application(w)
    _decide(w, bank_task, officer, "decline", 1)
    ev = perf.compute(w.scheme.id, str(today().year), w.user("finance"))
    db.session.commit()
    assert {(r.kind, r.org_id) for r in perf.visible_rows(ev, w.user("officer"))} == {("bank", w.bank.id)}
    assert {(r.kind, r.org_id) for r in perf.visible_rows(ev, w.user("dept"))} == {("department", w.dept.id)}
    assert perf.visible_rows(ev, w.user("dept2")) is None
    assert perf.visible_rows(ev, w.user("firm")) is None and perf.visible_rows(ev, w.user("pboc")) is None
    assert len(perf.visible_rows(ev, w.user("finoffice"))) == len(ev.rows)
    # recomputing a draft replaces it (same revision)
    again = perf.compute(w.scheme.id, str(today().year), w.user("finance"))
    db.session.commit()
    assert again.id == ev.id and again.revision == 1


def test_targets_are_validated_as_scheme_parameters(ctx):
    def errors(change):
        params = load_preset("jiangjin_2020")
        change(params["performance"])
        return validate_params(params)
    assert "performance.targets[2].bank_value" in errors(lambda p: p["targets"][2].update(bank_value="1.5"))
    assert "performance.targets[1].bank_value" in errors(lambda p: p["targets"][1].update(bank_value="100"))
    assert "performance.targets[0].bank_values.X" in errors(lambda p: p["targets"][0].update(bank_values={"X": "1.001"}))
    assert "performance.pool_fill.rounding" in errors(lambda p: p["pool_fill"].update(rounding="up"))
    assert "performance.pool_fill.metric" in errors(lambda p: p["pool_fill"].update(metric="new_borrowers") or
                                                    p["targets"].pop(1))
    assert validate_params(load_preset("yongchuan_2023")) == {} and validate_params(load_preset("lingyuan_2020")) == {}


def test_a_past_year_reads_balances_from_the_loan_book_as_of_its_months(world):
    from datetime import date

    from app.loanbook import operations as book
    w = world("jiangjin_2020")
    y = today().year - 1
    old, bad, silent = make_loan(w, "1000000.00"), make_loan(w, "500000.00"), make_loan(w, "300000.00")
    old.disbursed_on, bad.disbursed_on, silent.disbursed_on = date(y - 1, 6, 1), date(y, 3, 1), date(y, 5, 1)
    db.session.commit()
    book.report(w.bank, f"{y - 1}-12", [book.RowInput(old.no, "900000.00", "100000.00", "normal", "performing")],
                source="form", replace=False)
    book.report(w.bank, f"{y}-12", [book.RowInput(old.no, "0.00", "900000.00", "normal", "repaid"),
                                    book.RowInput(bad.no, "400000.00", "0.00", "substandard", "overdue")],
                source="form", replace=False)
    db.session.commit()
    ev = perf.compute(w.scheme.id, str(y), w.user("finance"))
    db.session.commit()
    a = _row(ev, "bank", w.bank.id).figures["actuals"]
    # start: the 900,000 reported for December of the year before; end: repaid 0 + 400,000 reported +
    # 300,000 never reported (its approved amount)
    assert (a["balance_start"], a["balance_end"], a["balance_growth"]) == ("900000.00", "700000.00", "-200000.00")
    assert (a["npl_principal"], a["npl_ratio"]) == ("400000.00", "0.5714")
    assert (a["volume"], a["loans_disbursed"], a["new_borrowers"]) == ("800000.00", 2, 0)
    growth = {t["metric"]: t for t in _row(ev, "scheme", None).figures["targets"]}["balance_growth"]
    assert (growth["evaluated"], growth["met"], growth["completion"]) == (True, False, "-0.0040")
