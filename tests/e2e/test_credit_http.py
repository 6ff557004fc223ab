"""The credit side over HTTP (issue 13): the recommended list through 公示 with public objections to the
approval gate, and blacklists of firms and persons with their effect on 江津's approval."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.applications import operations as app_ops
from app.applications.models import LoanApplication
from app.core.audit import timeline
from app.core.db import db
from app.core.timeutil import now, today
from app.core.uscc import make as make_uscc
from app.credit import commitments, idnumber, recommended
from app.credit.models import BlacklistEntry, CreditCommitment, FirmPerson, ListEntry, ListNomination, ListObjection
from app.jobs.timers import fire_due_timers
from app.loans.models import Loan
from app.workflow.models import HumanTask
from tests.conftest import PDF, Browser, application_form

CONTROLLER_ID = idnumber.make("11010519800101123")


def ok(r):
    assert r.status_code == 302, r.data.decode()[:3000]
    return r


def open_task(org_id, form_key, subject_type, subject_id) -> HumanTask | None:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.org_id == org_id, HumanTask.form_key == form_key, HumanTask.subject_type == subject_type,
        HumanTask.subject_id == subject_id, HumanTask.status == "open"))


class Clock:
    """The credit module's "today" (公示 window, listing, removal), set by the test."""

    def __init__(self, monkeypatch):
        self.day = today()
        monkeypatch.setattr(recommended, "today", lambda: self.day)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


class Public(Browser):
    """Someone without an account, on the public page."""

    def __init__(self, app):
        self.client = app.test_client()
        self.username = "(public)"
        self.csrf = self._token(self.get("/login").data)


def anonymous(app):
    client = Public(app)
    return client, client.csrf


def nominate(w, login):
    dept = login(w.user("dept"))
    form = {"scheme_id": str(w.scheme.id), "firm_id": str(w.firm.id), "screening_opinion": "本市注册小微企业，符合产业方向",
            "operations": "主营机械零部件，职工36人", "loan_plan": "采购原材料，销售回款还贷",
            "licence": (io.BytesIO(PDF), "licence.pdf"), "tax_proof": (io.BytesIO(PDF), "tax.pdf")}
    # the credit report is one of the materials art. 10 requires: refused without it, nothing stored
    r = dept.post("/credit/list/nominate", data=form, content_type="multipart/form-data")
    assert r.status_code == 400 and "请上传企业信用报告" in r.data.decode()
    assert db.session.scalar(select(func.count(ListNomination.id)).where(ListNomination.enterprise_id == w.firm.id)) == 0
    form.update(licence=(io.BytesIO(PDF), "licence.pdf"), tax_proof=(io.BytesIO(PDF), "tax.pdf"),
                credit_report=(io.BytesIO(PDF), "credit.pdf"))
    ok(dept.post("/credit/list/nominate", data=form, content_type="multipart/form-data"))
    return db.session.scalar(select(ListNomination).where(ListNomination.enterprise_id == w.firm.id))


def list_firm(w, login, app, clock, objections=True) -> ListNomination:
    """Nominated → reviewed → credit checked (公示 from 40 days ago) → objections → listed 10 days ago."""
    n = nominate(w, login)
    office = login(w.user("finoffice"))
    t = open_task(w.units["finoffice"].id, "list_office_review", "list_nomination", n.id)
    ok(office.post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "材料齐全"}))
    clock.day = today() - timedelta(days=40)
    t = open_task(w.units["finoffice"].id, "list_credit_check", "list_nomination", n.id)
    ok(office.post(f"/tasks/{t.id}", data={"decision": "pass", "opinion": "信用报告A级，无失信记录"}))
    db.session.expire_all()
    n = db.session.get(ListNomination, n.id)
    assert n.status == "publicity" and n.notice_from == clock.day
    assert n.notice_until == recommended.calendar().add_working_days(clock.day, 5)
    if objections:
        client, token = anonymous(app)
        page = client.get("/public/list").data.decode()
        assert w.firm.name in page and f'id="notice-{n.id}"' in page
        # validated: no contact → refused, nothing stored
        r = client.post(f"/public/list/{n.id}/objection", data={"csrf_token": token, "text": "x", "contact": ""})
        assert r.status_code == 400 and "请留下联系方式" in r.data.decode()
        # CSRF
        r = client.post(f"/public/list/{n.id}/objection", data={"csrf_token": "forged", "text": "无令牌", "contact": "138"})
        assert r.status_code == 400
        for text in ("该企业拖欠职工工资", "该企业有环保处罚未整改"):
            ok(client.post(f"/public/list/{n.id}/objection",
                           data={"csrf_token": token, "name": "市民", "contact": "13800000000", "text": text}))
        objs = db.session.scalars(select(ListObjection).where(ListObjection.nomination_id == n.id)
                                  .order_by(ListObjection.id)).all()
        assert [o.text for o in objs] == ["该企业拖欠职工工资", "该企业有环保处罚未整改"]
    fire_due_timers(now())                 # the window (dated 40 days ago) has passed for the engine
    t = open_task(w.units["finoffice"].id, "list_listing", "list_nomination", n.id)
    assert t is not None
    if objections:
        # within the window by the clock, and with objections open: no listing yet
        r = office.post(f"/tasks/{t.id}", data={"decision": "list", "opinion": "公示无异议"})
        assert r.status_code == 400 and "期满后方可决定" in r.data.decode()
        clock.day = n.notice_until + timedelta(days=1)
        r = office.post(f"/tasks/{t.id}", data={"decision": "list", "opinion": "公示期满"})
        assert r.status_code == 400 and "还有 2 件异议未处理" in r.data.decode()
        # an objection is resolved only with a reason, by the office only
        r = office.post(f"/credit/list/objections/{objs[0].id}/resolve", data={"outcome": "upheld", "reason": ""})
        assert r.status_code == 400
        assert login(w.user("dept")).post(f"/credit/list/objections/{objs[0].id}/resolve",
                                          data={"outcome": "upheld", "reason": "x"}).status_code == 403
        ok(office.post(f"/credit/list/objections/{objs[0].id}/resolve",
                       data={"outcome": "upheld", "reason": "经核实欠薪属实，企业已于公示期内全部补发，附劳动监察证明"}))
        ok(office.post(f"/credit/list/objections/{objs[1].id}/resolve",
                       data={"outcome": "rejected", "reason": "经生态环境局核实，该处罚已整改销号"}))
    clock.day = today() - timedelta(days=10)
    ok(office.post(f"/tasks/{t.id}", data={"decision": "list", "opinion": "异议已处理，列入推荐名单"}))
    db.session.expire_all()
    return db.session.get(ListNomination, n.id)


def commit(w, login, legal="张三", id17="11010519700101001", record=True):
    """The firm records its legal representative, generates its 信用承诺书, uploads the signed copy; the
    financial office confirms it."""
    firm = login(w.user("firm"))
    if record:
        ok(firm.post("/credit/persons", data={"role": "legal_representative", "name": legal,
                                              "id_number": idnumber.make(id17)}))
    ok(firm.post("/credit/commitment/generate"))
    c = db.session.scalars(select(CreditCommitment).where(CreditCommitment.enterprise_id == w.firm.id)
                           .order_by(CreditCommitment.id.desc())).first()
    assert c.legal_representative == legal and c.status == "generated"
    pdf = firm.get(f"/credit/commitment/{c.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and b"/STSong-Light" in pdf.data
    assert commitments._hex(legal).encode() in pdf.data and commitments._hex(w.firm.name).encode() in pdf.data
    assert login(w.user("firm2")).get(f"/credit/commitment/{c.id}.pdf").status_code == 404
    ok(firm.post(f"/credit/commitment/{c.id}/upload", data={"file": (io.BytesIO(PDF), "signed.pdf")},
                 content_type="multipart/form-data"))
    office = login(w.user("finoffice"))
    assert login(w.user("firm")).post(f"/credit/commitments/{c.id}/decide",
                                      data={"decision": "confirm", "reason": "x"}).status_code == 403
    ok(office.post(f"/credit/commitments/{c.id}/decide", data={"decision": "confirm", "reason": "签字盖章齐全"}))
    return c


def apply_and_recommend(w, login) -> tuple[LoanApplication, HumanTask]:
    firm = login(w.user("firm"))
    ok(firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data"))
    a = db.session.scalars(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id)
                           .order_by(LoanApplication.id.desc())).first()
    t = open_task(w.dept.id, "department_review", "loan_application", a.id)
    ok(login(w.user("dept")).post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "推荐",
                                                          "bank_id": str(w.bank.id)}))
    t = open_task(w.bank.id, "bank_due_diligence", "loan_application", a.id)
    officer = login(w.user("officer"))
    ok(officer.post(f"/tasks/{t.id}/claim"))
    return a, t


def approve(w, login, t, product, **extra):
    data = {"decision": "approve", "opinion": "调查属实", "contract_no": f"HT-{t.id}", "amount": "1000000.00",
            "annual_rate": "5.00", "term_months": "12", "disbursed_on": today().isoformat(), "product": product}
    data.update(extra)
    return login(w.user("officer")).post(f"/tasks/{t.id}", data=data)


# ------------------------------------------------------------------ the recommended list

def test_nominated_publicised_objections_resolved_listed_approved_then_removed(world, login, app, clock):
    w = world("lingyuan_2020")
    # off the list: the 凌源 gate fails with the reason
    a, t = apply_and_recommend(w, login)
    r = approve(w, login, t, "xinyidai")
    assert r.status_code == 400 and "企业不在推荐名单内" in r.data.decode() and "从未列入推荐名单" in r.data.decode()

    n = list_firm(w, login, app, clock)
    assert n.status == "listed"
    entry = db.session.scalar(select(ListEntry).where(ListEntry.nomination_id == n.id))
    assert entry.listed_on == today() - timedelta(days=10) and entry.valid_on(today())
    outcomes = {o.text: (o.outcome, o.outcome_reason) for o in n.objections}
    assert outcomes["该企业拖欠职工工资"][0] == "upheld" and outcomes["该企业有环保处罚未整改"][0] == "rejected"
    actions = [e.action for e in timeline("list_nomination", n.id)]
    assert actions == ["list_nominated", "list_office_approved", "list_credit_passed", "list_objection_lodged",
                       "list_objection_lodged", "list_objection_upheld", "list_objection_rejected", "list_listed"]
    # the public page shows it listed, and no longer in 公示
    client, _token = anonymous(app)
    page = client.get("/public/list").data.decode()
    assert f'id="notice-{n.id}"' not in page and w.firm.name in page

    r = approve(w, login, t, "xinyidai")          # listed, but no credit commitment yet
    assert r.status_code == 400 and "企业没有有效的信用承诺" in r.data.decode()
    commit(w, login)
    ok(approve(w, login, t, "xinyidai"))
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan.eligible and any(g["rule"] == "recommended_list" and g["passed"] for g in loan.eligibility)

    # the office removes the firm on review; a later approval fails the gate with the removal's reason
    clock.day = today()
    office = login(w.user("finoffice"))
    assert login(w.user("dept")).post(f"/credit/list/entries/{entry.id}/remove",
                                      data={"reason": "x"}).status_code == 403
    ok(office.post(f"/credit/list/entries/{entry.id}/remove", data={"reason": "复核发现企业迁出本市"}))
    a2, t2 = apply_and_recommend(w, login)
    r = approve(w, login, t2, "xinyidai")
    page = r.data.decode()
    assert r.status_code == 400 and "企业不在推荐名单内" in page and "复核发现企业迁出本市" in page
    assert db.session.scalar(select(Loan).where(Loan.application_id == a2.id)) is None


def test_listing_lapses_without_review_and_renewal_extends_it(world, login, app, clock):
    w = world("lingyuan_2020")
    n = list_firm(w, login, app, clock, objections=False)
    entry = db.session.scalar(select(ListEntry).where(ListEntry.nomination_id == n.id))
    months = w.scheme.params.list_review_months
    assert entry.valid_until == recommended.add_months(entry.listed_on, months) - timedelta(days=1)
    after = entry.valid_until + timedelta(days=1)
    assert recommended.listing_on(w.firm.id, w.scheme.id, after) is None
    assert "届满" in recommended.why_not_listed(w.firm.id, w.scheme.id, after)
    clock.day = entry.valid_until
    ok(login(w.user("finoffice")).post(f"/credit/list/entries/{entry.id}/renew", data={"reason": "复核：仍符合条件"}))
    assert recommended.listing_on(w.firm.id, w.scheme.id, after) is not None


def test_objections_only_in_the_window_and_rate_limited(world, login, app, clock):
    w = world("lingyuan_2020")
    n = nominate(w, login)
    client, token = anonymous(app)
    # not in 公示 yet: nothing to object to
    r = client.post(f"/public/list/{n.id}/objection", data={"csrf_token": token, "contact": "1", "text": "x"})
    assert r.status_code == 404
    office = login(w.user("finoffice"))
    t = open_task(w.units["finoffice"].id, "list_office_review", "list_nomination", n.id)
    ok(office.post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "齐全"}))
    t = open_task(w.units["finoffice"].id, "list_credit_check", "list_nomination", n.id)
    ok(office.post(f"/tasks/{t.id}", data={"decision": "pass", "opinion": "通过"}))
    app.config["OBJECTION_LIMIT"] = "2 per hour"
    try:
        for i in range(2):
            ok(client.post(f"/public/list/{n.id}/objection", data={"csrf_token": token, "contact": "1", "text": f"异议{i}"}))
        r = client.post(f"/public/list/{n.id}/objection", data={"csrf_token": token, "contact": "1", "text": "第三件"})
        assert r.status_code == 429
    finally:
        app.config.pop("OBJECTION_LIMIT")
    assert db.session.scalar(select(func.count(ListObjection.id)).where(ListObjection.nomination_id == n.id)) == 2
    # after the window: refused
    clock.day = n.notice_until + timedelta(days=1)
    r = client.post(f"/public/list/{n.id}/objection", data={"csrf_token": token, "contact": "1", "text": "晚了"})
    assert r.status_code == 404


def test_only_the_sector_department_nominates_and_others_do_not_see(world, login):
    w = world("lingyuan_2020")
    other = login(w.user("dept2"))
    r = other.post("/credit/list/nominate", data={
        "scheme_id": str(w.scheme.id), "firm_id": str(w.firm.id), "screening_opinion": "x", "operations": "x",
        "loan_plan": "x"}, content_type="multipart/form-data")
    assert r.status_code == 400       # not among its choices
    assert login(w.user("firm")).get("/credit/list").status_code == 403
    assert login(w.user("officer")).get("/credit/list").status_code == 403
    n = nominate(w, login)
    assert login(w.user("dept")).get(f"/credit/list/nominations/{n.id}").status_code == 200
    for key in ("dept2", "firm2", "other_bank"):          # another department, another firm, a bank
        assert login(w.user(key)).get(f"/credit/list/nominations/{n.id}").status_code == 404, key
    att = recommended.materials_of(n.id)[0]
    assert login(w.user("dept2")).get(f"/credit/list/materials/{att.id}").status_code == 404
    other = world("lingyuan_2020")                        # another scheme's office cannot act on it
    t = open_task(w.units["finoffice"].id, "list_office_review", "list_nomination", n.id)
    r = login(other.user("finoffice")).post(f"/tasks/{t.id}", data={"decision": "approve", "opinion": "x"})
    assert r.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(ListNomination, n.id).status == "office_review"


# ------------------------------------------------------------------ credit commitments

def test_lapsed_commitment_after_a_new_legal_representative_blocks_approval_until_re_signed(world, login, app, clock):
    w = world("lingyuan_2020")
    list_firm(w, login, app, clock, objections=False)
    c = commit(w, login)
    client, _token = anonymous(app)
    page = client.get("/public/list").data.decode()
    assert w.firm.name in page and f"/public/commitments/{c.id}" in page     # shown on the public page
    r = client.get(f"/public/commitments/{c.id}")
    assert r.status_code == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
    r.close()
    a, t = apply_and_recommend(w, login)
    # the legal representative changes: the commitment lapses, the approval fails with the reason
    ok(login(w.user("firm")).post("/credit/persons", data={"role": "legal_representative", "name": "李四",
                                                           "id_number": idnumber.make("11010519800202002")}))
    r = approve(w, login, t, "xinyidai")
    page = r.data.decode()
    assert r.status_code == 400 and "法定代表人已由 张三 变更为 李四" in page
    assert f"/public/commitments/{c.id}" not in client.get("/public/list").data.decode()
    assert client.get(f"/public/commitments/{c.id}").status_code == 404
    # re-signed by the new legal representative and confirmed: approved
    c2 = commit(w, login, legal="李四", record=False)
    assert c2.id != c.id
    ok(approve(w, login, t, "xinyidai"))
    assert db.session.scalar(select(Loan).where(Loan.application_id == a.id)).eligible
    assert [e.action for e in timeline("credit_commitment", c2.id)] == [
        "commitment_generated", "commitment_uploaded", "commitment_confirmed"]


# ------------------------------------------------------------------ blacklists

def test_blacklisted_controller_blocks_jiangjin_approval_until_five_years_pass(world, login, monkeypatch):
    w = world("jiangjin_2020")
    firm = login(w.user("firm"))
    # the firm records its controller: the check digit is validated, the number stored masked only
    bad = CONTROLLER_ID[:-1] + ("0" if CONTROLLER_ID[-1] != "0" else "1")
    r = firm.post("/credit/persons", data={"role": "controller", "name": "王五", "id_number": bad})
    assert r.status_code == 400 and "校验位不正确" in r.data.decode()
    ok(firm.post("/credit/persons", data={"role": "controller", "name": "王五", "id_number": CONTROLLER_ID}))
    p = db.session.scalar(select(FirmPerson).where(FirmPerson.enterprise_id == w.firm.id))
    assert p.id_masked == CONTROLLER_ID[:6] + "********" + CONTROLLER_ID[14:]
    page = firm.get("/credit/persons").data.decode()
    assert p.id_masked in page and CONTROLLER_ID not in page
    assert login(w.user("firm2")).post(f"/credit/persons/{p.id}/remove", data={"reason": "x"}).status_code == 404
    assert db.session.get(FirmPerson, p.id) is not None

    a, t = apply_and_recommend(w, login)
    office = login(w.user("finoffice"))
    start = today()
    ok(office.post("/credit/blacklist/new", data={
        "subject": "person", "person_name": "王五", "id_number": CONTROLLER_ID, "source": "scheme_violation",
        "reason": "提供虚假增信证明骗贷", "basis": "区金融办认定书", "starts_on": start.isoformat(),
        "scheme_id": str(w.scheme.id)}))
    e = db.session.scalar(select(BlacklistEntry).where(BlacklistEntry.id_digest == idnumber.digest(CONTROLLER_ID)))
    assert e.expires_on == date(start.year + 5, start.month, start.day) - timedelta(days=1)   # 江津 art. 21
    assert e.id_masked == p.id_masked and CONTROLLER_ID not in office.get("/credit/blacklist").data.decode()
    assert [ev.action for ev in timeline("blacklist_entry", e.id)] == ["blacklist_entered"]

    extra = {"joint_guarantee": "y"}
    r = approve(w, login, t, "zengxindai", **extra)
    page = r.data.decode()
    assert r.status_code == 400 and "实际控制人 王五" in page and "提供虚假增信证明骗贷" in page
    # a hard gate: not even at the bank's own risk
    r = approve(w, login, t, "zengxindai", outside_scheme="y", **extra)
    assert r.status_code == 400 and db.session.scalar(select(Loan).where(Loan.application_id == a.id)) is None
    # the firm cannot submit another application meanwhile
    r = firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    assert r.status_code == 400 and "已被列入黑名单" in r.data.decode()

    # on its last day the entry is still in force; five years after its start it has expired
    monkeypatch.setattr(app_ops, "today", lambda: e.expires_on)
    assert approve(w, login, t, "zengxindai", **extra).status_code == 400
    monkeypatch.setattr(app_ops, "today", lambda: e.expires_on + timedelta(days=1))
    ok(approve(w, login, t, "zengxindai", **extra))
    assert db.session.scalar(select(Loan).where(Loan.application_id == a.id)) is not None


def _workbook(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["类型", "企业名称/姓名", "统一社会信用代码", "身份证号码", "来源", "列入原因", "起始日期", "截止日期"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_joint_punishment_import_lists_every_bad_row_and_stores_nothing_unless_clean(world, login):
    w = world("qianjiang_2018")
    office = login(w.user("finoffice"))
    good_firm = make_uscc("91500114MA5U0001" + "2")
    good = [["企业", "某某建材有限公司", good_firm, "", "法院", "失信被执行人", "2025-01-01", "2030-01-01"],
            ["个人", "赵六", "", idnumber.make("50010119750505001"), "人民银行", "恶意逃废债务", "2025-03-01", ""]]
    bad = [["企业", "坏代码公司", "91500114MA5U00013X", "", "法院", "失信", "2025-01-01", ""],
           ["个人", "钱七", "", "500101197505050010", "人民银行", "逃债", "2025-01-01", ""],
           ["企业", "无原因公司", good_firm, "", "某来源", "", "2025-13-01", ""]]
    before = db.session.scalar(select(func.count(BlacklistEntry.id)))
    r = office.post("/credit/blacklist/import", data={"file": (io.BytesIO(_workbook(good + bad)), "list.xlsx")},
                    content_type="multipart/form-data")
    page = r.data.decode()
    assert r.status_code == 400
    assert "第 4 行" in page and "第 5 行" in page and "第 6 行" in page and "第 2 行" not in page
    assert "校验位不正确" in page and "请填写列入原因" in page and "起始日期应为日期" in page and "请选择来源" in page
    assert db.session.scalar(select(func.count(BlacklistEntry.id))) == before
    ok(office.post("/credit/blacklist/import", data={"file": (io.BytesIO(_workbook(good)), "list.xlsx")},
                   content_type="multipart/form-data"))
    assert db.session.scalar(select(func.count(BlacklistEntry.id))) == before + 2
    # only the financial office and administrators manage the lists
    assert login(w.user("officer")).get("/credit/blacklist").status_code == 403
    assert login(w.user("firm")).post("/credit/blacklist/import", data={}).status_code == 403


def test_firm_entry_appeal_and_removal_are_audited(world, login):
    w = world("qianjiang_2018")
    admin = login(w.user("admin"))
    ok(admin.post(f"/admin/orgs/{w.firm.id}/blacklist", data={"reason": "恶意逃废银行债务", "action": "add"}))
    e = db.session.scalar(select(BlacklistEntry).where(BlacklistEntry.enterprise_id == w.firm.id))
    assert e.status == "active" and e.expires_on is None
    firm = login(w.user("firm"))
    assert login(w.user("firm2")).post(f"/credit/blacklist/{e.id}/appeal", data={"text": "x"}).status_code == 404
    ok(firm.post(f"/credit/blacklist/{e.id}/appeal", data={"text": "债务已全部清偿，附法院结案通知书"}))
    office = login(w.user("finoffice"))
    ok(office.post(f"/credit/blacklist/{e.id}/appeal/decide", data={"outcome": "upheld", "reason": "核实已清偿"}))
    db.session.expire_all()
    e = db.session.get(BlacklistEntry, e.id)
    assert e.status == "removed" and e.removal_reason == "核实已清偿"
    assert [ev.action for ev in timeline("blacklist_entry", e.id)] == [
        "blacklist_entered", "blacklist_appealed", "blacklist_appeal_upheld", "blacklist_removed"]


def test_violation_found_in_joint_review_is_proposed_then_confirmed(world, login):
    from tests.e2e.test_compensation_http import claim_of, make_loan, report
    w = world("jiangjin_2020")
    loan = make_loan(w, "500000.00")
    ok(report(w, login(w.user("officer")), loan, "500000.00"))
    claim = claim_of(loan)
    # 江津's settlement is 据实清算 with 区财政: the finance bureau is its one reviewer (joint_meeting_roles)
    reviewer = login(w.user("finance"))
    assert login(w.user("firm")).get(f"/credit/claims/{claim.id}/propose").status_code == 404
    assert login(w.user("pboc")).get(f"/credit/claims/{claim.id}/propose").status_code == 404
    ok(reviewer.post(f"/credit/claims/{claim.id}/propose", data={"reason": "提供虚假增信证明骗贷"}))
    e = db.session.scalar(select(BlacklistEntry).where(BlacklistEntry.claim_id == claim.id))
    assert e.status == "proposed" and not e.in_force(today())
    assert login(w.user("finance")).post(f"/credit/blacklist/{e.id}/confirm",
                                      data={"decision": "confirm", "reason": "x"}).status_code == 403
    ok(login(w.user("finoffice")).post(f"/credit/blacklist/{e.id}/confirm",
                                       data={"decision": "confirm", "reason": "确认"}))
    db.session.expire_all()
    e = db.session.get(BlacklistEntry, e.id)
    assert e.status == "active" and e.in_force(today()) and e.source == "scheme_violation"
    assert e.expires_on == date(e.starts_on.year + 5, e.starts_on.month, e.starts_on.day) - timedelta(days=1)
