"""Thresholds: the 黔江 pause at 50 % of the fund, the NPL suspension of one bank (黔江 ≥ 3 %,
江津 > 10 %), the fund-size review flag, rectification, and the gates they close and reopen."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.i18n import shown_in_source_language
from app.applications import operations as app_ops
from app.core.db import db
from app.core.timeutil import today
from app.fund import operations as fund
from app.fund import rectification, thresholds
from app.fund.models import FundAccount, Suspension
from app.loans.models import Loan
from app.policies.models import Scheme, SchemeMember
from app.workflow.models import HumanTask
from tests.conftest import PDF, PNG

D = Decimal


def make_loan(w, amount, classification="normal", bank=None, eligible=True, status="active") -> Loan:
    bank = bank or w.bank
    n = db.session.scalar(select(func.count(Loan.id))) + 1
    loan = Loan(no=f"DK-F{w.tag}-{n:04d}", scheme_id=w.scheme.id, bank_id=bank.id, enterprise_id=w.firm.id,
                sector_id=w.sector.id, contract_no=f"HT-{w.tag}-{n}", product=w.scheme.params.products[0].code,
                amount=D(amount), annual_rate=D("5.0000"), term_months=12, disbursed_on=today() - timedelta(days=200),
                outstanding_principal=D(amount), status=status, eligible=eligible, eligibility_json="[]",
                classification=classification)
    db.session.add(loan)
    db.session.flush()
    return loan


def member(w, bank=None) -> SchemeMember:
    db.session.expire_all()
    return db.session.scalar(select(SchemeMember).where(
        SchemeMember.scheme_id == w.scheme.id, SchemeMember.organisation_id == (bank or w.bank).id,
        SchemeMember.role == "bank"))


def scheme(w) -> Scheme:
    db.session.expire_all()
    return db.session.get(Scheme, w.scheme.id)


def open_task(org, form_key, subject_id=None):
    db.session.expire_all()
    q = select(HumanTask).where(HumanTask.org_id == org.id, HumanTask.form_key == form_key,
                                HumanTask.status == "open")
    if subject_id is not None:
        q = q.where(HumanTask.subject_id == subject_id)
    return db.session.scalar(q.order_by(HumanTask.id.desc()).limit(1))


# ------------------------------------------------------------------ 黔江 pause at 50 % of the fund

def test_qianjiang_pauses_when_net_payouts_reach_half_the_fund(world):
    w = world("qianjiang_2018")
    s = w.scheme.id
    fund.post(s, "payout", D("9999999.99"), key=f"pay-{w.tag}-1")
    db.session.commit()
    assert not scheme(w).paused
    fund.post(s, "payout", D("0.01"), key=f"pay-{w.tag}-2")   # exactly 50 %: reached
    db.session.commit()
    sc = scheme(w)
    assert sc.paused
    assert "10,000,000.00" in sc.paused_reason and "50.00%" in sc.paused_reason
    # calling the hook again (as app/compensation does) changes nothing
    thresholds.after_payout(s)
    db.session.commit()
    assert scheme(w).paused


def test_recovery_returns_count_against_payouts(world):
    w = world("qianjiang_2018")
    s = w.scheme.id
    fund.post(s, "payout", D("6000000.00"), key=f"pay-{w.tag}-1")
    fund.post(s, "recovery_return", D("1000000.00"), key=f"rec-{w.tag}-1")
    fund.post(s, "payout", D("4999999.99"), key=f"pay-{w.tag}-2")   # net 9,999,999.99
    db.session.commit()
    assert thresholds.utilisation(scheme(w)).net_payouts == D("9999999.99")
    assert not scheme(w).paused
    fund.post(s, "advance", D("0.01"), key=f"adv-{w.tag}-1")
    db.session.commit()
    assert scheme(w).paused


def test_schemes_without_the_pause_rule_never_pause(world):
    w = world("jiangjin_2020")
    fund.post(w.scheme.id, "payout", D("29000000.00"), key=f"pay-{w.tag}")
    db.session.commit()
    assert not scheme(w).paused
    assert thresholds.utilisation(scheme(w)).pause_ratio is None


def test_only_the_financial_office_resumes_with_a_reason(world):
    w = world("qianjiang_2018")
    fund.post(w.scheme.id, "payout", D("10000000.00"), key=f"pay-{w.tag}")
    db.session.commit()
    with pytest.raises(fund.FundError, match="金融办"):
        thresholds.resume_scheme(w.scheme.id, w.user("finance"), "资金已补充")
    with pytest.raises(fund.FundError, match="理由"):
        thresholds.resume_scheme(w.scheme.id, w.user("finoffice"), "  ")
    db.session.rollback()
    assert scheme(w).paused
    thresholds.resume_scheme(w.scheme.id, w.user("finoffice"), "区政府已追加注资，联席会议决定恢复")
    db.session.commit()
    assert not scheme(w).paused and scheme(w).paused_reason is None
    acct = db.session.scalar(select(FundAccount).where(FundAccount.scheme_id == w.scheme.id))
    assert acct.resumed_at_payouts == D("10000000.00")
    # a recovery return does not re-pause; a further payout beyond the resumed level does
    fund.post(w.scheme.id, "recovery_return", D("100.00"), key=f"rec-{w.tag}")
    db.session.commit()
    assert not scheme(w).paused
    fund.post(w.scheme.id, "payout", D("200.00"), key=f"pay-{w.tag}-2")
    db.session.commit()
    assert scheme(w).paused


# ------------------------------------------------------------------ bank NPL suspension

def test_qianjiang_suspends_a_bank_at_three_percent_inclusive(world):
    w = world("qianjiang_2018")
    make_loan(w, "970000.00")
    make_loan(w, "5000000.00", bank=w.bank2, classification="loss")          # another bank's loans
    make_loan(w, "400000.00", classification="loss", eligible=False)          # outside the scheme
    make_loan(w, "400000.00", classification="loss", status="repaid")         # no longer outstanding
    bad = make_loan(w, "29999.99", classification="special_mention")
    assert thresholds.after_loan_classified(bad) is None                      # 关注 is not NPL
    bad.classification = "substandard"
    assert thresholds.after_loan_classified(bad) is None                      # 29,999.99 / 999,999.99 < 3 %
    db.session.commit()
    assert not member(w).suspended
    bad2 = make_loan(w, "0.01", classification="doubtful")                    # 30,000.00 / 1,000,000.00 = 3 %
    s = thresholds.after_loan_classified(bad2)
    db.session.commit()
    m = member(w)
    assert m.suspended and "3.00%" in m.suspended_reason and "达到" in m.suspended_reason
    assert s.npl_principal == D("30000.00") and s.total_principal == D("1000000.00")
    assert not member(w, w.bank2).suspended     # the rule acts per bank; bank2 was never classified here
    # the bank's rectification task is in its queue
    t = open_task(w.bank, "rectification_report", s.id)
    assert t is not None and t.due_at is not None


def test_jiangjin_suspends_only_above_ten_percent(world):
    w = world("jiangjin_2020")
    make_loan(w, "900000.00")
    bad = make_loan(w, "100000.00", classification="loss")                   # exactly 10 %: not more than
    assert thresholds.after_loan_classified(bad) is None
    db.session.commit()
    assert not member(w).suspended
    bad2 = make_loan(w, "0.01", classification="substandard")
    s = thresholds.after_loan_classified(bad2)
    db.session.commit()
    assert s is not None and member(w).suspended and "超过" in member(w).suspended_reason


def test_presets_without_the_rule_never_suspend(world):
    w = world("yongchuan_2023")
    bad = make_loan(w, "100000.00", classification="loss")
    assert thresholds.after_loan_classified(bad) is None
    db.session.commit()
    assert not member(w).suspended


# ------------------------------------------------------------------ rectification

def _suspend(w):
    make_loan(w, "900000.00")
    s = thresholds.after_loan_classified(make_loan(w, "100000.00", classification="loss"))
    db.session.commit()
    assert s is not None
    return s


def test_rectification_return_then_approve_lifts_the_suspension(world):
    w = world("qianjiang_2018")
    s = _suspend(w)
    officer, fo = w.user("officer"), w.user("finoffice")
    t = open_task(w.bank, "rectification_report", s.id)
    with pytest.raises(rectification.RectificationError) as exc:
        rectification.submit_report(t.id, officer, "  ", [], [])
    assert exc.value.field == "report"
    db.session.rollback()
    written: list[str] = []
    rectification.submit_report(t.id, officer, "已清收不良贷款两笔，完善贷后管理制度", [("report.pdf", PDF)], written)
    db.session.commit()
    assert len(rectification.attachments_of(s.id)) == 1 and written
    assert member(w).suspended                                   # not lifted by the report alone
    r = open_task(w.units["finoffice"], "rectification_review", s.id)
    with pytest.raises(rectification.RectificationError):
        rectification.review(r.id, fo, "approve", "")
    db.session.rollback()
    rectification.review(r.id, fo, "return", "请补充不良贷款处置进度")
    db.session.commit()
    assert member(w).suspended and db.session.get(Suspension, s.id).status == "suspended"
    t = open_task(w.bank, "rectification_report", s.id)
    rectification.submit_report(t.id, officer, "补充：两笔不良贷款已完成核销和追偿", [], [])
    db.session.commit()
    r = open_task(w.units["finoffice"], "rectification_review", s.id)
    rectification.review(r.id, fo, "approve", "整改到位，同意恢复")
    db.session.commit()
    m = member(w)
    assert not m.suspended and m.suspended_reason is None
    sus = db.session.get(Suspension, s.id)
    assert sus.status == "lifted" and sus.lifted_by_id == fo.id
    assert open_task(w.bank, "rectification_report", s.id) is None


def test_another_organisation_cannot_work_the_rectification(world):
    w = world("qianjiang_2018")
    s = _suspend(w)
    t = open_task(w.bank, "rectification_report", s.id)
    from app.workflow.engine import TaskNotAvailable
    with pytest.raises(TaskNotAvailable):
        rectification.submit_report(t.id, w.user("other_bank"), "x", [], [])


# ------------------------------------------------------------------ fund-size review flag

def test_loans_reaching_ten_times_the_fund_raise_the_review_flag(world):
    w = world("qianjiang_2018")
    make_loan(w, "199999999.99")
    thresholds.check_loan_volume(w.scheme.id)
    db.session.commit()
    acct = fund.account(w.scheme.id)
    assert not acct.review_flag
    make_loan(w, "0.01", status="filing")
    v = thresholds.check_loan_volume(w.scheme.id)
    db.session.commit()
    assert v.limit == D("200000000.00") and v.reached
    acct = fund.account(w.scheme.id)
    assert acct.review_flag and "10 倍" in shown_in_source_language(acct.review_reason)
    with pytest.raises(fund.FundError):
        thresholds.acknowledge_review(w.scheme.id, w.user("officer"), "x")
    thresholds.acknowledge_review(w.scheme.id, w.user("finoffice"), "已提请区政府研究扩大基金规模")
    db.session.commit()
    thresholds.check_loan_volume(w.scheme.id)          # same limit: not raised again
    db.session.commit()
    assert not fund.account(w.scheme.id).review_flag


# ------------------------------------------------------------------ the gates close and reopen

def _application_at_bank(w):
    """A real application through submit → department recommend → bank claim."""
    a = app_ops.submit_application(w.user("firm"), app_ops.ApplicationInput(
        scheme_id=w.scheme.id, sector_id=w.sector.id, amount=D("1000000.00"), term_months=12,
        purpose="采购原材料", activity="working_capital", repayment_plan="按月付息，到期还本",
        repayment_source="销售回款", preferred_bank_id=w.bank.id, consent_bank_id=w.bank.id,
        consent_valid_until=today() + timedelta(days=90), consent_purpose="贷前调查", credit_rating="A"),
        [("licence.pdf", PDF)], [("statements.png", PNG)], [])
    db.session.commit()
    t = open_task(w.dept, "department_review", a.id)
    app_ops.department_review(t.id, w.user("dept"), "recommend", "经营正常，信用良好", w.bank.id)
    db.session.commit()
    t = open_task(w.bank, "bank_due_diligence", a.id)
    app_ops.claim(t.id, w.user("officer"))
    db.session.commit()
    return a, t


def _approval(w):
    return app_ops.Approval(contract_no=f"HT-{w.tag}", amount=D("1000000.00"), annual_rate=D("5.0000"),
                            term_months=12, disbursed_on=today(), product=w.scheme.params.products[0].code, joint_guarantee=True)


def test_paused_scheme_blocks_approval_until_resumed(world):
    w = world("qianjiang_2018")
    a, t = _application_at_bank(w)
    fund.post(w.scheme.id, "payout", D("10000000.00"), key=f"pay-{w.tag}")
    db.session.commit()
    with pytest.raises(app_ops.OperationError) as exc:
        app_ops.bank_decide(t.id, w.user("officer"), "approve", approval=_approval(w))
    assert "暂停" in str(exc.value) and "10,000,000.00" in str(exc.value)
    db.session.rollback()
    assert db.session.scalar(select(Loan).where(Loan.application_id == a.id)) is None
    thresholds.resume_scheme(w.scheme.id, w.user("finoffice"), "已追加注资")
    db.session.commit()
    _app, loan = app_ops.bank_decide(t.id, w.user("officer"), "approve", approval=_approval(w))
    db.session.commit()
    assert loan.eligible and loan.application_id == a.id


def test_suspended_bank_blocks_approval_until_rectification_is_approved(world):
    w = world("qianjiang_2018")
    a, t = _application_at_bank(w)
    s = _suspend(w)
    with pytest.raises(app_ops.OperationError) as exc:
        app_ops.bank_decide(t.id, w.user("officer"), "approve", approval=_approval(w))
    msg = str(exc.value)
    assert "本行已被暂停开展该项业务" in msg and "不良贷款率" in msg
    db.session.rollback()
    rt = open_task(w.bank, "rectification_report", s.id)
    rectification.submit_report(rt.id, w.user("officer"), "整改报告", [], [])
    db.session.commit()
    rv = open_task(w.units["finoffice"], "rectification_review", s.id)
    rectification.review(rv.id, w.user("finoffice"), "approve", "同意恢复")
    db.session.commit()
    _app, loan = app_ops.bank_decide(t.id, w.user("officer"), "approve", approval=_approval(w))
    db.session.commit()
    assert loan is not None and json.loads(loan.eligibility_json)
