"""The whole loan-application flow over HTTP, as each role in turn."""
import io
import json
import re

from sqlalchemy import select

from app.applications.models import Attachment, CreditAccessLog, CreditConsent, LoanApplication
from app.core.audit import timeline
from app.core.db import db
from app.loans.models import Filing, Loan
from app.workflow.models import HumanTask, ProcessInstance
from tests.conftest import PDF, application_form
from tests.e2e.test_credit_http import apply_and_recommend


def _open_task(org_id, form_key, app_id):
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.form_key == form_key, HumanTask.subject_id == app_id,
        HumanTask.status == "open"))


def _submit(world, login, **over):
    firm = login(world.user("firm"))
    r = firm.post("/applications/new", data=application_form(world, **over), content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == world.firm.id))
    return firm, a


def test_full_flow_return_supplement_recommend_approve_file(world, login):
    w = world("jiangjin_2020")
    firm, a = _submit(w, login)
    assert a.status == "submitted" and a.department_id == w.dept.id
    assert len(db.session.scalars(select(Attachment).where(Attachment.subject_type == "loan_application", Attachment.subject_id == a.id)).all()) == 2
    consent = db.session.scalar(select(CreditConsent).where(CreditConsent.application_id == a.id))
    assert consent.bank_id == w.bank.id

    # department returns for more material
    dept = login(w.user("dept"))
    r = dept.get("/tasks/")
    assert a.no.encode() in r.data
    t = _open_task(w.dept.id, "department_review", a.id)
    r = dept.post(f"/tasks/{t.id}", data={"decision": "return", "opinion": "请补充近三个月纳税证明", "bank_id": "0"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(LoanApplication, a.id).status == "returned"

    # enterprise supplements
    t = _open_task(w.firm.id, "enterprise_supplement", a.id)
    assert t is not None
    r = firm.post(f"/tasks/{t.id}", data={"note": "已补充纳税证明", "files": (io.BytesIO(PDF), "tax.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302

    # back to the same department, which recommends to bank 1
    t = _open_task(w.dept.id, "department_review", a.id)
    assert t is not None
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "经营正常，信用良好，符合产业方向",
                                          "bank_id": str(w.bank.id)})
    assert r.status_code == 302

    # the bank officer claims; a colleague sees who holds it; the other bank sees nothing
    t = _open_task(w.bank.id, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    colleague = login(w.user("officer2"))
    other = login(w.user("other_bank"))
    assert a.no.encode() not in other.get("/tasks/").data
    assert other.get(f"/tasks/{t.id}").status_code == 404
    assert officer.post(f"/tasks/{t.id}/claim").status_code == 302
    page = colleague.get(f"/tasks/{t.id}").data.decode()
    assert w.user("officer").display_name in page
    # colleague cannot decide a task someone else holds
    r = colleague.post(f"/tasks/{t.id}", data={"decision": "decline", "reason": "x"})
    assert r.status_code == 400

    # the officer opens the firm's credit data (consent exists) – logged
    assert officer.get(f"/applications/{a.id}/credit").status_code == 405   # opening writes the log: POST only
    r = officer.post(f"/applications/{a.id}/credit")
    assert r.status_code == 200 and "纳税".encode() in r.data or r.status_code == 200
    log = db.session.scalar(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id))
    assert log.granted and log.user_id == w.u["officer"].id

    r = officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "调查属实", "contract_no": "HT-2026-001", "amount": "1000000.00",
        "annual_rate": "5.22", "term_months": "12", "disbursed_on": "2026-11-20", "product": "zengxindai"})
    assert r.status_code == 302, r.data.decode()[:3000]
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan.eligible and loan.amount == 1000000 and str(loan.rate_cap) == "5.2200"

    # three filings (finance bureau, service centre, guarantee company) acknowledged
    for key in ("finance", "centre", "guarantee"):
        org = w.units[key]
        t = _open_task(org.id, "filing_ack", a.id)
        assert t is not None, key
        assert login(w.user(key)).post(f"/tasks/{t.id}", data={"note": "已备案"}).status_code == 302
    db.session.expire_all()
    a = db.session.get(LoanApplication, a.id)
    assert a.status == "filed"
    assert db.session.get(Loan, loan.id).status == "active"
    assert all(f.acknowledged_at for f in db.session.scalars(select(Filing).where(Filing.loan_id == loan.id)))
    assert db.session.get(ProcessInstance, a.instance_id).completed

    actions = [e.action for e in timeline("loan_application", a.id)]
    assert actions == ["submitted", "department_return", "supplemented", "department_recommend", "claimed",
                       "bank_approved", "filing_acknowledged", "filing_acknowledged", "filing_acknowledged", "filed"]
    page = firm.get(f"/applications/{a.id}").data.decode()
    assert "经营正常，信用良好，符合产业方向" in page and "已备案" in page
    # the enterprise does not see the bank's internal claim entries
    assert "银行人员认领" not in page


def test_department_reject_reason_shown_to_firm(world, login):
    w = world("jiangjin_2020")   # a scheme with the department step (黔江 goes to the bank directly)
    firm, a = _submit(w, login)
    t = _open_task(w.dept.id, "department_review", a.id)
    r = login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "reject", "opinion": "不符合产业方向", "bank_id": "0"})
    assert r.status_code == 302
    page = firm.get(f"/applications/{a.id}").data.decode()
    assert "不符合产业方向" in page and 'id="reject-reason"' in page


def test_bank_decline_requires_reason_and_tells_firm(world, login):
    w = world("jiangjin_2020")   # a scheme with the department step (黔江 goes to the bank directly)
    firm, a = _submit(w, login)
    t = _open_task(w.dept.id, "department_review", a.id)
    login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐", "bank_id": str(w.bank.id)})
    t = _open_task(w.bank.id, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    officer.post(f"/tasks/{t.id}/claim")
    r = officer.post(f"/tasks/{t.id}", data={"decision": "decline", "reason": ""})
    assert r.status_code == 400 and "拒绝贷款必须说明原因" in r.data.decode()
    assert _open_task(w.bank.id, "bank_due_diligence", a.id) is not None
    r = officer.post(f"/tasks/{t.id}", data={"decision": "decline", "reason": "近一年连续亏损，第一还款来源不足"})
    assert r.status_code == 302
    page = firm.get(f"/applications/{a.id}").data.decode()
    assert "近一年连续亏损，第一还款来源不足" in page and 'id="decline-reason"' in page


def test_an_officer_reading_english_stores_the_gate_reasons_in_chinese(world, login):
    """The approval checks the gates once in the officer's language (the refusal they read) and, only when that
    is not the source language, again in Chinese for what is stored: the loan's eligibility and the timeline."""
    w = world("jiangjin_2020")
    a, t = apply_and_recommend(w, login)        # submitted, recommended, claimed by the officer
    officer = login(w.user("officer"))
    officer.get("/tasks/?lang=en")
    form = {"decision": "approve", "joint_guarantee": "y", "opinion": "ok", "contract_no": "HT-EN-1",
            "amount": "1000000.00", "annual_rate": "6.50", "term_months": "12", "disbursed_on": "2026-11-20",
            "product": "zengxindai"}
    r = officer.post(f"/tasks/{t.id}", data=form)
    assert r.status_code == 400 and "exceeds" in r.data.decode()          # the refusal, in English
    assert officer.post(f"/tasks/{t.id}", data={**form, "outside_scheme": "y"}).status_code == 302
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    han = re.compile("[\u4e00-\u9fff]")
    failed = [g["message"] for g in json.loads(loan.eligibility_json) if not g["passed"]]
    assert not loan.eligible and failed and all(han.search(m) for m in failed), failed
    approved = next(e for e in timeline("loan_application", a.id) if e.action == "bank_approved")
    assert json.loads(approved.details)["not_met"] == failed
