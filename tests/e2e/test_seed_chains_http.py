"""黔江 (seed 000) and 江津 (seed 001) each run their own chain, over HTTP as each role, with the seed's numbers:
the steps taken, who took them, the amounts and the fund ledger (issue 11)."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.admin import operations as admin_ops
from app.applications.models import CreditAccessLog, LoanApplication
from app.core.audit import timeline
from app.core.db import db
from app.core.timeutil import today
from app.fund.models import Suspension
from app.loans.models import Loan
from app.policies import bindings
from app.policies.models import Scheme
from app.workflow.models import HumanTask, ProcessInstance
from tests.conftest import application_form
from tests.e2e.test_compensation_http import (balance, claim_of, close_recovery, entries, ok, recover, report,
                                              submit_claim, task)

D = Decimal


def _loan_task(org, form_key, app_id):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org.id, HumanTask.form_key == form_key, HumanTask.subject_type == "loan_application",
        HumanTask.subject_id == app_id, HumanTask.status == "open"))


def _apply(w, login, **over):
    if not bindings.bind_preset(w.scheme) and not [b for b in bindings.bindings_of(w.scheme) if not b.inherited]:
        raise AssertionError("the preset's own diagrams are not deployed")
    db.session.commit()
    firm = login(w.user("firm"))
    ok(firm.post("/applications/new", data=application_form(w, **over), content_type="multipart/form-data"))
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id)
                          .order_by(LoanApplication.id.desc()).limit(1))
    return firm, a


def _approve(officer, t, **over):
    data = {"decision": "approve", "opinion": "经营正常，第一还款来源充足", "contract_no": "HT-2026-088",
            "amount": "1000000.00", "annual_rate": "7.35", "term_months": "12",
            "disbursed_on": (today() - timedelta(days=400)).isoformat(), "product": "standard"}
    data.update(over)
    return officer.post(f"/tasks/{t.id}", data=data)


def _steps(subject_type, subject_id):
    """(action, acting organisation) of each timeline event."""
    return [(e.action, e.actor_org_id) for e in timeline(subject_type, subject_id)]


def _path(instance_id):
    return [t.bpmn_id for t in db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "completed").order_by(HumanTask.id))]


# ------------------------------------------------------------------ 黔江

def test_qianjiang_chain_direct_to_bank_joint_meeting_letter_and_payout(world, login, app):
    w = world("qianjiang_2018")
    firm, a = _apply(w, login)
    # 附件1 第十条: the application and the authorisation go to the bank itself; no department step
    assert a.recommended_bank_id == w.bank.id and a.status == "submitted"
    assert _loan_task(w.dept, "department_review", a.id) is None
    assert db.session.get(ProcessInstance, a.instance_id).spec.process_id == "loan_application_qianjiang"
    t = _loan_task(w.bank, "bank_due_diligence", a.id)
    assert t is not None
    other = login(w.user("other_bank"))
    assert other.get(f"/tasks/{t.id}").status_code == 404
    assert other.post(f"/applications/{a.id}/credit").status_code in (403, 404)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    assert officer.post(f"/applications/{a.id}/credit").status_code == 200   # the authorisation handed over
    assert db.session.scalar(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id,
                                                           CreditAccessLog.granted.is_(True))) is not None
    # 基准 4.35% + 3 个百分点 = 7.35% (正文 (五)1): 7.36% is over the cap
    r = _approve(officer, t, annual_rate="7.36")
    assert r.status_code == 400 and "7.35" in r.data.decode()
    ok(_approve(officer, t))
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan.eligible and loan.rate_cap == D("7.3500") and loan.policy_version == w.scheme.params_version
    # filing to 金管办 (附件2 第十二条) only
    assert _loan_task(w.units["finance"], "filing_ack", a.id) is None
    t = _loan_task(w.units["finoffice"], "filing_ack", a.id)
    ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"note": "已备案"}))
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).status == "active"
    assert _path(a.instance_id) == ["bank_due_diligence", "filing_ack"]
    assert _steps("loan_application", a.id) == [
        ("submitted", w.firm.id), ("claimed", w.bank.id), ("bank_approved", w.bank.id),
        ("filing_acknowledged", w.units["finoffice"].id), ("filed", None)]

    # the scheme's parameters change after approval: the loan keeps the version it was approved under
    scheme = db.session.get(Scheme, w.scheme.id)
    edited = scheme.params.model_dump(mode="json")
    edited["fund_share"] = "0.40"
    edited["products"][0]["fund_share"] = "0.40"
    admin_ops.update_params(w.user("admin"), scheme, edited, "测试：调整分担比例")
    db.session.commit()
    assert db.session.get(Scheme, w.scheme.id).params.fund_share == D("0.40")

    start = balance(w)
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "1000000.00"))
    claim = claim_of(loan)
    ok(recover(bank, claim, "150000.00"))
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "150000.00", "850000.00"))
    claim = claim_of(loan)
    # 附件2 第十一条(三): 50% of the loss after recovery — the approval-time 50%, not the edited 40%
    assert claim.fund_share_amount == D("425000.00") and claim.payout_amount == D("425000.00")
    for key in ("finoffice", "finance", "pboc", "cbirc"):   # 第六条: the four members of 金管办
        t = task(w.units[key], "comp_joint_review", claim.id)
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    assert task(w.units["finance"], "comp_payout_letter", claim.id) is None
    t = task(w.units["finoffice"], "comp_payout_letter", claim.id)   # 第八条(一): 区金融办 issues the letter
    ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"letter_no": "金管办函〔2026〕8号"}))
    t = task(w.units["finance"], "comp_disburse", claim.id)            # 第八条(二): 财政局 pays in 5 working days
    claim = claim_of(loan)
    assert claim.payout_due_at is not None and t.due_at == claim.payout_due_at
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"note": "国库集中支付"}))
    claim = claim_of(loan)
    assert claim.status == "settled" and not claim.paid_late
    assert [e.amount for e in entries(w, "payout")] == [D("425000.00")]
    assert balance(w) == start - D("425000.00")
    assert db.session.get(ProcessInstance, claim.instance_id).spec.process_id == "compensation_qianjiang"
    assert _path(claim.instance_id) == ["recovery_close", "claim_submit"] + ["joint_review"] * 4 + [
        "payout_letter", "disburse"]
    steps = _steps("compensation_claim", claim.id)
    assert [s for s in steps if s[0] in ("overdue_reported", "recovery_recorded", "recovery_closed",
                                         "claim_submitted", "letter_issued", "disbursed")] == [
        ("overdue_reported", w.bank.id), ("recovery_recorded", w.bank.id), ("recovery_closed", w.bank.id),
        ("claim_submitted", w.bank.id), ("letter_issued", w.units["finoffice"].id),
        ("disbursed", w.units["finance"].id)]
    assert sorted(o for a_, o in steps if a_ == "review_approve") == sorted(
        w.units[k].id for k in ("finoffice", "finance", "pboc", "cbirc"))


def test_qianjiang_bank_decline_tells_the_firm_why(world, login):
    w = world("qianjiang_2018")
    firm, a = _apply(w, login)
    t = _loan_task(w.bank, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    ok(officer.post(f"/tasks/{t.id}", data={"decision": "decline", "reason": "近一年连续亏损，第一还款来源不足"}))
    page = firm.get(f"/applications/{a.id}").data.decode()
    assert 'id="decline-reason"' in page and "近一年连续亏损，第一还款来源不足" in page
    assert _path(a.instance_id) == ["bank_due_diligence"]


def test_qianjiang_firm_sees_a_suspended_bank_before_choosing_and_cannot_apply_to_it(world, login):
    """黔江's firm chooses its bank (art.10): a suspended bank is marked in the choice, and an application
    sent straight to it is refused next to the field with nothing stored."""
    from app.policies.models import SchemeMember
    w = world("qianjiang_2018")
    assert bindings.bind_preset(w.scheme) or [b for b in bindings.bindings_of(w.scheme) if not b.inherited]
    member = db.session.scalar(select(SchemeMember).where(SchemeMember.scheme_id == w.scheme.id,
                                                          SchemeMember.organisation_id == w.bank.id))
    member.suspended, member.suspended_reason = True, "不良率超过 3%"
    db.session.commit()
    firm = login(w.user("firm"))
    page = firm.get("/applications/new").data.decode()
    # the bank lists of every policy the form may choose (application_form.js fills the selects from them)
    banks = json.loads(html.unescape(re.search(r"data-banks='([^']*)'", page).group(1)))
    assert dict(banks[str(w.scheme.id)]) == {w.bank.id: f"{w.bank.name} — 已暂停", w.bank2.id: w.bank2.name}
    before = db.session.scalar(select(func.count(LoanApplication.id)))
    r = firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    assert r.status_code == 400
    assert "暂停开展业务" in r.data.decode() and "不良率超过 3%" in r.data.decode()
    assert db.session.scalar(select(func.count(LoanApplication.id))) == before
    # the other bank, not suspended, takes it
    r = firm.post("/applications/new", data=application_form(w, consent_bank_id=str(w.bank2.id),
                                                              preferred_bank_id=str(w.bank2.id)),
                  content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]


# ------------------------------------------------------------------ 江津

def _jiangjin_loan(w, login, amount="1000000.00"):
    firm, a = _apply(w, login, amount=amount)
    assert a.recommended_bank_id is None
    t = _loan_task(w.dept, "department_review", a.id)          # 第十七条: the department's written opinion
    ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "符合产业方向，推荐",
                                                          "bank_id": str(w.bank.id)}))
    t = _loan_task(w.bank, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    # 第十一条4: the controller's and major shareholders' joint guarantee is required
    r = _approve(officer, t, annual_rate="5.22", product="zengxindai", amount=amount)
    assert r.status_code == 400
    ok(_approve(officer, t, annual_rate="5.22", product="zengxindai", amount=amount, joint_guarantee="y"))
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan.eligible and loan.joint_guarantee and loan.rate_cap == D("5.2200")   # 4.35% × 1.2 (第十四条)
    for key in ("finance", "centre", "guarantee"):                # 第十八条: three filing recipients
        t = _loan_task(w.units[key], "filing_ack", a.id)
        assert t is not None, key
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"note": "已备案"}))
    assert _loan_task(w.units["finoffice"], "filing_ack", a.id) is None
    assert _path(a.instance_id) == ["department_review", "bank_due_diligence", "filing_ack", "filing_ack", "filing_ack"]
    assert db.session.get(ProcessInstance, a.instance_id).spec.process_id == "loan_application_jiangjin"
    db.session.expire_all()
    return db.session.get(Loan, loan.id)


def test_jiangjin_chain_government_approves_advance_settles_with_finance_and_stops_the_bank(world, login):
    w = world("jiangjin_2020")
    loan = _jiangjin_loan(w, login)
    start = balance(w)
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "1000000.00"))
    claim = claim_of(loan)
    assert claim.advance_amount == D("650000.00")                 # 第九条: 65%
    t = task(w.units["finance"], "comp_advance_review", claim.id)  # the bank applies to 区财政局
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "材料齐全"}))
    assert task(w.units["finoffice"], "comp_advance_approve", claim.id) is None   # not 金融办 acting for it
    t = task(w.units["gov"], "comp_advance_approve", claim.id)     # 区政府 agrees (第九条; 第八条 every withdrawal)
    assert t is not None
    ok(login(w.user("gov")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    t = task(w.units["guarantee"], "comp_advance_pay", claim.id)   # 诚信担保 pays the bank
    ok(login(w.user("guarantee")).post(f"/tasks/{t.id}", data={"note": "代偿凭证 001"}))
    assert [e.amount for e in entries(w, "advance")] == [D("650000.00")]
    ok(recover(bank, claim, "200000.00"))                          # 65% of recovered principal back
    assert balance(w) == start - D("650000.00") + D("130000.00")
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "200000.00", "800000.00"))
    claim = claim_of(loan)
    assert claim.fund_share_amount == D("520000.00") and claim.payout_amount == D("0.00")
    for key in ("finoffice", "pboc", "cbirc"):                     # no four-member joint meeting
        assert task(w.units[key], "comp_joint_review", claim.id) is None
    t = task(w.units["finance"], "comp_settlement", claim.id)      # 据实清算 with 区财政
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "据实清算无差额"}))
    claim = claim_of(loan)
    assert claim.status == "settled" and not entries(w, "payout")
    assert _path(claim.instance_id) == ["advance_review", "advance_approve", "advance_pay", "recovery_close",
                                        "claim_submit", "joint_review"]
    steps = [s for s in _steps("compensation_claim", claim.id) if s[0] not in ("recovery_recorded",)]
    assert steps == [("overdue_reported", w.bank.id), ("advance_reviewed_approve", w.units["finance"].id),
                     ("advance_approved_approve", w.units["gov"].id), ("advance_paid", w.units["guarantee"].id),
                     ("recovery_closed", w.bank.id), ("claim_submitted", w.bank.id),
                     ("review_approve", w.units["finance"].id), ("settled", None)]

    # 第十条: NPL over 10% — 区政府 stops the cooperation (ended, no rectification), new loans refused
    s = db.session.scalar(select(Suspension).where(Suspension.scheme_id == w.scheme.id, Suspension.bank_id == w.bank.id))
    assert s.status == "ended" and "停止" in s.reason and s.instance_id is None
    member = db.session.get(Scheme, w.scheme.id).member(w.bank.id, "bank")
    assert member.ended_at is not None
    firm = login(w.user("firm"))
    r = firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    assert r.status_code == 400 and "停止" in r.data.decode()


def test_jiangjin_refused_advance_then_government_approves_the_settlement_withdrawal(world, login):
    w = world("jiangjin_2020")
    loan = _jiangjin_loan(w, login)
    start = balance(w)
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "1000000.00"))
    claim = claim_of(loan)
    t = task(w.units["finance"], "comp_advance_review", claim.id)
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "材料齐全"}))
    t = task(w.units["gov"], "comp_advance_approve", claim.id)
    ok(login(w.user("gov")).post(f"/tasks/{t.id}", data={"decision": "refuse", "opinion": "先行追偿"}))
    assert not entries(w, "advance")
    ok(recover(bank, claim, "200000.00"))
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "200000.00", "800000.00"))
    t = task(w.units["finance"], "comp_settlement", claim.id)
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "据实清算"}))
    # 第八条: the withdrawal from the pool needs 区政府 approval
    assert task(w.units["finoffice"], "comp_payout_letter", claim.id) is None
    t = task(w.units["gov"], "comp_withdrawal_approve", claim.id)
    assert t is not None
    ok(login(w.user("gov")).post(f"/tasks/{t.id}", data={"letter_no": "江津府批〔2026〕3号"}))
    t = task(w.units["finance"], "comp_disburse", claim.id)
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"note": "拨付"}))
    claim = claim_of(loan)
    assert claim.status == "settled" and claim.payout_amount == D("520000.00")   # 65% of 800,000
    assert [e.amount for e in entries(w, "payout")] == [D("520000.00")]
    assert balance(w) == start - D("520000.00")
    assert ("letter_issued", w.units["gov"].id) in _steps("compensation_claim", claim.id)


def test_jiangjin_excludes_a_firm_by_its_registered_business_scope(world, login):
    w = world("jiangjin_2020")
    firm_org = db.session.get(type(w.firm), w.firm.id)
    firm_org.business_scope = "房地产开发经营；建筑材料销售"
    db.session.commit()
    firm, a = _apply(w, login)   # the loan's purpose is working capital
    t = _loan_task(w.dept, "department_review", a.id)
    ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐",
                                                          "bank_id": str(w.bank.id)}))
    t = _loan_task(w.bank, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    r = _approve(officer, t, annual_rate="5.22", product="zengxindai", joint_guarantee="y", outside_scheme="y")
    assert r.status_code == 400 and "经营范围" in r.data.decode()
    assert db.session.scalar(select(Loan).where(Loan.application_id == a.id)) is None
