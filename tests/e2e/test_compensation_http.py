"""The compensation process over HTTP, for each preset, with the numbers of the seed's own rule."""
from __future__ import annotations

import re
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.compensation.models import CompensationClaim, ReviewOpinion
from app.core.audit import timeline
from app.core.db import db
from app.core.timeutil import now, today
from app.fund import operations as fund_ops
from app.fund.models import FundEntry
from app.loans.models import Filing, Loan
from app.policies import bindings
from app.workflow.models import HumanTask, ProcessInstance
from tests.conftest import PDF, give_credit_report

D = Decimal
MEMBERS = ("finoffice", "finance", "pboc", "cbirc")


# ------------------------------------------------------------------ helpers

def make_loan(w, amount="1000000.00", product=None, eligible=True, eligibility=None, bank=None, **kw) -> Loan:
    """A filed, active loan inserted directly (the loan-application flow is tested elsewhere)."""
    params = w.scheme.params
    bank = bank or w.bank
    n = db.session.scalar(select(func.count(Loan.id))) + 1
    loan = Loan(no=f"DK-T{w.tag}-{n:04d}", scheme_id=w.scheme.id, bank_id=bank.id, enterprise_id=w.firm.id,
                sector_id=w.sector.id, contract_no=f"HT-{w.tag}-{n}",
                product=product or params.products[0].code, amount=D(amount), annual_rate=D("5.0000"),
                term_months=12, disbursed_on=today() - timedelta(days=400), outstanding_principal=D(amount),
                status="active", eligible=eligible, eligibility_json=json.dumps(eligibility or []),
                **{"policy_version": w.scheme.params_version, **kw})      # as approval records it
    db.session.add(loan)
    db.session.flush()
    for org in w.scheme.member_orgs(*params.filing_recipient_roles):
        db.session.add(Filing(loan_id=loan.id, recipient_id=org.id, acknowledged_at=now()))
    db.session.commit()
    return loan


def task(org, form_key, claim_id) -> HumanTask | None:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org.id, HumanTask.form_key == form_key, HumanTask.subject_type == "compensation_claim",
        HumanTask.subject_id == claim_id, HumanTask.status == "open"))


def claim_of(loan) -> CompensationClaim:
    db.session.expire_all()
    return db.session.scalar(select(CompensationClaim).where(CompensationClaim.loan_id == loan.id)
                             .order_by(CompensationClaim.id.desc()).limit(1))


def balance(w) -> Decimal:
    db.session.expire_all()
    return fund_ops.balance(w.scheme.id)


def entries(w, kind=None):
    q = select(FundEntry).where(FundEntry.scheme_id == w.scheme.id)
    if kind:
        q = q.where(FundEntry.kind == kind)
    return list(db.session.scalars(q.order_by(FundEntry.id)))


def ok(r):
    assert r.status_code == 302, r.data.decode()[:4000]
    return r


def report(w, bank, loan, principal, classification="substandard", days_ago=100):
    return bank.post(f"/compensation/report/{loan.id}", data={
        "overdue_on": (today() - timedelta(days=days_ago)).isoformat(), "overdue_principal": principal,
        "classification": classification, "note": "连续三期未付息，本金逾期"})


def recover(bank, claim, amount, kind="court", days_ago=50):
    return bank.post(f"/compensation/{claim.id}/recoveries", data={
        "kind": kind, "received_on": (today() - timedelta(days=days_ago)).isoformat(), "amount": amount,
        "note": "法院执行款入账"})


def close_recovery(w, bank, claim, days_ago=10):
    t = task(w.bank, "comp_recovery_close", claim.id)
    assert t is not None
    ok(bank.post(f"/tasks/{t.id}", data={"ended_on": (today() - timedelta(days=days_ago)).isoformat(),
                                         "note": "执行终结"}))


def files(**over):
    data = {k: (io.BytesIO(PDF), f"{k}.pdf") for k in ("claim_form", "loan_contract", "recovery_receipts", "npl_proof")}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def submit_claim(w, bank, claim, recovered, final_loss, classification="loss", with_files=True):
    t = task(w.bank, "comp_claim", claim.id)
    assert t is not None
    data = {"classification": classification, "amount_recovered": recovered, "final_loss": final_loss,
            "note": "申请补偿"}
    if with_files:
        data.update(files())
    return bank.post(f"/tasks/{t.id}", data=data, content_type="multipart/form-data")


def review_all(w, login, claim, decision="approve", members=MEMBERS, opinion="同意"):
    for key in members:
        t = task(w.units[key], "comp_joint_review", claim.id)
        assert t is not None, key
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"decision": decision, "opinion": opinion}))


def letter_and_pay(w, login, claim, letter_no="金管办函〔2026〕1号"):
    t = task(w.units["finoffice"], "comp_payout_letter", claim.id)
    assert t is not None
    ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"letter_no": letter_no}))
    t = task(w.units["finance"], "comp_disburse", claim.id)
    assert t is not None and t.due_at is not None
    return login(w.user("finance")).post(f"/tasks/{t.id}", data={"note": "国库集中支付"})


def enter_ratios(w, shares=("0.50", "0.60", "0.30")):
    """永川: the administrator enters the sharing ratios the seed does not give (test entries)."""
    from app.admin import operations as admin_ops
    raw = json.loads(w.scheme.params_json)
    for product, share in zip(raw["products"], shares):
        product["fund_share"] = share
        if product.get("loss_split") == "fund_bank_guarantee":      # 担保贷: fund, bank and guarantee company
            product["bank_share"] = "0.30"
            product["guarantee_share"] = str(1 - D(share) - D("0.30"))
    admin_ops.update_params(w.user("admin"), w.scheme, raw, "录入分担比例（测试）")
    admin_ops.set_scheme_active(w.user("admin"), w.scheme, True)
    db.session.commit()


def line(claim, label) -> Decimal:
    return D(next(l["amount"] for l in claim.computation["lines"] if l["label"] == label))


# ------------------------------------------------------------------ 黔江: 50% of the loss after recovery

def test_qianjiang_full_process(world, login):
    w = world("qianjiang_2018")
    loan = make_loan(w, "1000000.00")
    start = balance(w)
    assert start == D("20000000.00")
    bank = login(w.user("officer"))
    page = bank.get(f"/loans/{loan.id}").data.decode()
    assert 'id="report-overdue"' in page
    assert 'id="report-overdue"' not in login(w.user("other_bank")).get(f"/loans/{loan.id}").data.decode()
    assert login(w.user("other_bank")).get(f"/compensation/report/{loan.id}").status_code == 404

    ok(report(w, bank, loan, "800000.00"))
    claim = claim_of(loan)
    assert claim.status == "recovering" and not claim.advance_requested
    assert db.session.get(Loan, loan.id).status == "overdue"
    assert db.session.get(Loan, loan.id).classification == "substandard"

    ok(recover(bank, claim, "100000.00", "court"))
    ok(recover(bank, claim, "50000.00", "collateral", days_ago=40))
    r = recover(bank, claim, "700000.00")          # more than the overdue principal left
    assert r.status_code == 400 and "累计收回本金不能超过逾期本金" in r.data.decode()
    ok(bank.post(f"/compensation/{claim.id}/costs", data={
        "incurred_on": (today() - timedelta(days=60)).isoformat(), "amount": "8000.00", "note": "诉讼费", "document": (io.BytesIO(PDF), "receipt.pdf")}, content_type="multipart/form-data"))
    assert balance(w) == start                      # nothing paid yet, nothing returned
    close_recovery(w, bank, claim)

    # the claim page of the task shows the computation before submitting
    t = task(w.bank, "comp_claim", claim.id)
    page = bank.get(f"/tasks/{t.id}").data.decode()
    assert "325,000.00" in page and "四舍五入到分" in page
    # the final loss the page computed is already in its field: the bank confirms, it does not retype
    assert re.search(r'id="final_loss"[^>]*value="650000.00"', page) or \
        re.search(r'value="650000.00"[^>]*id="final_loss"', page), "final loss not prefilled"
    # a wrong final loss is refused next to its field; nothing stored
    r = submit_claim(w, bank, claim, "150000.00", "700000.00")
    assert r.status_code == 400 and "最终本金损失应为 650000.00 元" in r.data.decode()
    # a missing non-performing proof is refused
    t = task(w.bank, "comp_claim", claim.id)
    r = bank.post(f"/tasks/{t.id}", data={"classification": "loss", "amount_recovered": "150000.00",
                                          "final_loss": "650000.00", **files(npl_proof=None)},
                  content_type="multipart/form-data")
    assert r.status_code == 400 and "请上传不良贷款证明" in r.data.decode()
    assert claim_of(loan).status == "claim_pending"
    ok(submit_claim(w, bank, claim, "150000.00", "650000.00"))
    claim = claim_of(loan)
    assert claim.status == "in_review"
    assert claim.final_loss == D("650000.00") and claim.payout_amount == D("325000.00")
    assert line(claim, "银行承担") == D("325000.00")
    assert claim.computation["rounding"] == "half_up"

    # the four member units sign in parallel
    review_all(w, login, claim)
    claim = claim_of(loan)
    assert claim.status == "letter_pending"
    ok(letter_and_pay(w, login, claim))
    claim = claim_of(loan)
    assert claim.status == "settled" and claim.paid_at is not None and not claim.paid_late
    assert balance(w) == start - D("325000.00")
    payouts = entries(w, "payout")
    assert len(payouts) == 1 and payouts[0].amount == D("325000.00") and payouts[0].ref_id == claim.id
    assert db.session.get(Loan, loan.id).status == "compensated"
    assert db.session.get(ProcessInstance, claim.instance_id).completed

    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert "已补偿结清" in page and 'id="diagram"' in page and "325,000.00" in page
    progress = bank.get(f"/workflow/instances/{claim.instance_id}/progress.json").get_json()
    assert "disburse" in progress["completed"]
    assert login(w.user("other_bank")).get(f"/compensation/{claim.id}").status_code == 404

    # one loan, one compensation
    r = report(w, bank, loan, "100000.00")
    assert r.status_code == 400 and claim.no in r.data.decode() and "一笔贷款只能补偿一次" in r.data.decode()
    assert db.session.scalar(select(func.count(CompensationClaim.id)).where(CompensationClaim.loan_id == loan.id)) == 1
    actions = [e.action for e in timeline("compensation_claim", claim.id)]
    assert actions[:3] == ["overdue_reported", "recovery_recorded", "recovery_recorded"]
    assert actions[-2:] == ["disbursed", "settled"]
    # the pages render in English too
    assert bank.get(f"/compensation/{claim.id}?lang=en").status_code == 200
    assert login(w.user("finoffice")).get("/compensation/dashboard?lang=en").status_code == 200


def test_qianjiang_send_back_and_re_review(world, login):
    w = world("qianjiang_2018")
    loan = make_loan(w, "600000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "600000.00"))
    claim = claim_of(loan)
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "600000.00", with_files=True))
    claim = claim_of(loan)
    assert claim.status == "in_review" and claim.review_round == 1 and claim.payout_amount == D("300000.00")
    # a second claim while this one is in review is refused, naming it
    r = report(w, bank, loan, "600000.00")
    assert r.status_code == 400 and claim.no in r.data.decode()

    # the financial office approves; the central bank sends it back; the others' tasks are withdrawn
    t = task(w.units["finoffice"], "comp_joint_review", claim.id)
    ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    t = task(w.units["pboc"], "comp_joint_review", claim.id)
    r = login(w.user("pboc")).post(f"/tasks/{t.id}", data={"decision": "return", "opinion": ""})
    assert r.status_code == 400 and "退回或不予补偿须写明理由" in r.data.decode()
    ok(login(w.user("pboc")).post(f"/tasks/{t.id}", data={"decision": "return", "opinion": "请补充抵押物处置拍卖成交确认书"}))
    claim = claim_of(loan)
    assert claim.status == "returned"
    assert task(w.units["finance"], "comp_joint_review", claim.id) is None
    assert task(w.units["cbirc"], "comp_joint_review", claim.id) is None
    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert "请补充抵押物处置拍卖成交确认书" in page and "退回银行补正" in page

    # the bank corrects (materials already on file; one more document) and resubmits: a fresh round
    t = task(w.bank, "comp_claim", claim.id)
    assert 'id="returned"' in bank.get(f"/tasks/{t.id}").data.decode()
    ok(bank.post(f"/tasks/{t.id}", data={"classification": "loss", "amount_recovered": "0.00",
                                         "final_loss": "600000.00", "note": "已补充",
                                         "other": (io.BytesIO(PDF), "auction.pdf")},
                 content_type="multipart/form-data"))
    claim = claim_of(loan)
    assert claim.status == "in_review" and claim.review_round == 2
    for key in MEMBERS:
        assert task(w.units[key], "comp_joint_review", claim.id) is not None, key
    review_all(w, login, claim)
    claim = claim_of(loan)
    assert claim.status == "letter_pending"
    rounds = [(o.round, o.decision) for o in db.session.scalars(
        select(ReviewOpinion).where(ReviewOpinion.claim_id == claim.id).order_by(ReviewOpinion.id))]
    assert rounds[:2] == [(1, "approve"), (1, "return")] and [d for r_, d in rounds[2:]] == ["approve"] * 4
    ok(letter_and_pay(w, login, claim))
    assert claim_of(loan).status == "settled"


def test_qianjiang_all_rule_one_reject_refuses(world, login):
    w = world("qianjiang_2018")
    loan = make_loan(w, "400000.00")
    bank = login(w.user("officer"))
    start = balance(w)
    ok(report(w, bank, loan, "400000.00"))
    claim = claim_of(loan)
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "400000.00"))
    review_all(w, login, claim, members=("finoffice", "finance", "pboc"))
    t = task(w.units["cbirc"], "comp_joint_review", claim.id)
    ok(login(w.user("cbirc")).post(f"/tasks/{t.id}", data={
        "decision": "reject", "violation": "y", "opinion": "银行未按规定进行贷后管理"}))
    claim = claim_of(loan)
    assert claim.status == "rejected" and claim.active_loan_id is None
    assert balance(w) == start
    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert 'id="ineligible"' in page and "违反法律法规或内部管理制度" in page


def test_ineligible_loan_gets_no_payout_and_says_why(world, login):
    w = world("qianjiang_2018")
    loan = make_loan(w, "500000.00", eligible=False, eligibility=[
        {"code": "rate", "passed": False, "message": "年利率 8.00% 超过上限 7.35%"}])
    bank = login(w.user("officer"))
    start = balance(w)
    ok(report(w, bank, loan, "500000.00"))
    claim = claim_of(loan)
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "500000.00"))
    claim = claim_of(loan)
    assert claim.status == "ineligible" and claim.payout_amount == 0
    assert db.session.get(ProcessInstance, claim.instance_id).completed
    assert balance(w) == start and not entries(w, "payout")
    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert 'id="ineligible"' in page and "年利率 8.00% 超过上限 7.35%" in page


# ------------------------------------------------------------------ 江津: 65 : 35, advanced at overdue

def _advance(w, login, claim):
    t = task(w.units["finance"], "comp_advance_review", claim.id)
    assert t is not None
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "材料齐全"}))
    # 江津: 区政府 approves (art.9); a preset naming no approver: the financial office
    approver = "gov" if w.scheme.params.advance_approver_role == "district_government" else "finoffice"
    t = task(w.units[approver], "comp_advance_approve", claim.id)
    assert t is not None
    ok(login(w.user(approver)).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    t = task(w.units["guarantee"], "comp_advance_pay", claim.id)
    assert t is not None
    return login(w.user("guarantee")).post(f"/tasks/{t.id}", data={"note": "代偿凭证 001"})


def test_jiangjin_advance_recovery_return_and_settlement(world, login):
    w = world("jiangjin_2020")
    bindings.bind_preset(w.scheme)   # 江津's own compensation diagram (settlement with 区财政)
    db.session.commit()
    loan = make_loan(w, "1000000.00")
    start = balance(w)
    assert start == D("30000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "1000000.00"))
    claim = claim_of(loan)
    assert claim.status == "advance_review" and claim.advance_amount == D("650000.00")
    lines = {l["label"]: D(l["amount"]) for l in claim.advance_computation["lines"]}
    assert lines["先行代偿金额"] == D("650000.00") and lines["银行承担"] == D("350000.00")
    # no recovery task before the advance branch is done
    assert task(w.bank, "comp_recovery_close", claim.id) is None
    ok(_advance(w, login, claim))
    claim = claim_of(loan)
    assert claim.status == "recovering" and claim.advance_paid_at is not None
    assert balance(w) == start - D("650000.00")
    assert [e.amount for e in entries(w, "advance")] == [D("650000.00")]

    # a recovery after the advance: 65% of it goes back to the fund at once
    ok(recover(bank, claim, "200000.00"))
    claim = claim_of(loan)
    assert claim.recoveries[0].after_payout and claim.recoveries[0].fund_return == D("130000.00")
    assert balance(w) == start - D("650000.00") + D("130000.00")
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "200000.00", "800000.00", classification="loss"))
    claim = claim_of(loan)
    assert line(claim, "基金应分担") == D("520000.00")
    assert line(claim, "据实清算差额") == D("0.00") and claim.payout_amount == D("0.00")
    # 据实清算 with 区财政 (art.9), not a four-member joint meeting
    t = task(w.units["finance"], "comp_settlement", claim.id)
    assert t is not None and task(w.units["pboc"], "comp_joint_review", claim.id) is None
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    claim = claim_of(loan)
    # settled at the review: the advance net of the return is exactly the fund's 65% of the final loss
    assert claim.status == "settled" and task(w.units["finoffice"], "comp_payout_letter", claim.id) is None
    assert db.session.get(Loan, loan.id).status == "compensated"
    assert not entries(w, "payout")

    # a later recovery still returns 65% of it
    ok(recover(bank, claim, "100000.00", "guarantor", days_ago=1))
    assert balance(w) == start - D("650000.00") + D("130000.00") + D("65000.00")
    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert "195,000.00" in page   # returned in total


def test_jiangjin_failed_advance_leaves_ledger_and_workflow_unchanged(world, login):
    w = world("jiangjin_2020")
    loan = make_loan(w, "1000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "1000000.00"))
    claim = claim_of(loan)
    t = task(w.units["finance"], "comp_advance_review", claim.id)
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "材料齐全"}))
    t = task(w.units["gov"], "comp_advance_approve", claim.id)
    ok(login(w.user("gov")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    # the pool has been drained almost empty by earlier advances
    fund_ops.post(w.scheme.id, "advance", balance(w) - D("100000.00"), key=f"drain-{w.tag}")
    db.session.commit()
    inst = db.session.get(ProcessInstance, claim.instance_id)
    state, version = inst.state, inst.version
    events = len(timeline("compensation_claim", claim.id))

    t = task(w.units["guarantee"], "comp_advance_pay", claim.id)
    r = login(w.user("guarantee")).post(f"/tasks/{t.id}", data={"note": "代偿凭证 001"})
    assert r.status_code == 400 and "风险补偿基金余额不足" in r.data.decode()
    claim = claim_of(loan)
    assert claim.status == "advance_payment" and claim.advance_paid_at is None
    assert task(w.units["guarantee"], "comp_advance_pay", claim.id).id == t.id
    inst = db.session.get(ProcessInstance, claim.instance_id)
    assert (inst.state, inst.version) == (state, version)
    assert len(timeline("compensation_claim", claim.id)) == events
    assert balance(w) == D("100000.00") and len(entries(w, "advance")) == 1


# ------------------------------------------------------------------ 凌源: yearly batch (tests/e2e/test_seed_chain_lingyuan_yongchuan.py)

def test_lingyuan_rating_and_first_loan_refused(world, login):
    from app.applications.models import LoanApplication
    w = world("lingyuan_2020")
    app_ = LoanApplication(no=f"ZX-T{w.tag}", scheme_id=w.scheme.id, enterprise_id=w.firm.id, sector_id=w.sector.id,
                           department_id=w.dept.id, recommended_bank_id=w.bank.id, amount=D("300000.00"),
                           term_months=12, purpose="周转", repayment_plan="到期还本", repayment_source="销售回款",
                           credit_rating="BBB", first_loan=False, status="filed")
    db.session.add(app_)
    give_credit_report(w.firm, "BBB", (today() - timedelta(days=500)).isoformat())   # the loaded rating decides
    db.session.flush()
    loan = make_loan(w, "300000.00", application_id=app_.id)
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "300000.00", classification="loss"))
    claim = claim_of(loan)
    assert task(w.bank, "comp_recovery_close", claim.id) is None     # 凌源: claimable once in the loss class
    ok(submit_claim(w, bank, claim, "0.00", "300000.00"))
    claim = claim_of(loan)
    assert claim.status == "ineligible"
    page = bank.get(f"/compensation/{claim.id}").data.decode()
    assert "政策仅补偿首贷" in page and "低于政策要求的 A 级" in page


# ------------------------------------------------------------------ 永川: share by product

@pytest.mark.parametrize("product,share_amount", [("xinyongdai", "250000.00"), ("zengxindai", "300000.00"),
                                                  ("danbaodai", "150000.00")])
def test_yongchuan_share_by_product(world, login, product, share_amount):
    w = world("yongchuan_2023")
    enter_ratios(w)
    loan = make_loan(w, "800000.00", product=product)
    start = balance(w)
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "800000.00"))
    claim = claim_of(loan)
    ok(recover(bank, claim, "300000.00", "repayment"))
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "300000.00", "500000.00"))
    claim = claim_of(loan)
    assert claim.payout_amount == D(share_amount)
    assert any("产品" in l["label"] for l in claim.computation["lines"])
    review_all(w, login, claim)
    ok(letter_and_pay(w, login, claim))
    assert balance(w) == start - D(share_amount)


# ------------------------------------------------------------------ deadline and payout order

def test_late_payout_flagged_on_queue_and_dashboard(world, login):
    from app.jobs.deadlines import escalate_overdue
    w = world("qianjiang_2018")
    loan = make_loan(w, "200000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "200000.00"))
    claim = claim_of(loan)
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "200000.00"))
    review_all(w, login, claim)
    t = task(w.units["finoffice"], "comp_payout_letter", claim.id)
    finoffice = login(w.user("finoffice"))
    ok(finoffice.post(f"/tasks/{t.id}", data={"letter_no": "金管办函〔2026〕7号"}))
    t = task(w.units["finance"], "comp_disburse", claim.id)
    claim = claim_of(loan)
    from app.core.timeutil import local
    from app.core.workdays import calendar
    received = local(claim.letter_issued_at).date()
    assert local(t.due_at).date() == calendar().add_working_days(received, 5)
    assert claim.payout_due_at == t.due_at
    finance = login(w.user("finance"))
    page = finance.get(f"/tasks/{t.id}").data.decode()
    assert 'id="days-left"' in page and "剩余 5 个工作日" in page
    dash = finoffice.get("/compensation/dashboard").data.decode()
    assert 'id="overdue-count">0<' in dash and claim.no in dash

    # the deadline passes without payment
    past = now() - timedelta(days=1)
    t.due_at = past
    claim.payout_due_at = past
    db.session.commit()
    escalate_overdue(now())   # the deadline job (app/jobs/deadlines.py) flags it and alerts the office
    db.session.commit()
    assert task(w.units["finance"], "comp_disburse", claim.id).overdue
    queue = finance.get("/tasks/").data.decode()
    assert "已逾期" in queue and claim.no in queue
    dash = finoffice.get("/compensation/dashboard").data.decode()
    assert 'id="overdue-count">1<' in dash and "table-danger" in dash
    assert 'id="overdue-flag"' in finance.get(f"/tasks/{t.id}").data.decode()
    assert login(w.user("officer")).get("/compensation/dashboard").status_code == 403

    ok(finance.post(f"/tasks/{t.id}", data={"note": "迟付"}))
    claim = claim_of(loan)
    assert claim.status == "settled" and claim.paid_late
    assert 'id="paid-late"' in bank.get(f"/compensation/{claim.id}").data.decode()


def test_payout_order_by_recovery_end_when_fund_is_short(world, login):
    w = world("qianjiang_2018")
    # earlier payouts have left 3,000,000 in the fund
    fund_ops.post(w.scheme.id, "payout", D("17000000.00"), key=f"earlier-{w.tag}", memo="此前拨付")
    db.session.commit()
    bank = login(w.user("officer"))
    late_end = make_loan(w, "4000000.00")
    early_end = make_loan(w, "4000000.00")
    claims = {}
    for loan, ended_days_ago in ((late_end, 5), (early_end, 20)):
        ok(report(w, bank, loan, "4000000.00"))
        c = claim_of(loan)
        close_recovery(w, bank, c, days_ago=ended_days_ago)
        ok(submit_claim(w, bank, c, "0.00", "4000000.00"))
        review_all(w, login, c)
        t = task(w.units["finoffice"], "comp_payout_letter", c.id)
        ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"letter_no": f"函{c.id}"}))
        claims[loan.id] = claim_of(loan)
    a, b = claims[late_end.id], claims[early_end.id]
    assert a.payout_amount == b.payout_amount == D("2000000.00")
    finance = login(w.user("finance"))

    # the claim whose judicial recovery ended later may not jump the queue
    ta = task(w.units["finance"], "comp_disburse", a.id)
    inst = db.session.get(ProcessInstance, a.instance_id)
    state, version = inst.state, inst.version
    r = finance.post(f"/tasks/{ta.id}", data={"note": ""})
    assert r.status_code == 400 and b.no in r.data.decode() and "司法追偿结束时间先后" in r.data.decode()
    assert balance(w) == D("3000000.00")
    inst = db.session.get(ProcessInstance, a.instance_id)
    assert (inst.state, inst.version) == (state, version) and claim_of(late_end).status == "disbursing"

    tb = task(w.units["finance"], "comp_disburse", b.id)
    ok(finance.post(f"/tasks/{tb.id}", data={"note": ""}))
    assert balance(w) == D("1000000.00") and claim_of(early_end).status == "settled"

    # now the fund cannot pay the next one at all: refused, nothing changes
    r = finance.post(f"/tasks/{ta.id}", data={"note": ""})
    assert r.status_code == 400 and "风险补偿基金余额不足" in r.data.decode()
    assert balance(w) == D("1000000.00") and claim_of(late_end).status == "disbursing"
    assert task(w.units["finance"], "comp_disburse", a.id) is not None

    fund_ops.post(w.scheme.id, "capital_injection", D("1500000.00"), key=f"topup-{w.tag}", memo="追加注资")
    db.session.commit()
    ok(finance.post(f"/tasks/{ta.id}", data={"note": ""}))
    assert balance(w) == D("500000.00") and claim_of(late_end).status == "settled"
