"""Each of these was a 500; now a message next to the field (or a 400/404 page), with nothing stored."""
from __future__ import annotations

import io
import pkgutil
import inspect

import pytest
from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.applications.models import Attachment, LoanApplication
from app.core.db import db
from app.core.validation import json_depth, only_invisible
from app.policies.models import Scheme
from app.workflow.models import HumanTask
from tests.conftest import PDF, application_form
from tests.e2e.test_access import _flow_to_bank

pytestmark = pytest.mark.usefixtures("retire_new_schemes")



def _apps(w):
    return db.session.scalar(select(func.count(LoanApplication.id)).where(LoanApplication.enterprise_id == w.firm.id))


@pytest.mark.parametrize("field, value, message", [
    ("purpose", "采购\x00原材料", "不能包含控制字符"),
    ("repayment_source", "\u200b\u200c\u200d", "不能只包含空白或不可见字符"),
    ("amount", "Infinity", "请输入有效的数字"),
    ("amount", "NaN", "请输入有效的数字"),
    ("amount", "sNaN", "请输入有效的数字"),
    ("amount", "1e30", "金额超出允许范围"),
    ("amount", "-1e30", "金额超出允许范围"),
    ("term_months", "18446744073709551616", "数值超出允许范围"),
    ("scheme_id", "18446744073709551616", "数值超出允许范围"),
    ("consent_valid_until", "9999-12-31", "日期应在 2000-01-01 到"),
])
def test_application_form_hostile_values(world, login, field, value, message):
    w = world()
    firm = login(w.user("firm"))
    r = firm.post("/applications/new", data=application_form(w, **{field: value}), content_type="multipart/form-data")
    assert r.status_code == 400 and message in r.data.decode()
    assert _apps(w) == 0


def test_english_messages(world, login):
    w = world()
    firm = login(w.user("firm"))
    firm.get("/lang/en")
    r = firm.post("/applications/new", data=application_form(w, purpose="a\x00b"), content_type="multipart/form-data")
    assert r.status_code == 400 and "control characters" in r.data.decode()


def test_hundreds_of_files_in_one_field(world, login):
    w = world()
    firm = login(w.user("firm"))
    files = [(io.BytesIO(PDF), f"p{i}.pdf") for i in range(300)]
    before = db.session.scalar(select(func.count(Attachment.id)))
    r = firm.post("/applications/new", data=application_form(w, business_licence=files),
                  content_type="multipart/form-data")
    assert r.status_code == 400 and "一次最多上传 10 个文件" in r.data.decode()
    assert db.session.scalar(select(func.count(Attachment.id))) == before and _apps(w) == 0


@pytest.mark.parametrize("rate", ["37", "-1", "0", "Infinity", "1e30"])
def test_annual_rate_outside_0_36_is_a_message(world, login, rate):
    w = world()
    a, t = _flow_to_bank(w, login)
    officer = login(w.user("officer"))
    officer.post(f"/tasks/{t.id}/claim")
    r = officer.post(f"/tasks/{t.id}", data={"decision": "approve", "contract_no": "HT-1", "amount": "1000000.00",
                                             "annual_rate": rate, "term_months": "12",
                                             "disbursed_on": "2026-11-20", "product": "standard"})
    assert r.status_code == 400
    page = r.data.decode()
    assert "年利率应在 0 到 36% 之间" in page or "请输入有效的数字" in page or "超出允许范围" in page
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).status == "open"


def test_disbursement_far_in_the_future_is_refused(world, login):
    w = world()
    a, t = _flow_to_bank(w, login)
    officer = login(w.user("officer"))
    officer.post(f"/tasks/{t.id}/claim")
    r = officer.post(f"/tasks/{t.id}", data={"decision": "approve", "contract_no": "HT-1", "amount": "1000000.00",
                                             "annual_rate": "5", "term_months": "12",
                                             "disbursed_on": "9999-12-31", "product": "standard"})
    assert r.status_code == 400 and "日期应在 2000-01-01 到" in r.data.decode()


@pytest.mark.parametrize("url", ["/applications/18446744073709551616", "/tasks/99999999999999999999999",
                                 "/compensation/18446744073709551616", "/loans/9223372036854775808",
                                 "/fund/18446744073709551616", "/admin/orgs/18446744073709551616",
                                 "/workflow/instances/18446744073709551616/progress.json"])
def test_ids_beyond_64_bits_in_urls_are_404(world, login, url):
    w = world()
    who = "admin" if url.startswith("/admin") else "finoffice"
    assert login(w.user(who)).get(url).status_code == 404


def test_ids_beyond_64_bits_in_query_and_forms(world, login):
    w = world()
    fo = login(w.user("finoffice"))
    assert fo.get("/compensation/?loan=18446744073709551616").status_code == 200
    dept = login(w.user("dept"))
    firm = login(w.user("firm"))
    firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                  HumanTask.subject_type == "loan_application"))
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "好",
                                          "bank_id": "18446744073709551616"})
    assert r.status_code == 400 and "数值超出允许范围" in r.data.decode()


def test_nul_in_the_query_string_is_a_400_page(world, login):
    w = world()
    r = login(w.user("firm")).get("/applications/?status=a%00b")
    assert r.status_code == 400 and 'id="input-refused"' in r.data.decode()


def test_login_name_over_80_characters(world, app):
    from tests.e2e.test_accounts import _csrf
    world()
    c = app.test_client()
    token = _csrf(c, "/login")
    r = c.post("/login", data={"username": "u" * 500, "password": "x", "csrf_token": token})
    assert r.status_code == 200 and "用户名最多 80 个字符" in r.data.decode()


def test_twenty_thousand_nested_brackets_in_scheme_parameters(world, login):
    w = world()
    admin = login(w.user("admin"))
    scheme = db.session.get(Scheme, w.scheme.id)
    version = scheme.params_version
    for text in ("[" * 20000 + "]" * 20000, '{"a": NaN}', '{"a": 1e400}', '{"name": "x\\u0000"}'):
        r = admin.post(f"/admin/schemes/{scheme.id}/params", data={"params": text, "note": "测试",
                                                                    "version": str(version)})
        assert r.status_code == 400, text[:20]
        page = r.data.decode()
        assert "嵌套过深" in page or "NaN" in page or "控制字符" in page, text[:20]
    db.session.expire_all()
    assert db.session.get(Scheme, w.scheme.id).params_version == version


def test_zero_width_organisation_name_refused(world, login):
    w = world()
    admin = login(w.user("admin"))
    before = db.session.scalar(select(func.count(Organisation.id)))
    r = admin.post("/admin/orgs/new", data={"kind": "bank", "name": "\u200b\u200b\u2060", "code": "zw-bank"})
    assert r.status_code == 400 and "不能只包含空白或不可见字符" in r.data.decode()
    assert db.session.scalar(select(func.count(Organisation.id))) == before


def test_nul_that_slips_past_the_forms_stops_before_the_database(world, login):
    """Defence in depth: a NUL in a value no form field checks (here a raw request.form value) is a 400 page."""
    from app.core.input_guard import InputRefused
    from app.core.timeutil import now
    from app.core import audit
    w = world()
    with pytest.raises(InputRefused):
        audit.record("organisation", w.firm.id, "x\x00", None)
        db.session.flush()
    db.session.rollback()
    assert now()


def test_helpers():
    assert only_invisible("\u200b\u200d") and only_invisible("\u3164") and not only_invisible("  ")
    assert not only_invisible("公司\u200b")
    assert json_depth('{"a": "[[[[", "b": [[1]]}') == 3


def test_every_form_uses_the_base_form():
    import forms
    from app.accounts.views import LoginForm, RegisterForm
    from forms.fields import Form
    from flask_wtf import FlaskForm
    classes = [LoginForm, RegisterForm]
    for mod in pkgutil.iter_modules(forms.__path__):
        module = __import__(f"forms.{mod.name}", fromlist=["_"])
        classes += [c for _n, c in inspect.getmembers(module, inspect.isclass)
                    if issubclass(c, FlaskForm) and c.__module__ == module.__name__ and c is not Form]
    assert len(classes) > 20
    assert [c.__name__ for c in classes if not issubclass(c, Form)] == []
