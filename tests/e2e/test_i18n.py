"""Chinese by default, English on request: ?lang=en switches and stays in the session, the key pages
render in English with no Chinese left in their chrome (navigation, headings, labels, buttons, table
heads, messages), and /lang/zh switches back.

What may stay Chinese on an English page is *data*: organisation names without an English name,
stored task titles, opinions users typed, and the policy check results stored with a loan (written in
the source language when the loan was approved).  :func:`leftover_cjk` removes exactly those values
(passed in by each test) before looking for Chinese characters.
"""
import re
from datetime import date, timedelta

from lxml import html as lxml_html
from sqlalchemy import select

from app.accounts.models import Organisation, Sector, User
from app.applications.models import LoanApplication
from app.core.db import db
from app.fund.models import FundEntry
from app.loans.models import Loan
from app.policies.models import Scheme
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD, application_form

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]+")
STORED = ('//*[@id="gates"]',)   # gate results stored with the loan, in the source language


def leftover_cjk(page: str, data=(), drop=STORED) -> list[str]:
    """Chinese runs left in the visible text of ``page`` once data values are taken out."""
    doc = lxml_html.fromstring(page)
    for el in doc.xpath("//script|//style|//head|//body//*[starts-with(@lang, 'zh')]"):   # marked Chinese: data
        el.drop_tree()
    for xpath in drop:
        for el in doc.xpath(xpath):
            el.drop_tree()
    for a in doc.xpath("//nav//a"):          # the language switch names Chinese in Chinese
        if (a.text or "").strip() == "中文":
            a.drop_tree()
    text = doc.text_content()
    for value in sorted((v for v in data if v), key=len, reverse=True):
        text = text.replace(value, " ")
    return CJK.findall(text)


def english(client, url, data=(), status=200, drop=STORED):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code)
    page = r.data.decode()
    assert '<html lang="en">' in page, url
    left = leftover_cjk(page, data, drop)
    assert not left, f"{url}: Chinese left on an English page: {left}"
    return page


def _name_orgs_in_english(w):
    for o in [w.dept, w.dept2, w.bank, w.bank2, w.firm, w.firm2, w.admin_org, *w.units.values()]:
        o.name_en = f"{o.kind.replace('_', ' ').title()} {o.id}"
    w.sector.name_en, w.sector2.name_en = "Manufacturing", "Agriculture"
    db.session.commit()


def _titles():
    """Data on the pages: every organisation, sector and scheme name in the (shared) test database
    (other tests' organisations have no English names), user names, the stored task titles, ledger memos and the policies' notes."""
    rows = [select(Organisation.name), select(Sector.name), select(Scheme.name), select(HumanTask.title),
            select(FundEntry.memo), select(User.display_name)]
    # the policy's own summary and the title of its text (a document number)
    notes = [t for s in db.session.scalars(select(Scheme)) for t in (s.params.notes, s.params.source)]
    return [v for q in rows for v in db.session.scalars(q) if v] + [n for n in notes if n]


# ------------------------------------------------------------------ switching


def test_chinese_by_default_english_on_request_kept_in_session(app):
    # no app context held by the test: every request gets its own, as in production
    c = app.test_client()
    page = c.get("/login").data.decode()
    assert '<html lang="zh-CN">' in page and "登录" in page and "Sign in" not in page

    page = c.get("/login?lang=en").data.decode()
    assert '<html lang="en">' in page and "Sign in" in page and "Username" in page
    assert not leftover_cjk(page)
    # no parameter any more: the session remembers
    page = c.get("/login").data.decode()
    assert "Sign in" in page and "登录" not in page
    page = c.get("/register").data.decode()
    with app.app_context():
        data = _titles()
    assert "Enterprise registration" in page and not leftover_cjk(page, data)   # sector names are data

    # the header link switches back, and that is remembered too
    r = c.get("/lang/zh?next=/login")
    assert r.status_code == 302
    page = c.get("/login").data.decode()
    assert '<html lang="zh-CN">' in page and "登录" in page and "Sign in" not in page
    # an unknown language is refused and changes nothing
    assert c.get("/lang/fr").status_code == 404
    assert "登录" in c.get("/login?lang=fr").data.decode()


def test_login_error_and_flash_in_english(app, world):
    w = world()
    c = app.test_client()
    c.get("/login?lang=en")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', c.get("/login").data.decode()).group(1)
    r = c.post("/login", data={"csrf_token": token, "username": w.u["firm"].username, "password": "wrong-password"})
    page = r.data.decode()
    assert "Incorrect username or password" in page and not leftover_cjk(page)
    r = c.post("/login", data={"csrf_token": token, "username": w.u["firm"].username, "password": PASSWORD})
    assert r.status_code == 302
    english(c, "/tasks/", data=_titles())


# ------------------------------------------------------------------ the loan-application pages


def test_key_pages_render_in_english(world, login):
    w = world("jiangjin_2020")
    _name_orgs_in_english(w)
    firm = login(w.user("firm"))
    firm.get("/tasks/?lang=en")

    # the application form, then a validation error: English messages next to the fields, 400
    page = english(firm, "/applications/new", data=_titles())
    assert "Submit a loan request" in page and "Amount requested (¥)" in page and "Working capital" in page
    r = firm.post("/applications/new", data=application_form(w, amount="", purpose="buy raw materials",
                                                              repayment_plan="monthly interest",
                                                              repayment_source="sales", consent_purpose="due diligence"),
                  content_type="multipart/form-data")
    assert r.status_code == 400
    page = r.data.decode()
    assert "Please enter the amount requested" in page and "buy raw materials" in page
    assert not leftover_cjk(page, _titles()), leftover_cjk(page, _titles())
    # a business rule refused by the operation (not the form): also English
    r = firm.post("/applications/new", data=application_form(
        w, consent_valid_until=(date.today() - timedelta(days=1)).isoformat()), content_type="multipart/form-data")
    assert r.status_code == 400 and "The authorisation cannot expire before today" in r.data.decode()

    r = firm.post("/applications/new", data=application_form(
        w, purpose="buy raw materials", repayment_plan="monthly interest", repayment_source="sales",
        consent_purpose="due diligence"), content_type="multipart/form-data")
    assert r.status_code == 302
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    page = english(firm, "/applications/", data=_titles())
    assert "Awaiting department review" in page
    page = english(firm, f"/applications/{a.id}", data=_titles())
    assert "Enterprise submitted the loan request" in page and "Department review and recommendation" in page

    # the department's queue and task page
    dept = login(w.user("dept"))
    dept.get("/tasks/?lang=en")
    page = english(dept, "/tasks/", data=_titles())
    assert "My tasks" in page and "Department review and recommendation" in page
    t = db.session.scalar(select(HumanTask).where(HumanTask.org_id == w.dept.id, HumanTask.status == "open"))
    page = english(dept, f"/tasks/{t.id}", data=_titles())
    assert "Recommend to a cooperating bank" in page
    assert w.bank.name_en in page and w.bank.name not in page   # bank names come from name_en
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "", "bank_id": str(w.bank.id)})
    assert r.status_code == 400
    assert "Please enter the review opinion" in r.data.decode()
    assert not leftover_cjk(r.data.decode(), _titles())
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "sound business",
                                          "bank_id": str(w.bank.id)})
    assert r.status_code == 302
    page = english(dept, "/tasks/", data=_titles())
    assert f"Recommended to {w.bank.name_en}" in page

    # the bank: claim, due diligence page with the scheme checks, approval
    officer = login(w.user("officer"))
    officer.get("/tasks/?lang=en")
    t = db.session.scalar(select(HumanTask).where(HumanTask.org_id == w.bank.id, HumanTask.status == "open"))
    r = officer.post(f"/tasks/{t.id}/claim")
    assert r.status_code == 302
    page = english(officer, f"/tasks/{t.id}", data=_titles())   # timeline: stored bank name
    assert "Claimed" in page and "Bank due diligence and approval" in page
    r = officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "checked", "contract_no": "HT-EN-1", "amount": "1000000.00",
        "annual_rate": "9.00", "term_months": "12", "disbursed_on": "2026-11-20", "product": "zengxindai"})
    assert r.status_code == 400
    page = r.data.decode()
    assert "Annual rate 9% exceeds the cap" in page and "Lend outside the scheme" in page
    r = officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "checked", "contract_no": "HT-EN-1", "amount": "1000000.00",
        "annual_rate": "5.22", "term_months": "12", "disbursed_on": "2026-11-20", "product": "zengxindai"})
    assert r.status_code == 302, r.data.decode()[:2000]
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    page = english(officer, f"/loans/{loan.id}", data=_titles())
    assert "Scheme conditions check" in page and "Awaiting acknowledgement" in page
    # the checks stored with the loan are in the source language whatever the officer was reading
    assert all(re.search(r"[\u4e00-\u9fff]", g["message"]) for g in loan.eligibility)
    page = english(officer, "/loans/", data=_titles())
    assert "Filing in progress" in page

    # a filing recipient acknowledges in English
    finance = login(w.user("finance"))
    finance.get("/tasks/?lang=en")
    t = db.session.scalar(select(HumanTask).where(HumanTask.org_id == w.units["finance"].id,
                                                  HumanTask.status == "open"))
    page = english(finance, f"/tasks/{t.id}", data=_titles())
    assert "Acknowledge filing" in page

    # the fund page of the scheme
    page = english(finance, f"/fund/{w.scheme.id}", data=_titles())
    assert "Fund ledger" in page and "Record a fund inflow" in page


def test_admin_pages_and_switching_back(world, login):
    w = world()
    _name_orgs_in_english(w)
    admin = login(w.user("admin"))
    admin.get("/tasks/?lang=en")
    # organisations and users listed on the admin page are data; the chrome must be English
    page = english(admin, "/admin/", data=_titles())
    assert "Administration" in page
    page = english(admin, "/admin/jobs/")
    assert "Background jobs" in page and "Deadline reminders and overdue escalation" in page
    english(admin, "/admin/calendar/")
    page = english(admin, "/admin/calendar/2026", data=_titles())
    assert "Weekday" in page and "<td>Sat</td>" in page      # 2026's adjusted working days fall on weekends

    # back to Chinese: the same pages speak Chinese again
    assert admin.get("/lang/zh?next=/admin/").status_code == 302
    page = admin.get("/admin/").data.decode()
    assert '<html lang="zh-CN">' in page and "系统管理" in page and "Administration" not in page
    page = admin.get("/tasks/").data.decode()
    assert "我的待办" in page and "My tasks" not in page


def test_diagram_step_names_come_translated_and_unknown_ones_are_marked(world, login):
    """The diagram's text list names every step: in English the shipped diagrams' names come from the
    catalog; a name the catalog lacks (an administrator's own words) is listed for a lang="zh-CN" mark."""
    w = world()
    firm = login(w.user("firm"))
    assert firm.post("/applications/new", data=application_form(w)).status_code == 302
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    url = f"/workflow/instances/{a.instance_id}/progress.json"
    zh = firm.get(url).get_json()
    firm.get("/lang/en")
    en = firm.get(url).get_json()
    start = next(bid for bid, name in zh["names"].items() if name == "贷款需求已提交")
    assert en["names"][start] == "Loan request submitted" and start not in en["untranslated"]
    assert zh["untranslated"] == [] and en["current"] == zh["current"]
