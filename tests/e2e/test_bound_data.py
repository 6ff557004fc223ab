"""Data bound to its purpose: the borrower's view of its claim, litigation costs, exports, downloads, 403s."""
from __future__ import annotations

import pytest

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.applications.models import Attachment
from app.compensation.models import LitigationCost, Recovery
from app.core.db import db
from app.core.timeutil import today
from app.fund import operations as fund
from app.policies.models import Scheme
from tests.conftest import PDF, application_form
from tests.e2e.test_compensation_http import (claim_of, close_recovery, make_loan, ok, recover, report, review_all,
                                              submit_claim)

pytestmark = pytest.mark.usefixtures("retire_new_schemes")

D = Decimal


def _cost(bank, claim, amount, note="诉讼费", document=True, days_ago=30):
    data = {"incurred_on": (today() - timedelta(days=days_ago)).isoformat(), "amount": amount, "note": note}
    if document:
        data["document"] = (io.BytesIO(PDF), "court-fee.pdf")
    return bank.post(f"/compensation/{claim.id}/costs", data=data, content_type="multipart/form-data")


def _reviewed_claim(w, login, opinion="内部意见：该行贷后管理薄弱"):
    loan = make_loan(w, "1000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "800000.00"))
    claim = claim_of(loan)
    ok(recover(bank, claim, "100000.00"))
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "100000.00", "700000.00", classification="loss"))
    review_all(w, login, claim, opinion=opinion)
    return claim_of(loan)


def test_borrower_sees_status_and_outcome_not_opinions_or_bank_materials(world, login):
    w = world("qianjiang_2018")
    claim = _reviewed_claim(w, login)
    att = db.session.scalars(select(Attachment).where(Attachment.subject_type == "compensation_claim",
                                                      Attachment.subject_id == claim.id)).first()
    firm = login(w.user("firm"))
    page = firm.get(f"/compensation/{claim.id}").data.decode()
    assert claim.status_label in page and claim.no in page          # status and outcome
    assert "内部意见" not in page and 'id="opinions"' not in page     # members' opinions: not shown
    assert 'id="attachments"' not in page and att.original_name not in page
    assert 'data-action="review_approve"' not in page
    r = firm.get(f"/compensation/attachments/{att.id}")
    assert r.status_code == 403
    # members and the bank still see everything
    for key in ("finoffice", "officer"):
        page = login(w.user(key)).get(f"/compensation/{claim.id}").data.decode()
        assert "内部意见" in page and 'id="attachments"' in page, key
    # the policy may say otherwise: a parameter (data), false by default
    scheme = db.session.get(Scheme, w.scheme.id)
    assert scheme.params.borrower_sees_claim_details is False
    scheme.set_params(scheme.params.model_copy(update={"borrower_sees_claim_details": True}))
    db.session.commit()
    page = login(w.user("firm")).get(f"/compensation/{claim.id}").data.decode()
    assert "内部意见" in page and 'id="attachments"' in page
    r = login(w.user("firm")).get(f"/compensation/attachments/{att.id}")
    assert r.status_code == 200
    r.close()


def test_litigation_costs_are_bounded_documented_and_shown_to_the_joint_meeting(world, login):
    w = world("qianjiang_2018")     # a joint meeting (凌源's claims go to a yearly batch instead)
    loan = make_loan(w, "2000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "50000.00"))
    claim = claim_of(loan)
    count = lambda: db.session.scalar(select(func.count(LitigationCost.id)).where(LitigationCost.claim_id == claim.id))  # noqa: E731
    # no document: refused next to the upload field
    r = _cost(bank, claim, "1000.00", document=False)
    assert r.status_code == 400 and "请上传费用凭证" in r.data.decode() and count() == 0
    # 10^20: refused (money limit); more than the principal at stake: refused
    r = _cost(bank, claim, "100000000000000000000")
    assert r.status_code == 400 and "金额超出允许范围" in r.data.decode() and count() == 0
    r = _cost(bank, claim, "50000.01")
    assert r.status_code == 400 and "诉讼等费用累计不能超过" in r.data.decode() and count() == 0
    ok(_cost(bank, claim, "30000.00"))
    r = _cost(bank, claim, "20000.01")                    # cumulative: 50,000.01 > 50,000
    assert r.status_code == 400 and "诉讼等费用累计不能超过" in r.data.decode() and count() == 1
    cost = db.session.scalar(select(LitigationCost).where(LitigationCost.claim_id == claim.id))
    doc = db.session.scalar(select(Attachment).where(Attachment.subject_type == "compensation_cost",
                                                     Attachment.subject_id == cost.id))
    assert doc is not None
    # the joint meeting sees each cost with its document on the claim page and on its review task
    close_recovery(w, bank, claim)
    ok(submit_claim(w, bank, claim, "0.00", "50000.00", classification="loss"))
    from tests.e2e.test_compensation_http import task
    t = task(w.units["finoffice"], "comp_joint_review", claim.id)
    fo = login(w.user("finoffice"))
    for url in (f"/compensation/{claim.id}", f"/tasks/{t.id}"):
        page = fo.get(url).data.decode()
        assert 'id="costs"' in page and f"/compensation/attachments/{doc.id}" in page, url
    r = fo.get(f"/compensation/attachments/{doc.id}")
    assert r.status_code == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
    r.close()


def test_absolute_cap_on_litigation_costs(world, login):
    from app.compensation.operations import LITIGATION_COSTS_CAP
    w = world("qianjiang_2018")
    loan = make_loan(w, "5000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "5000000.00"))
    claim = claim_of(loan)
    r = _cost(bank, claim, str(LITIGATION_COSTS_CAP + D("0.01")))
    assert r.status_code == 400 and "诉讼等费用累计不能超过" in r.data.decode()
    ok(_cost(bank, claim, str(LITIGATION_COSTS_CAP)))


def test_seeing_but_not_acting_is_403(world, login):
    w = world("qianjiang_2018")
    loan = make_loan(w, "1000000.00")
    bank = login(w.user("officer"))
    ok(report(w, bank, loan, "800000.00"))
    claim = claim_of(loan)
    data = {"kind": "court", "received_on": today().isoformat(), "amount": "1000.00", "note": "x"}
    for key in ("firm", "cbirc", "pboc", "finoffice"):
        c = login(w.user(key))
        assert c.get(f"/compensation/{claim.id}").status_code == 200, key        # may see
        assert c.post(f"/compensation/{claim.id}/recoveries", data=data).status_code == 403, key
        assert _cost(c, claim, "100.00").status_code == 403, key
    assert login(w.user("other_bank")).post(f"/compensation/{claim.id}/recoveries", data=data).status_code == 404
    assert db.session.scalar(select(func.count(Recovery.id)).where(Recovery.claim_id == claim.id)) == 0


def test_every_export_writes_formula_like_text_as_text(world, login):
    w = world("qianjiang_2018")
    s = w.scheme.id
    hostile = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "＝1+1"]
    for i, memo in enumerate(hostile):
        fund.post(s, "interest_credit", D("1.00"), key=f"x-{w.tag}-{i}", memo=memo)
    db.session.commit()
    r = login(w.user("finoffice")).get(f"/fund/{s}/ledger.xlsx")
    assert r.status_code == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet                     # no formula anywhere
    ws = load_workbook(io.BytesIO(r.data)).active
    memos = {c.value: c for row in ws.iter_rows(min_row=6) for c in row if c.column == 7 and c.value}
    for memo in hostile:
        assert memos[memo].data_type == "s", memo


def test_export_helper_is_the_only_way_to_write_rows():
    """Every module that builds a workbook appends through app.core.exports (no bare ws.append)."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    for path in list((root / "app").rglob("*.py")) + list((root / "forms").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        # a module that only reads workbooks (the blacklist import) builds none
        if "openpyxl" in text and "Workbook(" in text and path.name != "exports.py":
            assert "ws.append(" not in text and "append_row" in text, path


def test_download_names_are_sanitised_and_served_as_attachments(world, login):
    w = world("qianjiang_2018")
    firm = login(w.user("firm"))
    # a right-to-left override in a file name is refused next to the field ...
    r = firm.post("/applications/new", data=application_form(
        w, financial_statements=(io.BytesIO(PDF), "invoice\u202efdp.exe")), content_type="multipart/form-data")
    assert r.status_code == 400 and "不能包含控制字符或文字方向控制符" in r.data.decode()
    # ... a wrong extension is replaced by the one the content has
    r = firm.post("/applications/new", data=application_form(w, business_licence=(io.BytesIO(PDF), "evil.html")),
                  content_type="multipart/form-data")
    assert r.status_code == 302
    atts = db.session.scalars(select(Attachment).where(Attachment.uploaded_by_id == w.u["firm"].id)
                              .order_by(Attachment.id)).all()
    assert [a.original_name for a in atts] == ["evil_html.pdf", "statements.png"]
    # a name stored before this rule (bidi override, .html) is sanitised when served
    atts[1].original_name = "x\u202egnp.html"
    db.session.commit()
    for a in atts:
        r = firm.get(f"/applications/attachments/{a.id}")
        cd = r.headers["Content-Disposition"]
        assert cd.startswith("attachment") and ".html" not in cd and "\u202e" not in cd and "%E2%80%AE" not in cd, cd
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        r.close()


def test_formula_text_helper():
    from openpyxl import Workbook
    from app.core.exports import append_row
    wb = Workbook()
    ws = wb.active
    append_row(ws, ["\tTAB", "\rCR", "=1+1", "plain", 5, "-"])
    cells = ws[1]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n", "s"]
    assert cells[2].value == "=1+1" and cells[2].quotePrefix


def test_safe_download_name_allow_list():
    from app.core.uploads import safe_download_name
    assert safe_download_name("report.pdf", "application/pdf") == "report.pdf"
    assert safe_download_name("photo.JPEG", "image/jpeg") == "photo.jpg"
    assert safe_download_name("x.svg", "image/png") == "x_svg.png"
    assert safe_download_name("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert safe_download_name("\u200b\u202e", "application/pdf") == "file.pdf"
    assert safe_download_name("a\x00b\x07.pdf", "application/pdf") == "ab.pdf"
    assert safe_download_name("x.html", "text/html") == "x_html.bin"
