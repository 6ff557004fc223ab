"""Each role sees only its own: try another organisation's URLs as every role."""

from sqlalchemy import select

from app.applications.models import Attachment, CreditAccessLog, LoanApplication
from app.core.db import db
from app.loans.models import Loan
from app.workflow.models import HumanTask
from tests.conftest import application_form


def _status(client, url):
    r = client.get(url)
    r.close()  # file responses hold the file open until closed
    return r.status_code


def _flow_to_bank(w, login):
    firm = login(w.user("firm"))
    assert firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data").status_code == 302
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                  HumanTask.subject_type == "loan_application"))
    login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐",
                                                      "bank_id": str(w.bank.id)})
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                  HumanTask.subject_type == "loan_application"))
    return a, t


def test_cross_organisation_access_refused(world, login):
    w = world()
    a, bank_task = _flow_to_bank(w, login)
    att = db.session.scalars(select(Attachment).where(Attachment.subject_id == a.id,
                                                      Attachment.subject_type == "loan_application")).first()
    urls = [f"/applications/{a.id}", f"/applications/attachments/{att.id}",
            f"/workflow/instances/{a.instance_id}/diagram.bpmn", f"/workflow/instances/{a.instance_id}/progress.json"]
    # a firm never sees another firm's application; a department only its sector; a bank only its own
    for key in ("firm2", "dept2", "other_bank", "centre", "guarantee"):
        c = login(w.user(key))
        for url in urls:
            assert _status(c, url) == 404, (key, url)
        assert a.no.encode() not in c.get("/applications/").data, key
        assert c.get(f"/tasks/{bank_task.id}").status_code == 404, key
        assert c.post(f"/tasks/{bank_task.id}/claim").status_code == 404, key
    # the owners see it
    for key in ("firm", "dept", "officer", "finance", "finoffice", "pboc", "cbirc"):
        c = login(w.user(key))
        for url in urls:
            assert _status(c, url) == 200, (key, url)
    # the firm cannot open the bank's task or the department's task pages
    assert login(w.user("firm")).get(f"/tasks/{bank_task.id}").status_code == 404
    # only enterprises submit applications; only admins reach admin pages
    assert login(w.user("officer")).get("/applications/new").status_code == 403
    assert login(w.user("finance")).get("/admin/").status_code == 403
    assert login(w.user("admin")).get("/admin/").status_code == 200
    # anonymous users are sent to the login page
    from flask import g
    g.__dict__.clear()
    assert w.app.test_client().get(f"/applications/{a.id}").status_code == 302


def test_loan_pages_are_private(world, login):
    w = world()
    a, t = _flow_to_bank(w, login)
    officer = login(w.user("officer"))
    officer.post(f"/tasks/{t.id}/claim")
    r = officer.post(f"/tasks/{t.id}", data={"decision": "approve", "joint_guarantee": "y", "contract_no": "HT-1", "amount": "1000000.00",
                                             "annual_rate": "5.00", "term_months": "12",
                                             "disbursed_on": "2026-11-20", "product": "standard"})
    assert r.status_code == 302, r.data.decode()[:2000]
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    for key in ("firm2", "dept2", "other_bank", "centre"):
        assert login(w.user(key)).get(f"/loans/{loan.id}").status_code == 404, key
        assert loan.no.encode() not in login(w.user(key)).get("/loans/").data
    for key in ("firm", "officer", "finoffice"):
        assert login(w.user(key)).get(f"/loans/{loan.id}").status_code == 200, key


def test_credit_data_needs_valid_consent_and_every_opening_is_logged(world, login):
    w = world()
    a, t = _flow_to_bank(w, login)
    # the recommended bank has consent: allowed and logged
    assert login(w.user("officer")).post(f"/applications/{a.id}/credit").status_code == 200
    # revoke the consent: refused, and the refusal is logged too
    from app.applications.models import CreditConsent
    from app.core.timeutil import now
    for c in db.session.scalars(select(CreditConsent).where(CreditConsent.enterprise_id == w.firm.id)):
        c.revoked_at = now()
    db.session.commit()
    r = login(w.user("officer2")).post(f"/applications/{a.id}/credit")
    assert r.status_code == 302
    logs = db.session.scalars(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id)
                              .order_by(CreditAccessLog.id)).all()
    assert [lg.granted for lg in logs] == [True, False]
    assert logs[1].user_id == w.u["officer2"].id
    # another bank cannot even reach the page
    assert login(w.user("other_bank")).post(f"/applications/{a.id}/credit").status_code == 404


def test_credit_data_opens_only_under_the_application_its_consent_was_given_with(world, login):
    """An authorisation given with application B does not open the firm's data under application A."""
    from app.applications.models import CreditConsent
    from app.core.timeutil import now
    w = world()
    a, _t = _flow_to_bank(w, login)           # application A: consent to the bank
    firm = login(w.user("firm"))
    assert firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data").status_code == 302
    b = db.session.scalars(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id)
                           .order_by(LoanApplication.id.desc())).first()
    assert b.id != a.id
    consent_a = db.session.scalar(select(CreditConsent).where(CreditConsent.application_id == a.id))
    consent_a.revoked_at = now()               # A's authorisation withdrawn; B's still valid
    db.session.commit()
    officer = login(w.user("officer"))
    r = officer.post(f"/applications/{a.id}/credit")
    assert r.status_code == 302               # refused, back to the application
    assert "本笔贷款申请的有效征信查询授权" in officer.get(f"/applications/{a.id}").data.decode()
    log = db.session.scalars(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id)
                             .order_by(CreditAccessLog.id.desc())).first()
    assert not log.granted and log.consent_id is None and a.no in log.purpose


def test_opening_credit_data_is_a_post_with_csrf(world, login, app):
    w = world()
    a, _t = _flow_to_bank(w, login)
    officer = login(w.user("officer"))
    assert officer.get(f"/applications/{a.id}/credit").status_code == 405   # a foreign page's <img> cannot open it
    r = officer.post(f"/applications/{a.id}/credit", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert db.session.scalar(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id)) is None


def test_supervisor_releases_a_claimed_task(world, login):
    w = world()
    a, t = _flow_to_bank(w, login)
    login(w.user("officer")).post(f"/tasks/{t.id}/claim")
    colleague = login(w.user("officer2"))
    colleague.post(f"/tasks/{t.id}/release")  # not the holder, not a supervisor: refused
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).claimed_by_id == w.u["officer"].id
    login(w.user("supervisor")).post(f"/tasks/{t.id}/release")
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).claimed_by_id is None
    colleague.post(f"/tasks/{t.id}/claim")
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).claimed_by_id == w.u["officer2"].id
