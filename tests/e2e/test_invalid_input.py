"""Bad input gets a clear error next to the field and stores nothing."""
import io
import os

import pytest
from sqlalchemy import func, select

from app.applications.models import Attachment, CreditConsent, LoanApplication
from app.core.db import db
from app.workflow.models import ProcessInstance
from tests.conftest import application_form


def _counts(w):
    return (db.session.scalar(select(func.count(LoanApplication.id)).where(LoanApplication.enterprise_id == w.firm.id)),
            db.session.scalar(select(func.count(CreditConsent.id)).where(CreditConsent.enterprise_id == w.firm.id)),
            db.session.scalar(select(func.count(Attachment.id))),
            db.session.scalar(select(func.count(ProcessInstance.id))))


@pytest.mark.parametrize("over, message", [
    ({"amount": "abc"}, "不是有效的小数"),
    ({"amount": "100.123"}, "金额最多保留两位小数"),
    ({"amount": "-5"}, "金额必须大于零"),
    ({"term_months": "0"}, "期限应在 1 到 360 个月之间"),
    ({"purpose": ""}, "请填写贷款用途"),
    ({"consent_agree": None}, "提交申请须同意授权银行查询信用信息"),
    ({"consent_valid_until": "2001-01-01"}, "授权有效期不能早于今天"),
    ({"business_licence": (io.BytesIO(b"MZ\x90\x00not a pdf at all"), "licence.pdf")}, "不是 PDF、JPEG 或 PNG"),
    ({"financial_statements": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)), "big.pdf")}, "超过大小上限"),
    ({"business_licence": None}, "请上传营业执照"),
    ({"consent_bank_id": "999999"}, "不是有效的选择"),
])
def test_invalid_application_refused_with_nothing_stored(world, login, app, over, message):
    w = world()
    firm = login(w.user("firm"))
    before = _counts(w)
    files_before = set(os.listdir(app.config["UPLOAD_DIR"])) if os.path.isdir(app.config["UPLOAD_DIR"]) else set()
    r = firm.post("/applications/new", data=application_form(w, **over), content_type="multipart/form-data")
    assert r.status_code == 400
    page = r.data.decode()
    assert message in page
    # what was typed is kept
    assert "采购原材料" in page or over.get("purpose") == ""
    assert _counts(w) == before
    files_after = set(os.listdir(app.config["UPLOAD_DIR"])) if os.path.isdir(app.config["UPLOAD_DIR"]) else set()
    assert files_after == files_before


def test_csrf_is_required(world, app):
    w = world()
    c = app.test_client()
    r = c.post("/login", data={"username": w.u["firm"].username, "password": "x"})
    assert r.status_code == 400


def test_department_opinion_required_and_bank_required_to_recommend(world, login):
    w = world()
    firm = login(w.user("firm"))
    firm.post("/applications/new", data=application_form(w), content_type="multipart/form-data")
    from app.workflow.models import HumanTask
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                  HumanTask.subject_type == "loan_application"))
    dept = login(w.user("dept"))
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "", "bank_id": str(w.bank.id)})
    assert r.status_code == 400 and "请填写审核意见" in r.data.decode()
    r = dept.post(f"/tasks/{t.id}", data={"decision": "recommend", "opinion": "好", "bank_id": "0"})
    assert r.status_code == 400 and "请选择推荐的合作银行" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LoanApplication, a.id).status == "submitted"
    assert db.session.get(HumanTask, t.id).status == "open"
