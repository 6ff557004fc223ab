"""Each role's home, notifications of decisions, grouped escalations, suspended-bank hints and the demo's
calm first run (issue 14), over HTTP as each role."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.accounts.models import User
from app.applications.models import LoanApplication
from app.core.db import db
from app.core.timeutil import now
from app.jobs.deadlines import escalate_overdue
from app.notifications.messages import show
from app.notifications.models import Notification
from app.policies.models import SchemeMember
from app.workflow.models import HumanTask
from tests.conftest import application_form
from tests.e2e.test_compensation_http import (close_recovery, claim_of, letter_and_pay, make_loan, ok, report,
                                              review_all, submit_claim)
from tests.integration.test_notifications import _task_due

ROOT = Path(__file__).resolve().parents[2]


def _open_task(org_id, form_key, app_id):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.form_key == form_key, HumanTask.subject_id == app_id,
        HumanTask.subject_type == "loan_application", HumanTask.status == "open"))


def _submit(w, login, who="firm", **over):
    client = login(w.user(who))
    r = client.post("/applications/new", data=application_form(w, **over), content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    org_id = w.user(who).organisation_id
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == org_id)
                          .order_by(LoanApplication.id.desc()).limit(1))
    return client, a


def _recommend(w, login, a, bank, dept="dept"):
    t = _open_task(a.department_id, "department_review", a.id)
    ok(login(w.user(dept)).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐",
                                                       "bank_id": str(bank.id)}))
    return _open_task(bank.id, "bank_due_diligence", a.id)


def _notes(org_id, **filters) -> list[Notification]:
    db.session.expire_all()
    q = select(Notification).join(User, User.id == Notification.user_id).where(User.organisation_id == org_id)
    for k, v in filters.items():
        q = q.where(getattr(Notification, k) == v)
    return list(db.session.scalars(q.order_by(Notification.id)))


def _about(notes, no) -> list[Notification]:
    return [n for n in notes if n.params and no in json.dumps(n.params, ensure_ascii=False)]


# ------------------------------------------------------------------ notifications of the enterprise

def test_enterprise_notified_when_returned_approved_filed_and_declined_and_nobody_else_is(world, login):
    w = world("jiangjin_2020")
    firm, a = _submit(w, login)
    t = _open_task(w.dept.id, "department_review", a.id)
    ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "return", "opinion": "请补充纳税证明",
                                                          "bank_id": "0"}))
    [returned] = _about(_notes(w.firm.id), a.no)
    assert returned.kind == "decision" and returned.link == f"/applications/{a.id}"
    inbox = firm.get("/notifications/").data.decode()
    assert f"贷款申请 {a.no} 已退回，请补充材料" in inbox and "请补充纳税证明" in inbox
    # in English, the same row reads in English (stored as a message key with its parameters)
    english = firm.get("/notifications/?lang=en").data.decode()
    assert f"Loan application {a.no} was returned" in english and "已退回，请补充材料" not in english
    firm.get("/notifications/?lang=zh")

    # supplement, recommend, approve, file
    t = _open_task(w.firm.id, "enterprise_supplement", a.id)
    ok(firm.post(f"/tasks/{t.id}", data={"note": "已补充"}, content_type="multipart/form-data"))
    t = _recommend(w, login, a, w.bank)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    ok(officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "调查属实", "contract_no": f"HT-{w.tag}",
        "amount": "1000000.00", "annual_rate": "5.22", "term_months": "12", "disbursed_on": "2026-11-20",
        "product": "zengxindai"}))
    for key in ("finance", "centre", "guarantee"):
        t = _open_task(w.units[key].id, "filing_ack", a.id)
        ok(login(w.user(key)).post(f"/tasks/{t.id}", data={"note": "已备案"}))
    titles = [show(n).title for n in _about(_notes(w.firm.id), a.no)]
    assert titles[0].endswith("已退回，请补充材料") and titles[1] == f"贷款申请 {a.no} 已获批准"
    assert titles[2].endswith("已完成备案") and len(titles) == 3

    # a second application declined by the bank: the reason reaches the firm
    _client, b = _submit(w, login)
    t = _recommend(w, login, b, w.bank)
    ok(officer.post(f"/tasks/{t.id}/claim"))
    ok(officer.post(f"/tasks/{t.id}", data={"decision": "decline", "reason": "第一还款来源不足"}))
    [declined] = _about(_notes(w.firm.id), b.no)
    shown = show(declined)
    assert shown.title == f"贷款申请 {b.no} 未获银行批准" and "第一还款来源不足" in shown.body

    # only the firm's users: not the other firm, the department, the banks or the filing recipients
    for org in (w.firm2, w.dept, w.bank, w.bank2, *w.units.values()):
        assert _about(_notes(org.id), a.no) == [] and _about(_notes(org.id), b.no) == [], org.name
    # another firm's inbox does not show it, and it cannot open it
    other = login(w.user("firm2"))
    assert a.no not in other.get("/notifications/").data.decode()
    assert other.post(f"/notifications/{returned.id}").status_code == 404


# ------------------------------------------------------------------ notifications of banks

def test_bank_notified_when_suspended_claim_sent_back_and_paid(world, login):
    w = world("qianjiang_2018")
    bank = login(w.user("officer"))
    make_loan(w, "800000.00")
    loan = make_loan(w, "200000.00")
    # the loan going bad takes the bank's NPL ratio over 3 %: suspended, and told so at once
    ok(report(w, bank, loan, "200000.00"))
    told_all = _notes(w.bank.id, kind="suspension")     # each of the bank's users, once
    assert sorted(n.user_id for n in told_all) == sorted(w.u[k].id for k in ("officer", "officer2", "supervisor"))
    told = told_all[0]
    assert "暂停" in show(told).title and "3.00%" in show(told).body and told.link.startswith("/fund/suspensions/")
    assert _notes(w.bank2.id, kind="suspension") == []
    assert 'id="suspended-banner"' in bank.get("/home").data.decode()
    assert 'id="suspended-banner"' not in login(w.user("other_bank")).get("/home").data.decode()

    # the claim sent back by the joint meeting
    claim = claim_of(loan)
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "200000.00"))
    review_all(w, login, claim, decision="return", members=("finoffice",), opinion="缺少不良贷款证明原件")
    back = [n for n in _notes(w.bank.id, kind="returned") if claim.no in show(n).title]
    assert back and "缺少不良贷款证明原件" in show(back[0]).body and back[0].link == f"/compensation/{claim.id}"
    # sent in again, approved and paid
    ok(submit_claim(w, bank, claim, "0.00", "200000.00"))
    review_all(w, login, claim)
    ok(letter_and_pay(w, login, claim))
    paid = [n for n in _notes(w.bank.id, kind="payout") if claim.no in show(n).title]
    assert paid and "100,000.00" in show(paid[0]).title
    page = bank.get("/notifications/").data.decode()
    assert f"补偿案件 {claim.no} 已拨付 100,000.00 元" in page
    # nobody else hears of it
    for org in (w.bank2, w.firm, *w.units.values()):
        assert [n for n in _notes(org.id) if n.kind in ("payout", "returned") and claim.no in show(n).title] == []



# ------------------------------------------------------------------ home pages

def test_each_role_lands_on_its_home_with_its_own_tasks_overdue_first(world, login):
    w = world("jiangjin_2020")
    _c, a1 = _submit(w, login)
    _c, a2 = _submit(w, login)
    t1 = _recommend(w, login, a1, w.bank)
    t2 = _recommend(w, login, a2, w.bank)
    _c, b = _submit(w, login, who="firm2", preferred_bank_id=str(w.bank2.id), consent_bank_id=str(w.bank2.id),
                    sector_id=str(w.sector2.id))
    tb = _recommend(w, login, b, w.bank2, dept="dept2")
    t2.due_at = now() - timedelta(days=2)          # the later one is overdue: it comes first
    t1.due_at = now() + timedelta(days=3)
    db.session.commit()

    officer = login(w.user("officer"))
    r = officer.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/home")
    page = officer.get("/home").data.decode()
    table = page.split('id="home-tasks"', 1)[1].split("</table>", 1)[0]
    assert f'data-task="{t1.id}"' in table and f'data-task="{t2.id}"' in table
    assert table.index(f'data-task="{t2.id}"') < table.index(f'data-task="{t1.id}"')
    assert f'data-task="{tb.id}"' not in table and b.no not in page      # not the other bank's
    assert 'id="home-overdue"' in page and 'id="home-dashboard-link"' in page
    other = login(w.user("other_bank")).get("/home").data.decode()
    assert f'data-task="{tb.id}"' in other and a1.no not in other and a2.no not in other

    dept2 = login(w.user("dept2")).get("/home").data.decode()
    assert 'id="home-tasks"' in dept2 and a1.no not in dept2 and 'id="home-dashboard-link"' not in dept2
    assert "待核验的企业注册" in dept2
    for key in ("finance", "finoffice", "pboc", "cbirc"):
        c = login(w.user(key))
        assert c.get("/").headers["Location"].endswith("/home"), key
        page = c.get("/home").data.decode()
        assert 'id="home-figures"' in page and 'id="home-dashboard-link"' in page, key
        assert "基金余额" in page and "逾期未办步骤" in page, key
        assert ("逾期未报送的定期任务" in page) == (key != "cbirc"), key    # the duties' overseers
    # the enterprise keeps its applications, the administrator the task queue
    assert login(w.user("firm")).get("/").headers["Location"].endswith("/applications/")
    assert login(w.user("admin")).get("/home").headers["Location"].endswith("/tasks/")


# ------------------------------------------------------------------ grouped escalations

def test_three_overdue_steps_make_one_message_per_recipient(world, login):
    w = world()
    tasks = [_task_due(w, now() - timedelta(hours=h)) for h in (3, 2, 1)]
    assert escalate_overdue(now()) >= 3
    db.session.commit()
    ids = {t.id for t in tasks}

    def escalations(user_key):
        notes = [n for n in db.session.scalars(select(Notification).where(
            Notification.user_id == w.u[user_key].id, Notification.kind == "escalation"))]
        return [n for n in notes if ids & {i.get("task_id") for i in n.params.get("items", [])}]

    for key in ("officer", "officer2"):
        [n] = escalations(key)          # one message, listing all three
        assert {i["task_id"] for i in n.params["items"]} == ids, key
        assert len(show(n).items) == 3 and "3 项待办已逾期" == show(n).title
    # the financial office: one message listing the three (with any other overdue step it oversees that the
    # same run found: tasks of no scheme go to every financial office, and other tests' data are there)
    [n] = escalations("finoffice")
    items = [i for i in n.params["items"] if i["task_id"] in ids]
    assert len(items) == 3 and show(n).title.startswith("逾期督办：")
    assert len([line for line in show(n).items if line.startswith(w.bank.name + "：")]) == 3
    assert escalations("other_bank") == []
    page = login(w.user("officer")).get("/notifications/").data.decode()
    item = page.split('class="small mb-0 notification-items"', 1)[1].split("</ul>", 1)[0]
    assert item.count("<li>") == 3 and f"测试待办{w.tag}" in item
    # a second run tells nobody again
    escalate_overdue(now())
    db.session.commit()
    assert len(escalations("officer")) == 1


# ------------------------------------------------------------------ suspended banks

def test_department_sees_the_suspended_bank_and_cannot_choose_it_and_the_bank_sees_a_banner(world, login):
    w = world("jiangjin_2020")
    m = db.session.scalar(select(SchemeMember).where(SchemeMember.scheme_id == w.scheme.id,
                                                    SchemeMember.organisation_id == w.bank2.id))
    m.suspended, m.suspended_reason = True, "不良贷款率 12.00% 超过 10.00%"
    db.session.commit()
    _c, a = _submit(w, login)
    t = _open_task(w.dept.id, "department_review", a.id)
    dept = login(w.user("dept"))
    page = dept.get(f"/tasks/{t.id}").data.decode()
    held = page.split('id="held-banks"', 1)[1].split("</div>", 1)[0]
    assert w.bank2.name in held and "12.00%" in held and w.bank.name not in held
    option = page.split(f'value="{w.bank2.id}"', 1)[1].split("</option>", 1)[0]
    assert "已暂停" in option
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐", "bank_id": str(w.bank2.id)})
    assert r.status_code == 400 and "已被暂停开展业务" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LoanApplication, a.id).status == "submitted"
    assert _open_task(w.dept.id, "department_review", a.id) is not None
    # a bank that is not suspended can be chosen; the suspended bank's own task page warns it first
    ok(dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐", "bank_id": str(w.bank.id)}))
    dd = _open_task(w.bank.id, "bank_due_diligence", a.id)
    assert 'id="suspended-banner"' not in login(w.user("officer")).get(f"/tasks/{dd.id}").data.decode()
    m = db.session.scalar(select(SchemeMember).where(SchemeMember.scheme_id == w.scheme.id,
                                                    SchemeMember.organisation_id == w.bank.id))
    m.suspended, m.suspended_reason = True, "不良贷款率 11.00% 超过 10.00%"
    db.session.commit()
    page = login(w.user("officer")).get(f"/tasks/{dd.id}").data.decode()
    assert 'id="suspended-banner"' in page and "11.00%" in page
    assert page.index('id="suspended-banner"') < page.index('id="claim-box"')     # before claiming and the form


# ------------------------------------------------------------------ the demo's first run

DEMO_CHECK = r"""
import json
from sqlalchemy import select
from app import create_app
from app.core.db import db
from app.core.timeutil import now
from app.core.transaction import unit_of_work
from app.demo import load_demo
from app.duties import operations as duties
from app.duties.models import Duty
from app.jobs.deadlines import escalate_overdue
from app.workflow.models import HumanTask
app = create_app()
with app.app_context():
    from flask_migrate import upgrade
    upgrade()
    with unit_of_work():
        load_demo()
    with unit_of_work():
        load_demo()                      # idempotent
    at = now()
    # what the beat does in the first minutes
    created = len(duties.create_monthly_filing_duties(at)) + len(duties.create_credit_data_duties(at))
    escalated = escalate_overdue(at)
    db.session.commit()
    late_duties = [d.key for d in db.session.scalars(select(Duty).where(Duty.status == "open", Duty.due_at < at))]
    late_tasks = [t.form_key for t in db.session.scalars(select(HumanTask).where(
        HumanTask.status == "open", HumanTask.due_at < at))]
    open_tasks = {}
    for t in db.session.scalars(select(HumanTask).where(HumanTask.status == "open")):
        open_tasks[t.form_key] = open_tasks.get(t.form_key, 0) + 1
    print(json.dumps({"created": created, "escalated": escalated, "late_duties": late_duties,
                      "late_tasks": late_tasks, "open": open_tasks}))
"""


def test_demo_builds_a_calm_first_run(tmp_path):
    env = {**os.environ, "SECRET_KEY": "demo-test", "ZENGXIN_UPLOAD_DIR": str(tmp_path / "uploads"),
           "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"}
    url = os.environ.get("ZX_TEST_DATABASE_URL")
    schema = None
    if url and url.startswith("postgres"):
        from sqlalchemy import create_engine, text
        schema = f"zx_demo_{uuid.uuid4().hex[:10]}"
        eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        env.update(DATABASE_URL=url, ZENGXIN_DB_SCHEMA=schema)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    try:
        r = subprocess.run([sys.executable, "-c", DEMO_CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    finally:
        if schema:
            with eng.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["late_duties"] == [] and out["late_tasks"] == [] and out["escalated"] == 0, out
    # each role has something to look at: a department review, a bank's due diligence, filings, a returned
    # application, claims at the finance bureau, at the district government and at the joint meeting
    for key in ("department_review", "bank_due_diligence", "filing_ack", "enterprise_supplement",
                "comp_advance_review", "comp_advance_approve"):
        assert out["open"].get(key), (key, out["open"])
    assert out["open"].get("comp_joint_review") == 4, out["open"]     # 金融办, 财政局, 人行, 银保监


def test_three_tasks_due_soon_make_one_reminder(world):
    from app.jobs.deadlines import send_reminders
    w = world()
    tasks = [_task_due(w, now() + timedelta(minutes=m)) for m in (30, 40, 50)]
    send_reminders(now())
    ids = {t.id for t in tasks}
    notes = [n for n in db.session.scalars(select(Notification).where(
        Notification.user_id == w.u["officer"].id, Notification.kind == "reminder"))
        if ids & {i.get("task_id") for i in n.params.get("items", [])}]
    assert len(notes) == 1 and {i["task_id"] for i in notes[0].params["items"]} == ids
    assert show(notes[0]).title == "3 项待办即将到期" and show(notes[0], "en").title == "3 tasks due soon"


def test_email_in_the_language_the_user_chose(world, login, app):
    from app.notifications import mail as mail_delivery
    from tests.smtp_server import SmtpServer
    w = world("jiangjin_2020")
    firm, a = _submit(w, login)
    firm.get("/lang/en")
    db.session.expire_all()
    assert w.user("firm").locale == "en"
    t = _open_task(w.dept.id, "department_review", a.id)
    with SmtpServer() as smtp:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        try:
            ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "reject", "opinion": "不符合产业方向",
                                                                  "bank_id": "0"}))
            [n] = _about(_notes(w.firm.id), a.no)
            assert n.email_status == "pending"
            assert mail_delivery.deliver(n.id) == "sent"
        finally:
            app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
        [msg] = smtp.wait_for(w.user("firm").email)
    assert msg["Subject"] == f"Loan application {a.no} was not recommended"
    assert "不符合产业方向" in msg.get_content() and f"/applications/{a.id}" in msg.get_content()
