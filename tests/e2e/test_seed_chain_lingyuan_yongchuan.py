"""凌源 (both variants) and 永川: the whole loan and compensation chain over HTTP, as each role, with
the seed's numbers (issue 11).

凌源 (seeds/003 附件2《暂行办法》): a first, pure-credit loan at most the benchmark × 1.3 → the bank's
application form signed by the relevant department → a yearly batch of three claims: the leading-group
office's first review (one claim in doubt) → verification by 金融发展局 and 人民银行 → the seven
leading-group members approve (majority; one member against one claim) → publicity with one objection,
dismissed with a reason → the finance bureau pays 30% of principal, at most 500,000 per loan.
The 实施方案 variant first advances 70% at overdue, then settles in the batch.
永川 (seeds/004): no ratio in the seed — the scheme cannot go live until the administrator enters them.
"""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.accounts.models import Organisation, Sector
from app.accounts.operations import create_user
from app.applications.models import LoanApplication
from app.compensation.models import BatchObjection, CompensationBatch, CompensationClaim
from app.core.audit import timeline
from app.core.db import db
from app.core.timeutil import today
from app.core.uscc import make
from app.credit import sources as credit_sources
from app.credit.models import CreditCommitment, ListEntry
from app.fund import operations as fund_ops
from app.fund.models import FundEntry
from app.loans.models import Loan
from app.policies.models import Scheme, SchemeMember
from app.workflow.models import HumanTask, ProcessInstance
from tests.conftest import PASSWORD, PDF, application_form, give_credit_report

D = Decimal


# ------------------------------------------------------------------ helpers

def ok(r):
    assert r.status_code == 302, r.data.decode()[:3000]
    return r


def open_task(org_id, form_key, subject_type, subject_id):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.form_key == form_key, HumanTask.subject_type == subject_type,
        HumanTask.subject_id == subject_id, HumanTask.status == "open"))


def done_by(subject_type, subject_id, bpmn_id) -> list[tuple[int, int]]:
    """(organisation, user) of each completed task of this step, in order."""
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.subject_type == subject_type, HumanTask.subject_id == subject_id, HumanTask.bpmn_id == bpmn_id,
        HumanTask.status == "completed").order_by(HumanTask.id))
    return [(t.org_id, t.completed_by_id) for t in rows]


def third_firm(w):
    firm = Organisation(kind="enterprise", name=f"第三企业{w.tag}", code=make(f"91500116MC{w.tag[:5]}00"[:17].replace("O", "0").replace("I", "1")),
                        sector_id=w.sector.id)
    db.session.add(firm)
    db.session.flush()
    user = create_user(firm, f"firmc_{w.tag.lower()}", f"第三企业{w.tag}", PASSWORD, email=f"firmc_{w.tag.lower()}@example.test")
    db.session.commit()
    return firm, user


def on_the_list(w, firm):
    """凌源 lends only to firms on its recommended list with a confirmed credit commitment (the list's own
    process, 公示 and objections included, is driven in tests/e2e/test_credit_http.py)."""
    p = w.scheme.params
    if p.require_recommended_list and db.session.scalar(select(ListEntry.id).where(
            ListEntry.scheme_id == w.scheme.id, ListEntry.enterprise_id == firm.id)) is None:
        db.session.add(ListEntry(scheme_id=w.scheme.id, enterprise_id=firm.id, listed_on=today() - timedelta(days=500),
                                 valid_until=today() + timedelta(days=300)))
    if p.require_credit_report and not credit_sources.facts_of(firm, today()).has_report:
        give_credit_report(firm, "A")
    if p.require_credit_commitment and db.session.scalar(select(CreditCommitment.id).where(
            CreditCommitment.enterprise_id == firm.id)) is None:
        firm.legal_representative = firm.legal_representative or "张三"
        db.session.add(CreditCommitment(enterprise_id=firm.id, firm_name=firm.name, uscc=firm.code,
                                        legal_representative=firm.legal_representative, status="confirmed"))
    db.session.commit()


def loan_over_http(w, login, firm_user, firm, sector, dept_user, amount, term, rate, product):
    """Firm applies → department recommends → bank claims, approves, files → recipients acknowledge."""
    on_the_list(w, firm)
    firm_b = login(firm_user)
    ok(firm_b.post("/applications/new", data=application_form(
        w, amount=amount, term_months=str(term), sector_id=str(sector.id)), content_type="multipart/form-data"))
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == firm.id)
                          .order_by(LoanApplication.id.desc()).limit(1))
    t = open_task(a.department_id, "department_review", "loan_application", a.id)
    ok(login(dept_user).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "符合产业方向",
                                                       "bank_id": str(w.bank.id)}))
    officer = login(w.user("officer"))
    t = open_task(w.bank.id, "bank_due_diligence", "loan_application", a.id)
    ok(officer.post(f"/tasks/{t.id}/claim"))
    ok(officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "opinion": "纯信用，首贷", "contract_no": f"HT-{a.no}", "amount": amount,
        "annual_rate": rate, "term_months": str(term),
        "disbursed_on": (today() - timedelta(days=400)).isoformat(), "product": product}))
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan is not None and loan.eligible, loan and loan.eligibility
    for key in w.filing_keys:
        t = open_task(w.units[key].id, "filing_ack", "loan_application", a.id)
        assert t is not None, key
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"note": "已备案"}))
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert loan.status == "active" and db.session.get(LoanApplication, a.id).status == "filed"
    return loan


def claim_of(loan) -> CompensationClaim:
    db.session.expire_all()
    return db.session.scalar(select(CompensationClaim).where(CompensationClaim.loan_id == loan.id))


def files():
    return {k: (io.BytesIO(PDF), f"{k}.pdf") for k in ("claim_form", "loan_contract", "recovery_receipts", "npl_proof")}


def balance(scheme) -> Decimal:
    db.session.expire_all()
    return fund_ops.balance(scheme.id)


def entries(scheme, kind):
    db.session.expire_all()
    return list(db.session.scalars(select(FundEntry).where(FundEntry.scheme_id == scheme.id, FundEntry.kind == kind)
                                   .order_by(FundEntry.id)))


def lingyuan_world(world, login, preset):
    """The scheme plus its leading group (办法 art.6): 发改局 (also the office), 工信局 (w.dept stands in),
    财政局, 科技局, 商务局 (w.dept2), 金融发展局 (the financial office), 人民银行 — added by the administrator."""
    w = world(preset)
    ndrc = Organisation(kind="department", name=f"发改局{w.tag}", code=f"ndrc-{w.tag}")
    science = Organisation(kind="department", name=f"科技局{w.tag}", code=f"sci-{w.tag}")
    db.session.add_all([ndrc, science])
    db.session.flush()
    w.ndrc, w.science = ndrc, science
    w.u["ndrc"] = create_user(ndrc, f"ndrc_{w.tag.lower()}", f"发改局{w.tag}", PASSWORD, email=f"ndrc_{w.tag.lower()}@example.test")
    w.u["science"] = create_user(science, f"sci_{w.tag.lower()}", f"科技局{w.tag}", PASSWORD, email=f"sci_{w.tag.lower()}@example.test")
    db.session.commit()
    admin = login(w.user("admin"))
    group = [ndrc, w.dept, w.units["finance"], science, w.dept2, w.units["finoffice"], w.units["pboc"]]
    ok(admin.post(f"/admin/schemes/{w.scheme.id}/members", data={"role": "leading_group_office",
                                                                   "organisation_id": str(ndrc.id)}))
    for org in group:
        ok(admin.post(f"/admin/schemes/{w.scheme.id}/members", data={"role": "leading_group",
                                                                       "organisation_id": str(org.id)}))
    # a firm cannot hold a committee role
    r = admin.post(f"/admin/schemes/{w.scheme.id}/members", data={"role": "leading_group",
                                                                    "organisation_id": str(w.firm.id)})
    assert r.status_code == 400
    w.group = group
    w.filing_keys = ("finoffice", "finance")
    w.group_users = {ndrc.id: "ndrc", w.dept.id: "dept", w.units["finance"].id: "finance", science.id: "science",
                     w.dept2.id: "dept2", w.units["finoffice"].id: "finoffice", w.units["pboc"].id: "pboc"}
    return w


# ------------------------------------------------------------------ 凌源: the yearly batch

def _lingyuan_chain(world, login, preset):
    w = lingyuan_world(world, login, preset)
    draft = preset == "lingyuan_2020_draft"
    scheme = w.scheme
    assert scheme.params.name.startswith("凌源市") and "暂行办法" in load_name(preset) or draft
    firm3, firm3_user = third_firm(w)
    # three first, pure-credit loans at or under the benchmark × 1.3 (办法 art.11): 4.35% (≤1y) → 5.655%
    loans = [
        loan_over_http(w, login, w.user("firm"), w.firm, w.sector, w.user("dept"), "2000000.00", 24, "6.00", "xinyidai"),
        loan_over_http(w, login, w.user("firm2"), w.firm2, w.sector2, w.user("dept2"), "1000000.00", 12, "5.60", "xinyidai"),
        loan_over_http(w, login, firm3_user, firm3, w.sector, w.user("dept"), "800000.00", 12, "5.22", "xinyidai"),
    ]
    start = balance(scheme)
    bank = login(w.user("officer"))

    # overdue; the loans are classified as loss (art.14)
    claims = []
    for loan in loans:
        ok(bank.post(f"/compensation/report/{loan.id}", data={
            "overdue_on": (today() - timedelta(days=120)).isoformat(), "overdue_principal": str(loan.amount),
            "classification": "loss", "note": "本息逾期，已划分至损失类"}))
        claims.append(claim_of(loan))
    if draft:
        # 实施方案: 70% of principal advanced at overdue; the approving and paying units are the policy's data
        assert scheme.params.advance_approver_role == "financial_office" and scheme.params.advance_payer_role == "finance_bureau"
        for c in claims:
            for key, org, form_key in (("finance", w.units["finance"], "comp_advance_review"),
                                       ("finoffice", w.units["finoffice"], "comp_advance_approve"),
                                       ("finance", w.units["finance"], "comp_advance_pay")):
                t = open_task(org.id, form_key, "compensation_claim", c.id)
                assert t is not None, form_key
                data = {"note": "国库支付"} if form_key == "comp_advance_pay" else {"decision": "approve", "opinion": "同意"}
                ok(login(w.user(key)).post(f"/tasks/{t.id}", data=data))
        assert [e.amount for e in entries(scheme, "advance")] == [D("1400000.00"), D("700000.00"), D("560000.00")]
    # before claiming, claim B recovered 100,000 with 20,000 of litigation costs
    b = claims[1]
    ok(bank.post(f"/compensation/{b.id}/costs", data={
        "incurred_on": (today() - timedelta(days=60)).isoformat(), "amount": "20000.00", "note": "诉讼费",
        "document": (io.BytesIO(PDF), "fee.pdf")}, content_type="multipart/form-data"))
    ok(bank.post(f"/compensation/{b.id}/recoveries", data={
        "kind": "court", "received_on": (today() - timedelta(days=50)).isoformat(), "amount": "100000.00",
        "note": "执行款"}))
    if draft:   # recovered after the advance: net of costs, 70% back to the fund (art.15 by the ratio)
        assert claim_of(loans[1]).recoveries[0].fund_return == D("56000.00")

    # the bank fills the application form; the relevant department signs it
    losses = ["2000000.00", "920000.00", "800000.00"]
    recovered = ["0.00", "100000.00", "0.00"]
    for c, loss, rec in zip(claims, losses, recovered):
        t = open_task(w.bank.id, "comp_claim", "compensation_claim", c.id)
        assert t is not None
        ok(bank.post(f"/tasks/{t.id}", data={"classification": "loss", "amount_recovered": rec, "final_loss": loss,
                                             "note": "据实填报申请表", **files()}, content_type="multipart/form-data"))
        assert claim_of(c.loan).status == "dept_opinion"
    # a department that is not the firm's sees no task; the firm's department signs
    for c, dept_key, dept in zip(claims, ("dept", "dept2", "dept"), (w.dept, w.dept2, w.dept)):
        assert open_task(w.dept2.id if dept is w.dept else w.dept.id, "comp_dept_opinion", "compensation_claim", c.id) is None
        t = open_task(dept.id, "comp_dept_opinion", "compensation_claim", c.id)
        assert t is not None and t.due_at is not None      # the preset's default deadline, not the XML's
        ok(login(w.user(dept_key)).post(f"/tasks/{t.id}", data={"decision": "agree", "opinion": "情况属实，同意报送"}))
        assert claim_of(c.loan).status == "awaiting_batch"

    # the leading-group office opens the year's batch; nobody else may
    r = bank.post("/compensation/batches", data={"scheme_id": str(scheme.id), "year": str(today().year)})
    assert r.status_code == 403
    office = login(w.user("ndrc"))
    ok(office.post("/compensation/batches", data={"scheme_id": str(scheme.id), "year": str(today().year)}))
    batch = db.session.scalar(select(CompensationBatch).where(CompensationBatch.scheme_id == scheme.id))
    assert [c.id for c in batch.claims] == [c.id for c in claims] and batch.status == "office_review"
    r = office.post("/compensation/batches", data={"scheme_id": str(scheme.id), "year": str(today().year)})
    assert r.status_code == 400      # one batch per year

    # 初审: claim B in doubt → 金融发展局 and 人民银行 verify it
    t = open_task(w.ndrc.id, "batch_office_review", "compensation_batch", batch.id)
    ok(office.post(f"/tasks/{t.id}", data={"doubtful": [str(b.id)], "opinion": "B 笔追偿情况需核实"}))
    for key in ("finoffice", "pboc"):
        t = open_task(w.units[key].id, "batch_verify", "compensation_batch", batch.id)
        assert t is not None, key
        r = login(w.user(key)).post(f"/tasks/{t.id}", data={"failed": [str(claims[0].id)], "opinion": "x"})
        assert r.status_code == 400     # only a claim in doubt can be found untrue
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"opinion": "经督导银行核查，材料真实"}))

    # 领导小组: seven members; 科技局 is against claim C, six of seven approve (majority) → it stays
    for org in w.group:
        t = open_task(org.id, "batch_approve", "compensation_batch", batch.id)
        assert t is not None, org.name
        data = {"opinion": "同意"}
        if org is w.science:
            data = {"excluded": [str(claims[2].id)], "opinion": "C 笔企业经营情况存疑"}
        ok(login(w.user(w.group_users[org.id])).post(f"/tasks/{t.id}", data=data))
    db.session.expire_all()
    batch = db.session.get(CompensationBatch, batch.id)
    assert batch.status == "publicity_pending"
    expected = [D("0.00")] * 3 if draft else [D("500000.00"), D("276000.00"), D("240000.00")]
    assert [c.payout_amount for c in batch.claims] == expected
    assert all(c.status == "publicity" for c in batch.claims)
    if not draft:
        a = batch.claims[0]
        lines = {l["key"]: D(l["amount"]) for l in a.computation["lines"]}
        assert lines["fund_due"] == D("600000.00") and lines["cap_per_loan"] == D("500000.00")

    # 公示: published on the portal 20 days ago for the preset's working days (a default, not in the seed)
    t = open_task(w.ndrc.id, "batch_publicity", "compensation_batch", batch.id)
    ok(office.post(f"/tasks/{t.id}", data={"published_on": (today() - timedelta(days=20)).isoformat(),
                                           "where": "凌源市人民政府门户网站"}))
    db.session.expire_all()
    batch = db.session.get(CompensationBatch, batch.id)
    assert batch.status == "publicity" and batch.publicity_until < today()
    # one objection against claim A, recorded within the window and dismissed with a reason
    ok(office.post(f"/compensation/batches/{batch.id}/objections", data={
        "claim_id": str(claims[0].id), "received_on": (batch.publicity_from + timedelta(days=1)).isoformat(),
        "objector": "市民王某", "content": "该企业仍在正常经营，不应认定为损失"}))
    obj = db.session.scalar(select(BatchObjection).where(BatchObjection.batch_id == batch.id))
    assert login(w.user("officer")).post(f"/compensation/batches/{batch.id}/objections/{obj.id}", data={
        "decision": "dismissed", "reason": "x"}).status_code in (403, 404)
    t = open_task(w.ndrc.id, "batch_publicity_close", "compensation_batch", batch.id)
    r = office.post(f"/tasks/{t.id}", data={"note": "公示期满"})
    assert r.status_code == 400 and "未处理" in r.data.decode()
    ok(office.post(f"/compensation/batches/{batch.id}/objections/{obj.id}", data={
        "decision": "dismissed", "reason": "经核查，企业已停产，贷款已划分至损失类，异议不成立"}))
    ok(office.post(f"/tasks/{t.id}", data={"note": "公示期满，异议已处理"}))

    # 财政局 pays with the office and the fund manager
    t = open_task(w.units["finance"].id, "batch_disburse", "compensation_batch", batch.id)
    assert t is not None and t.due_at is not None
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"fund_manager": "凌源市某基金管理机构",
                                                              "note": "国库集中支付"}))
    db.session.expire_all()
    batch = db.session.get(CompensationBatch, batch.id)
    assert batch.status == "paid" and all(c.status == "settled" for c in batch.claims)
    assert db.session.get(ProcessInstance, batch.instance_id).completed
    paid = [e.amount for e in entries(scheme, "payout")]
    assert paid == ([] if draft else expected)
    advanced = D("2660000.00") if draft else D("0.00")
    returned = D("56000.00") if draft else D("0.00")
    assert balance(scheme) == start - advanced + returned - sum(paid, D("0.00"))

    # who took each step
    u = lambda k: w.u[k].id   # noqa: E731
    assert done_by("compensation_batch", batch.id, "office_review") == [(w.ndrc.id, u("ndrc"))]
    assert sorted(done_by("compensation_batch", batch.id, "verify")) == sorted(
        [(w.units["finoffice"].id, u("finoffice")), (w.units["pboc"].id, u("pboc"))])
    assert len(done_by("compensation_batch", batch.id, "approve")) == 7
    assert done_by("compensation_batch", batch.id, "publicity_close") == [(w.ndrc.id, u("ndrc"))]
    assert done_by("compensation_batch", batch.id, "disburse") == [(w.units["finance"].id, u("finance"))]
    assert done_by("compensation_claim", claims[1].id, "dept_opinion") == [(w.dept2.id, u("dept2"))]
    actions = [e.action for e in timeline("compensation_batch", batch.id)]
    assert actions == ["batch_opened", "office_reviewed", "verified", "verified"] + ["member_signed"] * 7 + [
        "group_approved", "published", "objection_recorded", "objection_dismissed", "publicity_closed", "batch_paid"]
    claim_actions = [e.action for e in timeline("compensation_claim", claims[2].id)]
    assert claim_actions[-5:] == ["dept_opinion_agree", "batched", "batch_member_against", "disbursed", "settled"]

    # after the payout: recovered less costs, split by the ratio (art.15)
    a = claims[0]
    ok(bank.post(f"/compensation/{a.id}/costs", data={
        "incurred_on": (today() - timedelta(days=1)).isoformat(), "amount": "10000.00", "note": "执行费",
        "document": (io.BytesIO(PDF), "fee.pdf")}, content_type="multipart/form-data"))
    ok(bank.post(f"/compensation/{a.id}/recoveries", data={
        "kind": "court", "received_on": today().isoformat(), "amount": "300000.00", "note": "执行款"}))
    share = D("0.70") if draft else D("0.30")
    assert claim_of(a.loan).recoveries[-1].fund_return == (D("290000.00") * share).quantize(D("0.01"))
    # the batch page shows the batch to the office, the bank and a member; not to a firm
    assert "市民王某" in office.get(f"/compensation/batches/{batch.id}").data.decode()
    assert bank.get(f"/compensation/batches/{batch.id}").status_code == 200
    assert login(w.user("firm")).get(f"/compensation/batches/{batch.id}").status_code == 404
    assert login(w.user("other_bank")).get(f"/compensation/batches/{batch.id}").status_code == 404


def load_name(preset):
    from app.policies.presets import load_preset
    return load_preset(preset)["name"]


def test_lingyuan_rules_yearly_batch_over_http(world, login):
    assert load_name("lingyuan_2020") == "凌源市中小微企业“信易贷”风险缓释基金管理暂行办法"
    _lingyuan_chain(world, login, "lingyuan_2020")


def test_lingyuan_plan_advance_then_yearly_batch_over_http(world, login):
    _lingyuan_chain(world, login, "lingyuan_2020_draft")


# ------------------------------------------------------------------ 永川: ratios entered before go-live

def test_yongchuan_goes_live_only_with_ratios_and_runs_the_default_chain(world, login):
    import json
    w = world("yongchuan_2023")
    scheme = w.scheme
    assert "永金组发〔2023〕1号" in scheme.name and "普惠金融支持永川区经济社会高质量发展行动方案" in scheme.name
    assert not scheme.active and all(p.fund_share is None for p in scheme.params.products)
    firm = login(w.user("firm"))
    # not live: no application is accepted
    r = firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    assert r.status_code == 400
    admin = login(w.user("admin"))
    page = admin.get(f"/admin/schemes/{scheme.id}").data.decode()
    assert "products[0].fund_share" in page and "不能启用" in page
    r = admin.post(f"/admin/schemes/{scheme.id}/active", data={"active": "1", "note": "上线"})
    assert r.status_code == 400 and "尚未录入" in r.data.decode()
    db.session.expire_all()
    assert not db.session.get(Scheme, scheme.id).active
    # the administrator enters the ratios the finance bureau decided (test entries, not the seed's)
    raw = json.loads(db.session.get(Scheme, scheme.id).params_json)
    for p, share in zip(raw["products"], ("0.50", "0.60", "0.30")):
        p["fund_share"] = share
    raw["_sources"]["products[].fund_share"] = "区财政局确定（测试录入）"
    # 担保贷 is shared three ways (fund, bank, guarantee company): without the other two ratios it cannot go live
    r = admin.post(f"/admin/schemes/{scheme.id}/params", data={
        "params": json.dumps(raw, ensure_ascii=False), "note": "只录入基金比例", "version": "1"})
    assert r.status_code == 302
    r = admin.post(f"/admin/schemes/{scheme.id}/active", data={"active": "1", "note": "上线"})
    assert r.status_code == 400 and "products[2].guarantee_share" in r.data.decode()
    raw["products"][2].update(bank_share="0.40", guarantee_share="0.30")
    ok(admin.post(f"/admin/schemes/{scheme.id}/params", data={
        "params": json.dumps(raw, ensure_ascii=False), "note": "录入各产品分担比例", "version": "2"}))
    ok(admin.post(f"/admin/schemes/{scheme.id}/active", data={"active": "1", "note": "比例已录入，上线"}))
    db.session.expire_all()
    scheme = db.session.get(Scheme, scheme.id)
    assert scheme.active and scheme.params_version == 3
    # an active scheme may not lose a ratio
    raw["products"][0]["fund_share"] = None
    r = admin.post(f"/admin/schemes/{scheme.id}/params", data={
        "params": json.dumps(raw, ensure_ascii=False), "note": "清空", "version": "3"})
    assert r.status_code == 400

    # the default chain: firm → department → bank → filing (财政局, 金融办) → overdue → recovery → claim →
    # joint meeting (all four) → payout letter → payment
    w.filing_keys = ("finance", "finoffice")
    loan = loan_over_http(w, login, w.user("firm"), w.firm, w.sector, w.user("dept"), "800000.00", 12, "4.90", "danbaodai")
    assert loan.policy_version == 3
    start = balance(scheme)
    bank = login(w.user("officer"))
    ok(bank.post(f"/compensation/report/{loan.id}", data={
        "overdue_on": (today() - timedelta(days=100)).isoformat(), "overdue_principal": "800000.00",
        "classification": "doubtful", "note": "逾期"}))
    c = claim_of(loan)
    ok(bank.post(f"/compensation/{c.id}/recoveries", data={
        "kind": "repayment", "received_on": (today() - timedelta(days=50)).isoformat(), "amount": "300000.00",
        "note": "企业还款"}))
    t = open_task(w.bank.id, "comp_recovery_close", "compensation_claim", c.id)
    ok(bank.post(f"/tasks/{t.id}", data={"ended_on": (today() - timedelta(days=10)).isoformat(), "note": "终结"}))
    t = open_task(w.bank.id, "comp_claim", "compensation_claim", c.id)
    ok(bank.post(f"/tasks/{t.id}", data={"classification": "loss", "amount_recovered": "300000.00",
                                         "final_loss": "500000.00", "note": "申请", **files()},
                 content_type="multipart/form-data"))
    assert claim_of(loan).payout_amount == D("150000.00")     # 500,000 × 30% (担保贷, as entered)
    lines = {l["key"]: D(l["amount"]) for l in claim_of(loan).computation["lines"]}
    # the rest of the loss is shared by the guarantee company (30%) and the bank (40%), as entered
    assert (lines["fund_due"], lines["guarantee_bears"], lines["bank_bears"]) == \
        (D("150000.00"), D("150000.00"), D("200000.00"))
    for key in ("finoffice", "finance", "pboc", "cbirc"):
        t = open_task(w.units[key].id, "comp_joint_review", "compensation_claim", c.id)
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    t = open_task(w.units["finoffice"].id, "comp_payout_letter", "compensation_claim", c.id)
    ok(login(w.user("finoffice")).post(f"/tasks/{t.id}", data={"letter_no": "永金办函〔2026〕1号"}))
    t = open_task(w.units["finance"].id, "comp_disburse", "compensation_claim", c.id)
    assert t.due_at is not None
    ok(login(w.user("finance")).post(f"/tasks/{t.id}", data={"note": "国库集中支付"}))
    c = claim_of(loan)
    assert c.status == "settled" and balance(scheme) == start - D("150000.00")
    assert [e.amount for e in entries(scheme, "payout")] == [D("150000.00")]
    assert done_by("compensation_claim", c.id, "disburse") == [(w.units["finance"].id, w.u["finance"].id)]
    actions = [e.action for e in timeline("compensation_claim", c.id)]
    assert actions == ["overdue_reported", "recovery_recorded", "recovery_closed", "claim_submitted"] + \
        ["review_approve"] * 4 + ["letter_issued", "disbursed", "settled"]
    assert scheme.member(w.units["finance"].id) is not None and SchemeMember is not None and Sector is not None


# ------------------------------------------------------------------ a 凌源 batch held at one step (for the form fuzzer)

BATCH_STAGES = ("dept_opinion", "office_review", "verify", "approve", "publicity", "publicity_close", "disburse")


def lingyuan_at(world, login, stage):
    """A 凌源 world with a claim (and batch) waiting at ``stage``; returns (world, user key who acts)."""
    from tests.e2e.test_compensation_http import make_loan, report, submit_claim
    w = lingyuan_world(world, login, "lingyuan_2020")
    bank = login(w.user("officer"))
    loans = [make_loan(w, "600000.00") for _ in range(2)]
    claims = []
    for loan in loans:
        ok(report(w, bank, loan, "600000.00", classification="loss"))
        c = claim_of(loan)
        ok(submit_claim(w, bank, c, "0.00", "600000.00"))
        claims.append(c)
    dept = login(w.user("dept"))
    ok(dept.post(f"/tasks/{open_task(w.dept.id, 'comp_dept_opinion', 'compensation_claim', claims[1].id).id}",
                 data={"decision": "agree", "opinion": "同意"}))
    if stage == "dept_opinion":       # one claim at the department, one waiting for the batch
        return w, ("dept", "ndrc")
    ok(dept.post(f"/tasks/{open_task(w.dept.id, 'comp_dept_opinion', 'compensation_claim', claims[0].id).id}",
                 data={"decision": "agree", "opinion": "同意"}))
    office = login(w.user("ndrc"))
    ok(office.post("/compensation/batches", data={"scheme_id": str(w.scheme.id), "year": str(today().year)}))
    batch = db.session.scalar(select(CompensationBatch).where(CompensationBatch.scheme_id == w.scheme.id))

    def step(org, form_key, key, data):
        t = open_task(org.id, form_key, "compensation_batch", batch.id)
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data=data))
    if stage == "office_review":
        return w, ("ndrc",)
    step(w.ndrc, "batch_office_review", "ndrc", {"doubtful": [str(claims[0].id)], "opinion": "存疑"})
    if stage == "verify":
        return w, ("finoffice",)
    for key in ("finoffice", "pboc"):
        step(w.units[key], "batch_verify", key, {"opinion": "属实"})
    if stage == "approve":
        return w, ("science",)
    for org in w.group:
        step(org, "batch_approve", w.group_users[org.id], {"opinion": "同意"})
    if stage == "publicity":
        return w, ("ndrc",)
    step(w.ndrc, "batch_publicity", "ndrc", {"published_on": (today() - timedelta(days=20)).isoformat(),
                                             "where": "门户网站"})
    ok(office.post(f"/compensation/batches/{batch.id}/objections", data={
        "claim_id": str(claims[0].id), "received_on": (today() - timedelta(days=19)).isoformat(),
        "objector": "某人", "content": "异议"}))
    if stage == "publicity_close":     # an open objection: the resolve form and the close task are shown
        return w, ("ndrc",)
    obj = db.session.scalar(select(BatchObjection).where(BatchObjection.batch_id == batch.id))
    ok(office.post(f"/compensation/batches/{batch.id}/objections/{obj.id}", data={"decision": "dismissed",
                                                                                   "reason": "不成立"}))
    step(w.ndrc, "batch_publicity_close", "ndrc", {"note": "期满"})
    return w, ("finance",)


def test_publicity_refuses_close_before_its_end_and_upheld_objection_takes_the_claim_out(world, login):
    w, _keys = lingyuan_at(world, login, "publicity")
    batch = db.session.scalar(select(CompensationBatch).where(CompensationBatch.scheme_id == w.scheme.id))
    office = login(w.user("ndrc"))
    t = open_task(w.ndrc.id, "batch_publicity", "compensation_batch", batch.id)
    ok(office.post(f"/tasks/{t.id}", data={"published_on": today().isoformat(), "where": "门户网站"}))
    db.session.expire_all()
    batch = db.session.get(CompensationBatch, batch.id)
    assert batch.publicity_until >= today()
    t = open_task(w.ndrc.id, "batch_publicity_close", "compensation_batch", batch.id)
    r = office.post(f"/tasks/{t.id}", data={"note": "提前结束"})
    assert r.status_code == 400 and "期满后方可结束公示" in r.data.decode()
    first, second = batch.claims
    ok(office.post(f"/compensation/batches/{batch.id}/objections", data={
        "claim_id": str(first.id), "received_on": today().isoformat(), "objector": "某银行职工",
        "content": "该笔贷款非首贷"}))
    obj = db.session.scalar(select(BatchObjection).where(BatchObjection.batch_id == batch.id))
    ok(office.post(f"/compensation/batches/{batch.id}/objections/{obj.id}", data={
        "decision": "upheld", "reason": "经核查该企业此前已有贷款，非首贷"}))
    db.session.expire_all()
    first = db.session.get(CompensationClaim, first.id)
    assert first.status == "rejected" and first.active_loan_id is None and "非首贷" in first.batch_reason
    assert db.session.get(CompensationClaim, second.id).status == "publicity"
    r = office.post(f"/compensation/batches/{batch.id}/objections/{obj.id}", data={
        "decision": "dismissed", "reason": "改判"})
    assert r.status_code == 400 and "已处理" in r.data.decode()
