"""Credit data from its source units over HTTP (issue 13 item 3): the quarterly duty takes the unit's
template, refuses a file with bad rows listing every one and storing nothing, loads a clean one, and the
authorised bank -- only it -- sees the records; 凌源's gates read the loaded data, not the firm's form."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from app.accounts.models import Organisation
from app.accounts.operations import create_user
from app.applications.models import CreditAccessLog
from app.core.db import db
from app.core.uscc import make
from app.credit import sources as credit_sources
from app.credit.models import CreditDataUpload, CreditRecord
from app.duties.models import Duty
from app.jobs.runner import run_now
from app.workflow.models import HumanTask
from tests.conftest import PASSWORD
from tests.e2e.test_access import _flow_to_bank
from tests.e2e.test_credit_http import apply_and_recommend, approve

PERIOD = "2025Q3"


def source_unit(w, category):
    """A source unit reporting ``category``, its user, and its open duty for 2025Q3."""
    src = Organisation(kind="data_source", name=f"来源{category}{w.tag}", code=f"ds-{category}-{w.tag}")
    db.session.add(src)
    db.session.flush()
    user = create_user(src, f"ds{category[:4]}_{w.tag.lower()}", "报送员", PASSWORD)
    credit_sources.assign_unit(src, category)
    db.session.commit()
    run_now("credit_data", date(2025, 10, 9))
    duty = db.session.scalar(select(Duty).where(Duty.org_id == src.id, Duty.period == PERIOD))
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == duty.instance_id,
                                                     HumanTask.status == "open"))
    return src, user, duty, task


def xlsx(category, rows) -> bytes:
    wb = Workbook()
    wb.active.append([c.header for c in credit_sources.CATEGORIES[category].columns])
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, task, data, name="q3.xlsx"):
    return client.post(f"/tasks/{task.id}", data={"file": (io.BytesIO(data), name), "note": "季度报送"},
                       content_type="multipart/form-data")


def test_three_bad_rows_refused_with_three_messages_then_a_clean_file_loads_for_the_authorised_bank_only(world, login):
    w = world()
    a, _t = _flow_to_bank(w, login)                          # the firm authorised bank 1 with this application
    src, user, duty, task = source_unit(w, "tax")
    unit = login(user)
    template = unit.get("/credit/sources/tax/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    assert credit_sources.read_table("t.xlsx", template.data)[0][0] == "统一社会信用代码"
    other = make("91500114MA0000099")
    bad_check = other[:17] + ("0" if other[17] != "0" else "1")
    rows = [[w.firm.code, w.firm.name, PERIOD, "A", "12345.60", None],
            [bad_check, "错码企业", PERIOD, "B", "100.00", None],          # USCC check character
            [w.firm2.code, w.firm2.name, "2025Q2", "B", "100.00", None],  # another period
            [other, "某企业", PERIOD, "B", "12.345", None]]                # three decimals
    r = upload(unit, task, xlsx("tax", rows))
    page = r.data.decode()
    assert r.status_code == 400 and page.count('class="row-error"') == 3
    assert "文件有 3 处错误，未载入任何记录" in page
    assert "统一社会信用代码校验位不正确" in page and "期间应为本次采集的 2025Q3" in page and "两位小数" in page
    assert db.session.scalar(select(CreditDataUpload.id).where(CreditDataUpload.source_org_id == src.id)) is None
    assert db.session.scalar(select(CreditRecord.id).where(CreditRecord.source_org_id == src.id)) is None
    assert db.session.get(Duty, duty.id).status == "open"

    rows[1][0], rows[2][2], rows[3][4] = make("91500114MA0000088"), PERIOD, "12.34"
    assert upload(unit, task, xlsx("tax", rows)).status_code == 302
    db.session.expire_all()
    d = db.session.get(Duty, duty.id)
    assert d.status == "done" and d.result["record_count"] == 4
    up = db.session.get(CreditDataUpload, d.result["upload_id"])
    assert (up.source_org_id, up.category, up.period, up.row_count, up.duty_id) == (src.id, "tax", PERIOD, 4, duty.id)
    rec = db.session.scalar(select(CreditRecord).where(CreditRecord.upload_id == up.id,
                                                       CreditRecord.uscc == w.firm.code))
    assert rec.enterprise_id == w.firm.id and rec.values["tax_paid"] == "12345.60" and rec.row_no == 2

    # the authorised bank sees the loaded record (and the opening is logged); another bank gets 404
    page = login(w.user("officer")).post(f"/applications/{a.id}/credit").data.decode()
    assert f'id="credit-record-{rec.id}"' in page and "12345.60" in page
    assert w.firm2.name not in page                        # only the application's firm
    assert login(w.user("other_bank")).post(f"/applications/{a.id}/credit").status_code == 404
    assert login(w.user("firm")).post(f"/applications/{a.id}/credit").status_code == 403
    logs = db.session.scalars(select(CreditAccessLog).where(CreditAccessLog.enterprise_id == w.firm.id)).all()
    assert [lg.granted for lg in logs] == [True]


def test_a_clean_reload_of_the_same_period_replaces_the_earlier_one(world):
    w = world()
    src, user, _duty, _task = source_unit(w, "power")
    rows = [[w.firm.code, w.firm.name, PERIOD, "42000", "29400.00", ""]]
    first = credit_sources.load_file(user, src, PERIOD, "q3.xlsx", xlsx("power", rows))
    rows[0][4] = "30000.00"
    second = credit_sources.load_file(user, src, PERIOD, "q3-fixed.xlsx", xlsx("power", rows))
    again = credit_sources.load_file(user, src, PERIOD, "q3-fixed.xlsx", xlsx("power", rows))
    db.session.flush()
    recs = db.session.scalars(select(CreditRecord).where(CreditRecord.source_org_id == src.id)).all()
    assert [(r.upload_id, r.values["charged"]) for r in recs] == [(again.id, "30000.00")]
    assert first.replaced_by_id == second.id and second.replaced_by_id == again.id and again.replaced_at is None
    db.session.rollback()


def test_lingyuan_gate_reads_the_loaded_rating_not_the_declared_one(world, login):
    w = world("lingyuan_2020")          # the world loads a report rated A (2025-01-15) for the firm
    a, t = apply_and_recommend(w, login)                  # the firm declares A on its form
    src, user, _duty, task = source_unit(w, "credit_report")
    assert upload(login(user), task, xlsx("credit_report", [
        [w.firm.code, w.firm.name, PERIOD, "XY-2025-7", "BBB", "市信用服务中心", "2025-09-30"]])).status_code == 302
    r = approve(w, login, t, "xinyidai")
    page = r.data.decode()
    assert r.status_code == 400 and "企业信用等级 BBB未达到 A 级及以上" in page and "企业申报 A 级" in page
    # the bank's credit-data page shows the mismatch
    page = login(w.user("officer")).post(f"/applications/{a.id}/credit").data.decode()
    assert 'id="credit-mismatch"' in page and 'id="loaded-rating">BBB<' in page


def test_lingyuan_gate_refuses_a_firm_with_a_dishonesty_record(world, login):
    w = world("lingyuan_2020")
    _a, t = apply_and_recommend(w, login)
    src, user, _duty, task = source_unit(w, "judicial")
    assert upload(login(user), task, xlsx("judicial", [
        [w.firm.code, w.firm.name, PERIOD, "失信被执行人", "（2025）渝0114执1号", "区人民法院", None, "2025-08-01", None]])
    ).status_code == 302
    page = approve(w, login, t, "xinyidai").data.decode()
    assert "企业有失信记录：失信被执行人 （2025）渝0114执1号" in page


def test_administrator_sets_a_units_category_and_anyone_logged_in_gets_templates(world, login):
    w = world()
    src = Organisation(kind="data_source", name=f"供气{w.tag}", code=f"ds-gasx-{w.tag}")
    db.session.add(src)
    db.session.commit()
    admin = login(w.user("admin"))
    page = admin.get("/credit/sources").data.decode()
    assert f'id="unit-{src.id}"' in page and 'id="category-gas"' in page
    assert login(w.user("finoffice")).post(f"/credit/sources/units/{src.id}", data={"category": "gas"}).status_code == 403
    assert admin.post(f"/credit/sources/units/{w.bank.id}", data={"category": "gas"}).status_code == 404
    r = admin.post(f"/credit/sources/units/{src.id}", data={"category": "nonsense"})
    assert r.status_code == 400 and "alert-danger" in r.data.decode()
    assert credit_sources.unit_category(src.id) is None
    assert admin.post(f"/credit/sources/units/{src.id}", data={"category": "gas"}).status_code == 302
    assert credit_sources.unit_category(src.id).code == "gas"
    r = login(w.user("firm")).get("/credit/sources/gas/template.csv")
    assert r.status_code == 200 and r.data.startswith("\ufeff统一社会信用代码".encode())
    assert admin.get("/credit/sources/nope/template.csv").status_code == 404
    assert admin.get("/credit/sources/gas/template.pdf").status_code == 404
