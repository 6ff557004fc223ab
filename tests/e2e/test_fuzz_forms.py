"""Every form of the application, every field, a fixed catalogue of hostile values: no 5xx, nothing stored,
a message on the page.

Discovery, not a list: the scenario below puts objects into every state that shows a form (each
task form key, claim pages, fund, admin, calendar, jobs, login, registration); each role then
crawls the site from ``/`` (same-site links, GET only) and every ``<form method="post">`` found is
matched against ``app.url_map``.  The test fails if a POST route of the url_map, or a form key of
the form-key registry (``app.tasks.registry``), was not reached — a new form cannot escape the fuzzing silently.

Each visible field of each distinct form is filled with each hostile value of its kind while the
other fields keep plausible values; the answer must not be a 5xx, no table may gain or lose rows
(``login_attempts`` excepted: a failed login is recorded by design), and the page must carry a
message (next to a field, or a page-level alert).  Bounded: one form per (route, field set), a fixed
corpus (about 10 values a field).
"""
from __future__ import annotations

import io
import re
from collections import deque
import dataclasses
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select, union_all
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.core.db import db
from app.core.timeutil import today
from app.core.validation import MAX_FILES_PER_FIELD, MAX_VALUE_CHARS
from tests.conftest import PDF, application_form

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


EVERYWHERE = ["\x00", "ab\x00cd", "\u202e\u0645evil", "x\x07\x1by", "x" * (MAX_VALUE_CHARS + 1)]
TEXT = EVERYWHERE + ["\u200b\u200c\u200d\u2060\ufeff"]
NUMBER = EVERYWHERE + ["Infinity", "-Infinity", "NaN", "sNaN", "1e30", "-1e30", "18446744073709551616"]
DATE = EVERYWHERE + ["9999-12-31", "0001-01-01", "1899-12-31"]
CHOICE = EVERYWHERE + ["18446744073709551616", "-9223372036854775809", "Infinity"]
TOO_MANY_FILES = "too-many-files"
UNCOUNTED_TABLES = {"login_attempts"}      # a failed login is recorded by design
SKIP_LINK = re.compile(r"^/(static/|lang/|logout)|/attachments/|\.xlsx|\.bpmn|\.json")
PAGES_PER_ENDPOINT = 3
CAL_YEAR = 2099                             # calendar years nobody else uses (2098, 2099; removed afterwards)


# ------------------------------------------------------------------ HTML forms

class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.links = [], []
        self._form = self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action"), "fields": {}, "multipart": "multipart" in (a.get("enctype") or "")}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset"):
                return
            f = self._form["fields"].setdefault(a["name"], {"kind": kind, "values": [], "value": a.get("value")})
            f["values"].append(a.get("value"))
            if kind in ("radio", "checkbox") and "checked" in a:
                f["value"] = a.get("value")
        elif tag == "select":
            self._select = self._form["fields"].setdefault(a["name"], {"kind": "select", "values": [], "value": None})
        elif tag == "option" and self._select is not None:
            self._select["values"].append(a.get("value", ""))
            if "selected" in a:
                self._select["value"] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = self._form["fields"].setdefault(a["name"], {"kind": "textarea", "values": [], "value": ""})

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _plausible(name, f):
    kind = f["kind"]
    if kind == "file":
        return (io.BytesIO(PDF), "doc.pdf")
    if kind == "select":
        return f["value"] if f["value"] not in (None, "") else next((v for v in f["values"] if v not in ("", "0")),
                                                                   f["values"][0] if f["values"] else "")
    if kind == "radio":
        return f["value"] or f["values"][0]
    if kind == "checkbox":
        return f["values"][0] or "y"
    if f.get("value"):
        return f["value"]
    return {"number": "1", "date": today().isoformat(), "password": "Pa55word-long-enough",
            "email": "a@example.test"}.get(kind, "测试")


def _corpus(f):
    kind = f["kind"]
    if kind == "file":
        return [TOO_MANY_FILES]
    if kind == "number":
        return NUMBER
    if kind == "date":
        return DATE
    if kind in ("select", "radio"):
        return CHOICE
    if kind == "checkbox":
        return EVERYWHERE
    return TEXT


# ------------------------------------------------------------------ the scenario

def _scenario(world, login):
    """Objects in every state that shows a form; returns the logged-in clients to crawl with."""
    from app.accounts.models import Organisation
    from app.accounts.operations import create_user
    from decimal import Decimal

    from app.fund import operations as fund
    from app.fund import thresholds
    from app.core.timeutil import now
    from app.duties import operations as duties
    from tests.conftest import PASSWORD
    from tests.e2e.test_compensation_http import (_advance, claim_of, close_recovery, make_loan, ok, report,
                                                  review_all, submit_claim, task)

    q = world("qianjiang_2018")
    firm, dept, officer = login(q.user("firm")), login(q.user("dept")), login(q.user("officer"))
    from app.applications.models import LoanApplication
    from app.workflow.models import HumanTask

    def new_app():
        assert firm.post("/applications/new", data=application_form(q), content_type="multipart/form-data").status_code == 302
        return db.session.scalars(select(LoanApplication).where(LoanApplication.enterprise_id == q.firm.id)
                                  .order_by(LoanApplication.id.desc())).first()

    def open_task(a):
        db.session.expire_all()
        return db.session.scalar(select(HumanTask).where(HumanTask.subject_type == "loan_application",
                                                         HumanTask.subject_id == a.id, HumanTask.status == "open"))
    new_app()                                                         # department_review
    a = new_app()
    ok(dept.post(f"/tasks/{open_task(a).id}", data={"decision": "return", "opinion": "补充报表"}))  # enterprise_supplement
    for stage in ("unclaimed", "claimed", "approved"):
        a = new_app()
        ok(dept.post(f"/tasks/{open_task(a).id}", data={"decision": "recommend", "opinion": "推荐",
                                                        "bank_id": str(q.bank.id)}))
        t = open_task(a)
        if stage != "unclaimed":
            officer.post(f"/tasks/{t.id}/claim")                      # bank_due_diligence, claimed
        if stage == "approved":                                                   # filing_ack
            ok(officer.post(f"/tasks/{t.id}", data={
                "decision": "approve", "opinion": "可", "contract_no": f"HT-{q.tag}", "amount": "1000000.00",
                "annual_rate": "5.00", "term_months": "12", "disbursed_on": today().isoformat(),
                "product": "standard"}))
    loans = [make_loan(q, "1000000.00") for _ in range(5)]
    seeds = {}
    for i, loan in enumerate(loans):                                   # comp_recovery_close ... comp_disburse
        ok(report(q, officer, loan, "800000.00"))
        claim = claim_of(loan)
        if i == 0:
            seeds[q.u["officer"].id] = [f"/compensation/{claim.id}"]     # recoveries and costs forms
        if i >= 1:
            close_recovery(q, officer, claim)
        if i >= 2:
            ok(submit_claim(q, officer, claim, "0.00", "800000.00", classification="loss"))
        if i >= 3:
            review_all(q, login, claim)
        if i >= 4:
            t = task(q.units["finoffice"], "comp_payout_letter", claim.id)
            ok(login(q.user("finoffice")).post(f"/tasks/{t.id}", data={"letter_no": f"函{q.tag}"}))
    src = Organisation(kind="data_source", name=f"社保{q.tag}", code=f"ds-{q.tag}")
    db.session.add(src)
    db.session.flush()
    ds_user = create_user(src, f"ds_{q.tag.lower()}", "报送员", PASSWORD)
    db.session.commit()
    # one filing duty and one collection duty, for this world's organisations only and not yet due (a
    # job run would create them for every bank of every test, overdue, and flood later mail tests)
    ahead = {"due_at": now() + timedelta(days=30)}
    month = dataclasses.replace(duties.monthly_period(date(2026, 2, 2)), **ahead, stats_due_at=ahead["due_at"])
    quarter = dataclasses.replace(duties.quarterly_period(date(2025, 7, 1)), **ahead)
    duties._create(f"monthly_filing:{month.code}:s{q.scheme.id}:o{q.bank.id}", "monthly_filing", month,
                   q.bank, q.scheme, "monthly_filing", "月度项目备案", {"bank_org_id": q.bank.id})
    duties._create(f"credit_data:{quarter.code}:o{src.id}", "credit_data", quarter, src, None,
                   "credit_data_collection", "季度信用信息采集", {"source_org_id": src.id})

    j = world("jiangjin_2020")                                        # comp_advance_review/approve/pay
    gco = j.units["guarantee"]                                        # a report duty (report_issue) and its page
    duties._create(f"jiangjin_monthly:{month.code}:s{j.scheme.id}:o{gco.id}", "jiangjin_monthly", month, gco,
                   j.scheme, "report_duty", "报表报送", {"reporter_org_id": gco.id})
    seeds[j.u["guarantee"].id] = [f"/reports/r/jiangjin_monthly/{j.scheme.id}/{gco.id}/{month.code}"]
    j_bank = login(j.user("officer"))
    for stage in range(3):
        loan = make_loan(j, "1000000.00")
        ok(report(j, j_bank, loan, "800000.00"))
        claim = claim_of(loan)
        if stage >= 1:
            t = task(j.units["finance"], "comp_advance_review", claim.id)
            ok(login(j.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "齐"}))
        if stage >= 2:
            t = task(j.units["gov"], "comp_advance_approve", claim.id)      # 江津: 区政府 approves
            ok(login(j.user("gov")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "同意"}))
    assert _advance  # (the helper drives all three; here each stage is kept open)

    from app.policies import bindings
    j2 = world("jiangjin_2020")                                       # 江津's own chain: comp_settlement,
    bindings.bind_preset(j2.scheme)                                   # comp_withdrawal_approve (区政府)
    db.session.commit()
    j2_bank = login(j2.user("officer"))
    for stage in range(2):
        loan = make_loan(j2, "1000000.00")
        ok(report(j2, j2_bank, loan, "800000.00"))
        claim = claim_of(loan)
        t = task(j2.units["finance"], "comp_advance_review", claim.id)
        ok(login(j2.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "齐"}))
        t = task(j2.units["gov"], "comp_advance_approve", claim.id)
        ok(login(j2.user("gov")).post(f"/tasks/{t.id}", data={"decision": "refuse", "opinion": "先行追偿"}))
        close_recovery(j2, j2_bank, claim)
        ok(submit_claim(j2, j2_bank, claim, "0.00", "800000.00", classification="loss"))
        if stage == 1:
            t = task(j2.units["finance"], "comp_settlement", claim.id)
            ok(login(j2.user("finance")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "清算"}))

    from app.performance import operations as performance            # a draft evaluation: the confirm form
    performance.compute(j.scheme.id, str(today().year), j.user("finance"))
    db.session.commit()

    r = world("qianjiang_2018")                                       # rectification_report, _review (江津 ends instead)
    make_loan(r, "800000.00")
    s = thresholds.after_loan_classified(make_loan(r, "200000.00", classification="loss"))
    db.session.commit()
    r_bank = login(r.user("officer"))
    t = db.session.scalar(select(HumanTask).where(HumanTask.form_key == "rectification_report",
                                                 HumanTask.subject_id == s.id, HumanTask.status == "open"))
    ok(r_bank.post(f"/tasks/{t.id}", data={"report": "整改", "files": (io.BytesIO(PDF), "r.pdf")},
                   content_type="multipart/form-data"))
    r2 = world("qianjiang_2018")
    make_loan(r2, "800000.00")
    thresholds.after_loan_classified(make_loan(r2, "200000.00", classification="loss"))
    db.session.commit()

    f = world("qianjiang_2018")                                       # fund paused and flagged for review
    fund.post(f.scheme.id, "payout", Decimal("10000000.00"), key=f"p-{f.tag}")
    make_loan(f, "200000000.00")
    thresholds.check_loan_volume(f.scheme.id)
    db.session.commit()

    pending = Organisation(kind="enterprise", name=f"待认证企业{q.tag}", code=f"pend-{q.tag}",   # 企业认证
                           sector_id=q.sector.id, verification="pending")
    db.session.add(pending)
    db.session.commit()
    seeds[q.u["dept"].id] = seeds.get(q.u["dept"].id, []) + ["/firms/verification"]
    from tests.e2e.test_formjs_http import start_guarantee_review     # a task shown with a deployed form-js form
    start_guarantee_review(q)

    from app.api import tokens                                        # an API token to revoke
    tokens.issue(q.bank.id, "core", q.user("admin"))
    db.session.commit()
    admin = login(q.user("admin"))                                    # a calendar year with entries, complete
    ok(admin.post(f"/admin/calendar/{CAL_YEAR}/days", data={"holidays": f"{CAL_YEAR}-01-01 元旦", "workdays": ""}))
    ok(admin.post(f"/admin/calendar/{CAL_YEAR}/complete", data={"note": "测试"}))
    ok(admin.post(f"/admin/calendar/{CAL_YEAR - 1}/days", data={"holidays": f"{CAL_YEAR - 1}-01-01 元旦",
                                                               "workdays": ""}))   # open: days can be deleted
    seeds[q.u["admin"].id] = [f"/admin/orgs/{q.firm.id}", f"/admin/calendar/{CAL_YEAR}",
                              f"/admin/calendar/{CAL_YEAR - 1}"]
    from app.workflow import incidents                                # an open incident on a running instance
    from app.workflow.models import ProcessInstance
    running = db.session.scalar(select(ProcessInstance).where(ProcessInstance.completed.is_(False))
                                .order_by(ProcessInstance.id.desc()).limit(1))
    inc = incidents.record(incidents.Failure(
        source="timer", process_id=running.process_id, error_type="DiagramNameError", message="name 'rate'",
        spec_id=running.spec_id, instance_id=running.id, bpmn_id="compute"))
    seeds[q.u["admin"].id] += [f"/admin/workflow/incidents/{inc.id}", f"/admin/workflow/instances/{running.id}"]

    lw = _credit_scenario(world, login, seeds)                        # recommended list, blacklists, persons
    sw = _subsidy_scenario(world, login, seeds)                       # 永川 interest subsidies, each step
    from tests.e2e.test_seed_chain_lingyuan_yongchuan import BATCH_STAGES, lingyuan_at   # 凌源 batch steps
    batch_users = []
    for stage in BATCH_STAGES:
        bw, keys = lingyuan_at(world, login, stage)
        batch_users += [bw.user(k) for k in keys]

    # every role that has a form somewhere (clients are logged in; the anonymous one sees login/register)
    users = [q.user(k) for k in ("firm", "dept", "officer", "finoffice", "finance", "pboc", "cbirc", "admin",
                                 "centre", "guarantee")]
    users += [j.user(k) for k in ("finance", "finoffice", "guarantee")]
    users += [j.user("gov"), j2.user("finance"), j2.user("gov")]
    users += [r.user("finoffice"), r2.user("officer"), ds_user, f.user("finoffice")] + batch_users
    users += [lw.user(k) for k in ("dept", "finoffice", "firm")]
    users += [sw.user(k) for k in ("firm", "officer", "dept", "finance")]
    clients = [login(u) for u in users]
    for c, u in zip(clients, users):
        c.seeds = seeds.get(u.id, [])
    return clients


def _subsidy_scenario(world, login, seeds):
    """永川 with 信用村贷款贴息 entered, a guaranteed loan and applications at each step of
    bpmn/interest_subsidy.bpmn (the apply form, the budget ledger's two forms)."""
    from tests.e2e.test_compensation_http import make_loan
    from tests.e2e.test_subsidies_http import quarter_before, review, yongchuan_live
    from tests.e2e.test_seed_chain_lingyuan_yongchuan import ok, open_task

    sw = world("yongchuan_2023")
    yongchuan_live(sw, login)
    loan = make_loan(sw, "800000.00", product="xinyongdai")
    make_loan(sw, "600000.00", product="danbaodai")
    firm = login(sw.user("firm"))
    for back in (1, 2, 3):
        ok(firm.post("/subsidies/apply", data={"loan_id": str(loan.id), "programme": "xinyongcun",
                                               "period": quarter_before(today(), back), "interest_paid": "100.00",
                                               "principal": "800000.00"}))
    from app.subsidies.models import SubsidyApplication
    apps = list(db.session.scalars(select(SubsidyApplication).where(SubsidyApplication.loan_id == loan.id)
                                   .order_by(SubsidyApplication.id)))
    t = open_task(sw.bank.id, "subsidy_bank_confirm", "subsidy_application", apps[1].id)   # at the department
    ok(login(sw.user("officer")).post(f"/tasks/{t.id}", data={
        "decision": "confirm", "interest_paid": "100.00", "principal": "800000.00", "opinion": "可"}))
    review(sw, login, apps[2].id, interest="100.00")                                         # at the finance bureau
    seeds[sw.u["finance"].id] = [f"/subsidies/budgets/{sw.scheme.id}/xinyongcun"]
    return sw


def _credit_scenario(world, login, seeds):
    """Nominations in each task of bpmn/recommended_list.bpmn (one on public notice today, one whose notice
    ended), a listed firm, blacklist entries (an open appeal, a proposal, the firm's own) and a recorded person."""
    from unittest import mock

    from app.accounts.models import Organisation
    from app.core.uscc import make as make_uscc
    from app.credit import blacklist, idnumber, recommended
    from app.credit.models import BlacklistEntry
    from app.jobs.timers import fire_due_timers
    from app.core.timeutil import now
    from tests.e2e.test_compensation_http import ok
    from tests.e2e.test_credit_http import nominate, open_task

    lw = world("lingyuan_2020")
    office = login(lw.user("finoffice"))
    task = lambda key, n: open_task(lw.units["finoffice"].id, key, "list_nomination", n.id)  # noqa: E731
    nominate(lw, login)                                               # list_office_review
    firms = [lw.firm]
    for i, name in enumerate(("credit", "notice", "ended")):
        firm = Organisation(kind="enterprise", name=f"推荐{name}{lw.tag}", code=make_uscc(f"91500116{lw.tag[:2]}{i:07d}"),
                            sector_id=lw.sector.id)
        db.session.add(firm)
        db.session.commit()
        firms.append(firm)
        lw.firm = firm
        n = nominate(lw, login)
        ok(office.post(f"/tasks/{task('list_office_review', n).id}", data={"decision": "approve", "opinion": "齐全"}))
        if name == "credit":                                          # list_credit_check
            continue
        past = today() - timedelta(days=30) if name == "ended" else today()
        with mock.patch.object(recommended, "today", lambda past=past: past):
            ok(office.post(f"/tasks/{task('list_credit_check', n).id}", data={"decision": "pass", "opinion": "通过"}))
        if name == "notice":                                          # the public page's objection form
            recommended.lodge_objection(n.id, "", "138", "异议", "127.0.0.1")
            db.session.commit()
            seeds[lw.u["finoffice"].id] = [f"/credit/list/nominations/{n.id}"]
    fire_due_timers(now())                                            # list_listing of the ended one
    lw.firm = firms[0]
    entry = recommended.ListEntry(scheme_id=lw.scheme.id, enterprise_id=firms[1].id, listed_on=today(),
                                  valid_until=today() + timedelta(days=300))
    db.session.add(entry)
    user = lw.user("finoffice")
    bl = [blacklist.add_entry(user, blacklist.EntryInput(subject="firm", source="court", reason=f"失信{i}",
                                                         uscc=firms[i].code, firm_name=firms[i].name,
                                                         starts_on=today())) for i in (2, 3)]
    for e in bl:
        e.enterprise_id = firms[bl.index(e) + 2].id
    bl[0].appeal_status, bl[0].appeal_text = "open", "已清偿"
    proposed = BlacklistEntry(subject="firm", source="scheme_violation", reason="骗贷", uscc=firms[0].code,
                              firm_name=firms[0].name, starts_on=today(), status="proposed")
    db.session.add(proposed)
    db.session.commit()
    firm_user = lw.user("firm")
    blacklist.record_person(firm_user, lw.firm, "controller", "王五", idnumber.make("11010519800101123"))
    own = blacklist.add_entry(user, blacklist.EntryInput(subject="firm", source="court", reason="失信",
                                                         uscc=lw.firm.code, firm_name=lw.firm.name, starts_on=today()))
    own.enterprise_id = lw.firm.id
    db.session.commit()
    from app.credit.models import CreditCommitment                   # a commitment to upload, one to confirm
    lw.firm.legal_representative = "张三"
    db.session.add(CreditCommitment(enterprise_id=lw.firm.id, firm_name=lw.firm.name, uscc=lw.firm.code,
                                    legal_representative="张三"))
    firms[1].legal_representative = "李四"
    db.session.add(CreditCommitment(enterprise_id=firms[1].id, firm_name=firms[1].name, uscc=firms[1].code,
                                    legal_representative="李四", status="uploaded"))
    db.session.commit()
    seeds[lw.u["finoffice"].id] += [f"/credit/blacklist/{bl[0].id}", f"/credit/blacklist/{proposed.id}",
                                    "/credit/list", "/credit/commitments"]
    seeds[lw.u["firm"].id] = [f"/credit/blacklist/{own.id}", "/credit/persons", "/credit/commitment"]
    return lw


def _anonymous(app):
    from tests.conftest import Browser

    class Anonymous(Browser):
        def __init__(self, app):
            self.client = app.test_client()
            self.username = "(anonymous)"
            self.csrf = self._token(self.get("/login").data)
            self.seeds = ["/register"]
    return Anonymous(app)


# ------------------------------------------------------------------ crawl, match, fuzz

def _crawl(client, adapter):
    """Same-site GET links from "/", at most PAGES_PER_ENDPOINT pages of each GET route."""
    seen, found, todo, per_endpoint = set(), [], deque(["/", *getattr(client, "seeds", [])]), {}
    while todo:
        url = todo.popleft()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=True)
        if r.status_code != 200 or not r.mimetype.startswith("text/html"):
            r.close()
            continue
        page_url = r.request.path
        p = _Forms()
        p.feed(r.data.decode())
        for form in p.forms:
            form["url"] = urljoin(page_url, form["action"] or page_url)
            found.append(form)
        for href in p.links:
            parts = urlsplit(urljoin(page_url, href))
            if parts.netloc not in ("", "localhost") or SKIP_LINK.search(parts.path) or parts.query \
                    or parts.path in seen:
                continue
            try:
                endpoint, args = adapter.match(parts.path, method="GET")
            except Exception:   # not a page (404, 405, redirect)
                continue
            if endpoint == "tasks.show":   # one route, many forms: count pages per form key
                from app.workflow.models import HumanTask
                ht = db.session.get(HumanTask, args["task_id"])
                endpoint = (endpoint, ht.form_key if ht else None)
            if per_endpoint.get(endpoint, 0) < PAGES_PER_ENDPOINT:
                per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
                todo.append(parts.path)
    return found


def _row_counts():
    tables = [t for name, t in db.metadata.tables.items() if name not in UNCOUNTED_TABLES]
    q = union_all(*[select(func.count()).select_from(t) for t in tables])
    db.session.rollback()
    return tuple(db.session.execute(q).scalars())


def _has_message(html: str) -> bool:
    return any(mark in html for mark in ("invalid-feedback", "alert-danger", "alert-warning", 'id="input-refused"',
                                         'id="form-error"'))


@pytest.fixture
def clean_calendar_year(ctx):
    from sqlalchemy import delete
    from app.core.workdays import CalendarDay, CalendarYear

    def wipe():
        db.session.rollback()
        db.session.execute(delete(CalendarDay).where(CalendarDay.day >= date(CAL_YEAR - 1, 1, 1)))
        db.session.execute(delete(CalendarYear).where(CalendarYear.year >= CAL_YEAR - 1))
        db.session.commit()
    wipe()
    yield
    wipe()


# POST endpoints no HTML form posts to: the browser modeler and form editor send the edited XML/JSON
# from script; their bad bodies (not XML, refused diagrams, changed form ids) are tested in these files
SCRIPT_ONLY_POSTS = {
    "admin.process_model_deploy": "tests/e2e/test_modeler_http.py",
    "admin.form_editor_deploy": "tests/e2e/test_form_editor_http.py",
    "admin.form_new_deploy": "tests/e2e/test_form_editor_http.py",
}


def test_every_form_refuses_hostile_values(app, world, login, clean_calendar_year):
    clients = _scenario(world, login) + [_anonymous(app)]
    adapter = app.url_map.bind("localhost")
    targets = {}           # (endpoint, form key or fields) -> (client, form)
    reached_endpoints, reached_keys = set(), set()
    from app.workflow.models import HumanTask
    for client in clients:
        for form in _crawl(client, adapter):
            path = urlsplit(form["url"]).path
            try:
                endpoint, args = adapter.match(path, method="POST")
            except (NotFound, MethodNotAllowed):
                continue
            reached_endpoints.add(endpoint)
            if endpoint == "tasks.show":
                reached_keys.add(db.session.get(HumanTask, args["task_id"]).form_key)
            fields = {n: f for n, f in form["fields"].items() if f["kind"] != "hidden"}
            if fields:
                targets.setdefault((endpoint, tuple(sorted(fields))), (client, form))

    # coverage: every POST route of the url_map, every task form
    from app.tasks.registry import registered
    post_routes = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    missing = sorted(post_routes - reached_endpoints - set(SCRIPT_ONLY_POSTS))
    assert not missing, f"POST routes no crawl reached: {missing}"
    missing = sorted(set(registered()) - reached_keys)
    assert not missing, f"task forms no crawl reached: {missing}"
    assert "test_guarantee_review" in reached_keys, "the generic form-js task page was not reached"

    failures = []
    for (endpoint, _names), (client, form) in sorted(targets.items(), key=lambda kv: kv[0]):
        base = {n: f["value"] if f["kind"] == "hidden" else _plausible(n, f) for n, f in form["fields"].items()}
        for name, f in form["fields"].items():
            if f["kind"] == "hidden":
                continue
            for value in _corpus(f):
                data = dict(base)
                for k, v in data.items():       # fresh file objects each time
                    if isinstance(v, tuple):
                        data[k] = (io.BytesIO(PDF), v[1])
                if value == TOO_MANY_FILES:
                    data[name] = [(io.BytesIO(PDF), f"f{i}.pdf") for i in range(MAX_FILES_PER_FIELD * 20)]
                else:
                    data[name] = value
                before = _row_counts()
                kw = {"content_type": "multipart/form-data"} if form["multipart"] else {}
                resp = client.post(form["url"], data=data, **kw)
                html = resp.data.decode(errors="replace")
                if resp.status_code in (301, 302, 303):
                    html = client.get(resp.headers["Location"]).data.decode(errors="replace")
                after = _row_counts()
                what = f"{endpoint} {form['url']} [{name}={value[:20]!r}] as {client.username}"
                if resp.status_code >= 500:
                    failures.append(f"{resp.status_code}: {what}")
                elif after != before:
                    failures.append(f"stored: {what}")
                elif not _has_message(html):
                    failures.append(f"no message ({resp.status_code}): {what}")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures, {len(targets)} forms)"
