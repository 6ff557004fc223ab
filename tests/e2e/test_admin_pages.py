"""The administrator's pages over HTTP: organisations, sectors, users, blacklist, schemes (members,
parameters with history), reference rates and process versions; invalid input stores nothing."""
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.models import Organisation, Sector, User
from app.core.audit import TimelineEvent, timeline
from app.core.db import db
from app.core.timeutil import today
from app.credit.blacklist import firm_hits
from app.loans.models import Loan
from app.policies.models import ReferenceRate, Scheme, SchemeMember, SchemeParamsHistory
from app.workflow.models import ProcessSpec
from tests.conftest import Browser
from tests.e2e.test_loan_flow_http import _open_task, _submit


def count(model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def can_login(app, username, password):
    c = app.test_client()
    Browser._fresh_g()
    html = c.get("/login").data
    token = Browser._token(html)
    Browser._fresh_g()
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return r.status_code == 302


ADMIN_GETS = ["/admin/", "/admin/orgs/new", "/admin/sectors/", "/admin/schemes", "/admin/rates",
              "/admin/processes", "/admin/calendar/"]


@pytest.mark.parametrize("who", ["officer", "firm", "finoffice"])
def test_only_admin_organisations_reach_admin_pages(world, login, who):
    w = world()
    other = login(w.user(who))
    urls = ADMIN_GETS + [f"/admin/orgs/{w.bank.id}", f"/admin/schemes/{w.scheme.id}",
                         f"/admin/users/{w.u['firm'].id}/password", f"/admin/sectors/{w.sector.id}"]
    for url in urls:
        assert other.get(url).status_code == 403, url
    before = count(ProcessSpec)
    assert other.post("/admin/processes/deploy").status_code == 403
    assert other.post(f"/admin/orgs/{w.firm.id}/blacklist", data={"reason": "x"}).status_code == 403
    assert other.post(f"/admin/users/{w.u['admin'].id}/active", data={"active": "0"}).status_code == 403
    assert other.post(f"/admin/schemes/{w.scheme.id}/params",
                      data={"params": w.scheme.params_json, "note": "x"}).status_code == 403
    db.session.expire_all()
    assert not firm_hits(db.session.get(Organisation, w.firm.id), today())
    assert db.session.get(User, w.u["admin"].id).active
    assert count(ProcessSpec) == before
    admin = login(w.user("admin"))
    for url in urls:
        assert admin.get(url).status_code == 200, url
    page = admin.get("/admin/").data.decode()
    for url in ADMIN_GETS[1:]:
        assert f'href="{url}"' in page, url
    for url in urls:      # the English interface renders too
        assert admin.get(url + "?lang=en").status_code == 200, url


def test_department_with_sectors_and_its_users(app, world, login):
    w = world()
    admin = login(w.user("admin"))
    code = f"DEPT-NEW-{w.tag}"
    # invalid: nothing stored, the typed values kept, the error next to the field
    r = admin.post("/admin/orgs/new", data={"kind": "department", "name": "", "code": code})
    assert r.status_code == 400 and "请填写名称" in r.data.decode() and code in r.data.decode()
    r = admin.post("/admin/orgs/new", data={"kind": "department", "name": "重名代码", "code": w.bank.code})
    assert r.status_code == 400 and "该代码已被其他机构使用" in r.data.decode()
    r = admin.post("/admin/orgs/new", data={"kind": "enterprise", "name": "某公司", "code": "NOT-A-USCC"})
    assert r.status_code == 400
    assert count(Organisation, Organisation.code == code) == 0

    r = admin.post("/admin/orgs/new", data={"kind": "department", "name": f"区科技局{w.tag}", "name_en": "Sci",
                                            "code": code, "sector_ids": [str(w.sector2.id)]})
    assert r.status_code == 302
    dept = db.session.scalar(select(Organisation).where(Organisation.code == code))
    assert dept.kind == "department" and db.session.get(Sector, w.sector2.id).department_id == dept.id
    assert db.session.get(Sector, w.sector.id).department_id == w.dept.id

    # edit: takes over the first sector too, then gives the second back to nobody
    r = admin.post(f"/admin/orgs/{dept.id}", data={"kind": "department", "name": f"区科技局{w.tag}",
                                                   "code": code, "sector_ids": [str(w.sector.id)]})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sector, w.sector.id).department_id == dept.id
    assert db.session.get(Sector, w.sector2.id).department_id is None
    # a bank with users cannot become something else
    r = admin.post(f"/admin/orgs/{w.bank.id}", data={"kind": "guarantee", "name": w.bank.name, "code": w.bank.code})
    assert r.status_code == 400 and "不能更改机构类型" in r.data.decode()
    assert db.session.get(Organisation, w.bank.id).kind == "bank"

    # users
    uname = f"kj_{w.tag.lower()}"
    base = {"username": uname, "display_name": "科技局审核员", "email": f"{uname}@example.gov.cn",
            "is_supervisor": "y"}
    r = admin.post(f"/admin/orgs/{dept.id}/users", data={**base, "password": "short"})
    assert r.status_code == 400 and "密码至少 8 位" in r.data.decode() and uname in r.data.decode()
    r = admin.post(f"/admin/orgs/{dept.id}/users", data={**base, "email": "not-an-email", "password": "long-enough-1"})
    assert r.status_code == 400 and "电子邮箱格式不正确" in r.data.decode()
    r = admin.post(f"/admin/orgs/{dept.id}/users", data={**base, "username": w.u["officer"].username,
                                                         "password": "long-enough-1"})
    assert r.status_code == 400 and "用户名已被使用" in r.data.decode(), r.data.decode()
    assert count(User, User.username == uname) == 0
    r = admin.post(f"/admin/orgs/{dept.id}/users", data={**base, "password": "long-enough-1"})
    assert r.status_code == 302
    user = db.session.scalar(select(User).where(User.username == uname))
    assert user.organisation_id == dept.id and user.is_supervisor and user.email == f"{uname}@example.gov.cn"
    assert can_login(app, uname, "long-enough-1")

    # deactivate / reactivate / reset password
    assert admin.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert not can_login(app, uname, "long-enough-1")
    assert admin.post(f"/admin/users/{user.id}/active", data={"active": "1"}).status_code == 302
    assert can_login(app, uname, "long-enough-1")
    r = admin.post(f"/admin/users/{user.id}/password", data={"password": "new-pass-456", "confirm": "other-pass-456"})
    assert r.status_code == 400 and "两次输入的密码不一致" in r.data.decode()
    assert can_login(app, uname, "long-enough-1")
    r = admin.post(f"/admin/users/{user.id}/password", data={"password": "new-pass-456", "confirm": "new-pass-456"})
    assert r.status_code == 302
    assert can_login(app, uname, "new-pass-456") and not can_login(app, uname, "long-enough-1")
    assert [e.action for e in timeline("user", user.id)] == ["created", "deactivated", "reactivated", "password_reset"]


def test_deactivation_ends_an_open_session(world, login):
    w = world()
    officer = login(w.user("officer"))
    assert officer.get("/tasks/").status_code == 200
    admin = login(w.user("admin"))
    assert admin.post(f"/admin/users/{w.u['officer'].id}/active", data={"active": "0"}).status_code == 302
    r = officer.get("/tasks/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert admin.post(f"/admin/users/{w.u['officer'].id}/active", data={"active": "1"}).status_code == 302
    assert officer.get("/tasks/").status_code == 200


def test_admin_cannot_deactivate_themself(world, login):
    w = world()
    admin = login(w.user("admin"))
    r = admin.post(f"/admin/users/{w.u['admin'].id}/active", data={"active": "0"})
    assert r.status_code == 400 and "不能停用自己的账号" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(User, w.u["admin"].id).active
    assert admin.get("/admin/").status_code == 200


def test_sectors_are_data(world, login):
    w = world()
    admin = login(w.user("admin"))
    code = f"tour-{w.tag.lower()}"
    r = admin.post("/admin/sectors/", data={"code": code, "name": "", "department_id": str(w.dept.id)})
    assert r.status_code == 400 and "请填写行业名称" in r.data.decode()
    r = admin.post("/admin/sectors/", data={"code": w.sector.code, "name": "重复", "department_id": "0"})
    assert r.status_code == 400 and "行业代码已存在" in r.data.decode()
    r = admin.post("/admin/sectors/", data={"code": code, "name": "旅游", "department_id": str(w.bank.id)})
    assert r.status_code == 400   # a bank is not a department (not among the choices)
    assert count(Sector, Sector.code == code) == 0
    assert admin.post("/admin/sectors/", data={"code": code, "name": "旅游", "name_en": "Tourism",
                                               "department_id": str(w.dept.id)}).status_code == 302
    s = db.session.scalar(select(Sector).where(Sector.code == code))
    assert s.department_id == w.dept.id and s.name_en == "Tourism"
    assert admin.post(f"/admin/sectors/{s.id}", data={"code": code, "name": "文化旅游",
                                                      "department_id": str(w.dept2.id)}).status_code == 302
    db.session.expire_all()
    s = db.session.get(Sector, s.id)
    assert s.name == "文化旅游" and s.department_id == w.dept2.id


def test_blacklist_is_audited_and_blocks_the_loan(world, login):
    w = world("qianjiang_2018")
    firm, a = _submit(w, login)
    dept = login(w.user("dept"))
    t = _open_task(w.dept.id, "department_review", a.id)
    assert dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "符合条件",
                                             "bank_id": str(w.bank.id)}).status_code == 302

    admin = login(w.user("admin"))
    r = admin.post(f"/admin/orgs/{w.firm.id}/blacklist", data={"reason": "  ", "action": "add"})
    assert r.status_code == 400 and "请填写原因" in r.data.decode()
    r = admin.post(f"/admin/orgs/{w.bank.id}/blacklist", data={"reason": "x", "action": "add"})
    assert r.status_code == 400 and "只有企业可以列入黑名单" in r.data.decode()
    db.session.expire_all()
    assert not firm_hits(db.session.get(Organisation, w.bank.id), today())
    assert not firm_hits(db.session.get(Organisation, w.firm.id), today())
    r = admin.post(f"/admin/orgs/{w.firm.id}/blacklist", data={"reason": "恶意逃废银行债务", "action": "add"})
    assert r.status_code == 302
    db.session.expire_all()
    firm_org = db.session.get(Organisation, w.firm.id)
    assert [e.reason for e in firm_hits(firm_org, today())] == ["恶意逃废银行债务"]   # an entry of app/credit
    ev = timeline("organisation", w.firm.id)[-1]
    assert ev.action == "blacklisted" and ev.opinion == "恶意逃废银行债务" and ev.actor_id == w.u["admin"].id
    assert "恶意逃废银行债务" in admin.get(f"/admin/orgs/{w.firm.id}").data.decode()

    # the loan gate refuses the blacklisted firm
    officer = login(w.user("officer"))
    t = _open_task(w.bank.id, "bank_due_diligence", a.id)
    assert officer.post(f"/tasks/{t.id}/claim").status_code == 302
    r = officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "调查属实", "contract_no": f"HT-{w.tag}", "amount": "1000000.00",
        "annual_rate": "5.00", "term_months": "12", "disbursed_on": "2026-11-20", "product": "standard"})
    assert r.status_code == 400 and "黑名单" in r.data.decode(), r.data.decode()
    assert count(Loan, Loan.application_id == a.id) == 0

    r = admin.post(f"/admin/orgs/{w.firm.id}/blacklist", data={"reason": "债务已清偿，经联席会议同意移出",
                                                              "action": "remove"})
    assert r.status_code == 302
    db.session.expire_all()
    assert not firm_hits(db.session.get(Organisation, w.firm.id), today())
    assert [e.action for e in timeline("organisation", w.firm.id)][-2:] == ["blacklisted", "unblacklisted"]


def test_scheme_from_preset_members_and_params_history(world, login):
    w = world()
    admin = login(w.user("admin"))
    code = f"yc-{w.tag.lower()}"
    r = admin.post("/admin/schemes", data={"preset": "no_such", "code": code})
    assert r.status_code == 400
    r = admin.post("/admin/schemes", data={"preset": "yongchuan_2023", "code": w.scheme.code})
    assert r.status_code == 400 and "政策代码已存在" in r.data.decode()
    assert count(Scheme, Scheme.code == code) == 0
    r = admin.post("/admin/schemes", data={"preset": "yongchuan_2023", "code": code, "name": f"永川测试{w.tag}"})
    assert r.status_code == 302
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == code))
    assert scheme.name == f"永川测试{w.tag}" and scheme.params_version == 1 and scheme.params.fund_size == Decimal("65000000.00")
    assert count(SchemeParamsHistory, SchemeParamsHistory.scheme_id == scheme.id) == 1

    # members: the organisation's kind must be the role
    r = admin.post(f"/admin/schemes/{scheme.id}/members", data={"role": "bank", "organisation_id": str(w.dept.id)})
    assert r.status_code == 400 and "不能担任该角色" in r.data.decode()
    assert count(SchemeMember, SchemeMember.scheme_id == scheme.id) == 0
    for role, org in [("bank", w.bank), ("finance_bureau", w.units["finance"]),
                      ("financial_office", w.units["finoffice"])]:
        assert admin.post(f"/admin/schemes/{scheme.id}/members",
                          data={"role": role, "organisation_id": str(org.id)}).status_code == 302
    r = admin.post(f"/admin/schemes/{scheme.id}/members", data={"role": "bank", "organisation_id": str(w.bank.id)})
    assert r.status_code == 400 and "已是本政策" in r.data.decode()
    db.session.expire_all()
    scheme = db.session.get(Scheme, scheme.id)
    assert {(m.role, m.organisation_id) for m in scheme.members} == {
        ("bank", w.bank.id), ("finance_bureau", w.units["finance"].id), ("financial_office", w.units["finoffice"].id)}
    bank_member = scheme.member(w.bank.id, "bank")
    assert admin.post(f"/admin/schemes/{scheme.id}/members/{bank_member.id}/delete").status_code == 302
    # another scheme's member through this scheme's URL: 404
    other = w.scheme.members[0]
    assert admin.post(f"/admin/schemes/{scheme.id}/members/{other.id}/delete").status_code == 404
    assert count(SchemeMember, SchemeMember.scheme_id == scheme.id) == 2

    # parameters: a bad value is refused naming the key; nothing stored
    params = scheme.params.model_dump(mode="json")
    bad = dict(params, products=[dict(params["products"][0], fund_share="1.5")] + params["products"][1:])
    r = admin.post(f"/admin/schemes/{scheme.id}/params",
                   data={"params": json.dumps(bad, ensure_ascii=False), "note": "调整", "version": "1"})
    page = r.data.decode()
    assert r.status_code == 400 and "products[0].fund_share" in page and "0 到 1" in page and "1.5" in page
    r = admin.post(f"/admin/schemes/{scheme.id}/params",
                   data={"params": json.dumps(dict(params, rounding="ceiling")), "note": "调整", "version": "1"})
    assert r.status_code == 400 and "rounding" in r.data.decode()
    r = admin.post(f"/admin/schemes/{scheme.id}/params", data={"params": "{not json", "note": "x", "version": "1"})
    assert r.status_code == 400 and "JSON 格式错误" in r.data.decode()
    r = admin.post(f"/admin/schemes/{scheme.id}/params",
                   data={"params": json.dumps(dict(params, cap_per_loan="500000.00")), "note": "", "version": "1"})
    assert r.status_code == 400 and "请说明修改原因" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(Scheme, scheme.id).params_version == 1
    assert count(SchemeParamsHistory, SchemeParamsHistory.scheme_id == scheme.id) == 1

    good = dict(params, cap_per_loan="500000.00",
                products=[dict(params["products"][0], fund_share="0.55")] + params["products"][1:])
    r = admin.post(f"/admin/schemes/{scheme.id}/params",
                   data={"params": json.dumps(good, ensure_ascii=False), "note": "财政局确认信用贷比例", "version": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    scheme = db.session.get(Scheme, scheme.id)
    assert scheme.params_version == 2 and scheme.params.products[0].fund_share == Decimal("0.55")
    h = db.session.scalar(select(SchemeParamsHistory).where(SchemeParamsHistory.scheme_id == scheme.id,
                                                            SchemeParamsHistory.version == 2))
    assert h.changed_by_id == w.u["admin"].id and h.note == "财政局确认信用贷比例" and h.changed_at is not None
    page = admin.get(f"/admin/schemes/{scheme.id}").data.decode()
    history = page[page.index('id="history-v2"'):page.index('id="history-v1"')]
    assert "products[0].fund_share" in history and "cap_per_loan" in history and "0.55" in history
    assert "fund_size" not in history and w.user("admin").display_name in history
    # an editor opened at version 1 cannot overwrite version 2
    r = admin.post(f"/admin/schemes/{scheme.id}/params",
                   data={"params": json.dumps(dict(params, cap_per_bank="1.00")), "note": "旧页面", "version": "1"})
    assert r.status_code == 400 and "已被他人修改" in r.data.decode()
    assert db.session.get(Scheme, scheme.id).params_version == 2


def test_loans_keep_the_params_version_they_were_approved_under(world, login):
    w = world("qianjiang_2018")
    firm, a = _submit(w, login)
    t = _open_task(w.dept.id, "department_review", a.id)
    assert login(w.user("dept")).post(f"/tasks/{t.id}", data={
        "decision": "recommend", "opinion": "符合条件", "bank_id": str(w.bank.id)}).status_code == 302
    t = _open_task(w.bank.id, "bank_due_diligence", a.id)
    officer = login(w.user("officer"))
    assert officer.post(f"/tasks/{t.id}/claim").status_code == 302
    r = officer.post(f"/tasks/{t.id}", data={
        "decision": "approve", "joint_guarantee": "y", "opinion": "调查属实", "contract_no": f"HT-{w.tag}", "amount": "1000000.00",
        "annual_rate": "5.00", "term_months": "12", "disbursed_on": "2026-11-20", "product": "standard"})
    assert r.status_code == 302, r.data.decode()[:2000]
    loan = db.session.scalar(select(Loan).where(Loan.application_id == a.id))
    assert loan.policy_version == 1

    admin = login(w.user("admin"))
    params = w.scheme.params.model_dump(mode="json")
    r = admin.post(f"/admin/schemes/{w.scheme.id}/params", data={
        "params": json.dumps(dict(params, max_loan_amount="3000000.00"), ensure_ascii=False),
        "note": "单笔上限调整为300万元", "version": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Scheme, w.scheme.id).params_version == 2
    assert db.session.get(Loan, loan.id).policy_version == 1
    # the parameters the loan was approved under are still there: the baseline kept at the first edit
    v1 = db.session.scalar(select(SchemeParamsHistory).where(SchemeParamsHistory.scheme_id == w.scheme.id,
                                                             SchemeParamsHistory.version == 1))
    assert json.loads(v1.params_json)["max_loan_amount"] == "5000000.00"


def test_reference_rates_are_added_never_edited(world, login):
    w = world()
    admin = login(w.user("admin"))
    eff = date(2031, 1, 20 + int(w.tag, 16) % 8)     # a date no other test uses (rates are global)
    base = {"kind": "lpr", "effective_from": eff.isoformat(), "min_months": "0", "max_months": "60"}
    n = count(ReferenceRate)
    r = admin.post("/admin/rates", data={**base, "rate": "3.12345"})
    assert r.status_code == 400 and "四位小数" in r.data.decode() and "3.12345" in r.data.decode()
    r = admin.post("/admin/rates", data={**base, "rate": "abc"})
    assert r.status_code == 400
    r = admin.post("/admin/rates", data={**base, "max_months": "0", "rate": "3.0000"})
    assert r.status_code == 400
    r = admin.post("/admin/rates", data={**base, "kind": "shibor", "rate": "3.0000"})
    assert r.status_code == 400
    assert count(ReferenceRate) == n
    try:
        r = admin.post("/admin/rates", data={**base, "rate": "2.9500", "source": "公告"})
        assert r.status_code == 302
        row = db.session.scalar(select(ReferenceRate).where(ReferenceRate.effective_from == eff))
        assert row.rate == Decimal("2.9500") and row.max_months == 60
        r = admin.post("/admin/rates", data={**base, "rate": "2.9000"})
        assert r.status_code == 400 and "不能修改" in r.data.decode()
        db.session.expire_all()
        assert db.session.get(ReferenceRate, row.id).rate == Decimal("2.9500")
        page = admin.get("/admin/rates").data.decode()
        # shown in effective-date order within each kind
        assert page.index("2025-05-20") < page.index(eff.isoformat())
        assert page.index("2019-08-20") < page.index("2025-05-20")
    finally:
        from sqlalchemy import delete
        db.session.rollback()
        db.session.execute(delete(ReferenceRate).where(ReferenceRate.effective_from == eff))
        db.session.commit()


def test_process_versions_and_deploying_twice_makes_no_new_version(world, login):
    w = world()
    admin = login(w.user("admin"))
    before = count(ProcessSpec)
    for _ in range(2):
        r = admin.post("/admin/processes/deploy")
        assert r.status_code == 302
        assert count(ProcessSpec) == before
    page = admin.get("/admin/processes", follow_redirects=True).data.decode()
    spec = db.session.scalar(select(ProcessSpec).where(ProcessSpec.process_id == "loan_application")
                             .order_by(ProcessSpec.version.desc()))
    assert f'id="spec-loan_application-v{spec.version}"' in page and spec.content_hash[:12] in page
    ev = db.session.scalar(select(TimelineEvent).where(TimelineEvent.subject_type == "process_specs")
                           .order_by(TimelineEvent.id.desc()))
    assert ev.actor_id == w.u["admin"].id and ev.details_dict["new"] == []
    # an instance started shows in the counts of its version
    row = page[page.index(f'id="spec-loan_application-v{spec.version}"'):]
    opened_before = int(row.split('class="open">')[1].split("<")[0])
    _submit(w, login)
    page = admin.get("/admin/processes").data.decode()
    row = page[page.index(f'id="spec-loan_application-v{spec.version}"'):]
    assert int(row.split('class="open">')[1].split("<")[0]) == opened_before + 1


def test_a_new_scheme_gets_its_presets_chain_as_bindings_and_shows_each_values_citation(world, login):
    """Issue 11: one place says which diagrams a preset runs (its `processes`), and a new scheme gets them as
    bindings with history; one place holds the citations (the preset's map), shown on the scheme's page."""
    from app.policies import bindings
    w = world()
    admin = login(w.user("admin"))
    code = f"QJ-{w.tag}"
    r = admin.post("/admin/schemes", data={"preset": "qianjiang_2018", "code": code})
    assert r.status_code == 302
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == code))
    shown = {b.kind.code: (b.process_id, b.inherited) for b in bindings.bindings_of(scheme)}
    assert shown["loan_application"] == ("loan_application_qianjiang", False)
    assert shown["compensation"] == ("compensation_qianjiang", False)
    assert shown["rectification"][1] is True                       # not named: the deployment-wide default
    assert {h.kind for h in bindings.history(scheme)} == {"loan_application", "compensation"}
    page = admin.get(f"/admin/schemes/{scheme.id}").data.decode()
    assert "正文 (五)1 区财政出资 2000 万元 (line 91)" in page       # fund_size's citation from the map
    assert "已不同于模板" not in page
    raw = json.loads(scheme.params_json)
    raw["fund_size"] = "30000000.00"
    raw["_sources"] = {"fund_size": "区政府常务会议纪要（测试录入）"}
    assert admin.post(f"/admin/schemes/{scheme.id}/params", data={
        "params": json.dumps(raw, ensure_ascii=False), "note": "增资", "version": "1"}).status_code == 302
    page = admin.get(f"/admin/schemes/{scheme.id}").data.decode()
    row = page[page.index("<code>fund_size</code>"):][:300]
    assert "区政府常务会议纪要（测试录入）" in row and "已不同于模板" in row
