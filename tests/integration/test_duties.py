"""Monthly filing and quarterly credit-data duties: periods, deadlines, exactly once, the task pages."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.core.db import db
from app.core.timeutil import SHANGHAI, local
from app.loanbook import operations as book_ops
from app.duties import operations as ops
from app.duties.models import Duty
from app.loans.models import Loan
from app.notifications.models import Notification
from app.jobs.runner import run_now
from app.workflow.models import HumanTask


def at(y, m, d, h=9):
    return datetime(y, m, d, h, 0, tzinfo=SHANGHAI)


def test_monthly_period_counts_chinese_working_days(world):
    # 2026-05-01..05 is the Labour Day holiday; 05-09 (Saturday) is an adjusted working day
    qianjiang = world("qianjiang_2018").scheme
    p = ops.monthly_period(date(2026, 5, 6), qianjiang)
    assert p.code == "2026-04" and p.opens == date(2026, 5, 6)
    assert local(p.stats_due_at).date() == date(2026, 5, 6)      # the 5th is a holiday: next working day
    assert local(p.due_at).date() == date(2026, 5, 6)            # the earlier of both deadlines
    assert ops.monthly_period(date(2026, 5, 4), qianjiang) is None   # before the first working day of May
    p = ops.monthly_period(date(2026, 6, 1), qianjiang)
    assert p.code == "2026-05" and local(p.due_at).date() == date(2026, 6, 5)
    # 5 working days from 05-06 (Saturday 05-09 is worked): 06, 07, 08, 09, 11; a scheme that owes no statistics has only that
    jiangjin = world("jiangjin_2020").scheme
    p = ops.monthly_period(date(2026, 5, 6), jiangjin)
    assert p.stats_due_at is None and local(p.due_at).date() == date(2026, 5, 11)
    # the deadline is the scheme's parameter, not code
    jiangjin.set_params(jiangjin.params.model_copy(update={"filing_working_days": 3}))
    assert local(ops.monthly_period(date(2026, 5, 6), jiangjin).due_at).date() == date(2026, 5, 8)
    db.session.rollback()
    q = ops.quarterly_period(date(2026, 4, 1))
    assert q.code == "2026Q1" and local(q.due_at).date() == date(2026, 4, 8)   # 清明 04-04..06 off
    assert ops.quarterly_period(date(2026, 1, 1)) is None        # New Year's Day is off


def _duties(kind, period, org_ids):
    return list(db.session.scalars(select(Duty).where(Duty.kind == kind, Duty.period == period,
                                                      Duty.org_id.in_(org_ids))))


def test_monthly_filing_created_once_per_bank_and_period(world):
    w = world()
    run_now("monthly_filing", date(2026, 3, 2))
    run_now("monthly_filing", date(2026, 3, 2))
    run_now("monthly_filing", date(2026, 3, 20))          # a later run in the same month: same period
    rows = [d for d in _duties("monthly_filing", "2026-02", [w.bank.id, w.bank2.id]) if d.scheme_id == w.scheme.id]
    assert sorted(d.org_id for d in rows) == sorted([w.bank.id, w.bank2.id])
    for d in rows:
        tasks = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == d.instance_id)))
        assert len(tasks) == 1 and tasks[0].org_id == d.org_id and tasks[0].form_key == "monthly_filing"
        assert tasks[0].due_at == d.due_at and local(d.due_at).date() == date(2026, 3, 5)
    n = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == w.u["officer"].id, Notification.kind == "duty"))
    assert n == 1


def test_quarterly_collection_for_each_data_source(world):
    w = world()
    sources = [Organisation(kind="data_source", name=f"{n}{w.tag}", code=f"ds-{c}-{w.tag}")
               for n, c in (("税务", "tax"), ("供电", "power"))]
    db.session.add_all(sources)
    db.session.commit()
    ids = [s.id for s in sources]
    run_now("credit_data", date(2025, 10, 9))
    run_now("credit_data", date(2025, 10, 20))
    rows = _duties("credit_data", "2025Q3", ids)
    assert sorted(d.org_id for d in rows) == sorted(ids)
    assert all(local(d.due_at).date() == date(2025, 10, 14) for d in rows)   # opens 10-09; 10-11 (Sat) is a working day


def _make_loan(w, disbursed_on, amount, eligible=True):
    n = db.session.scalar(select(func.count(Loan.id))) + 1
    loan = Loan(no=f"L{w.tag}{n:05d}", scheme_id=w.scheme.id, bank_id=w.bank.id, enterprise_id=w.firm.id,
                contract_no=f"C{n}", product="p", amount=Decimal(amount), annual_rate=Decimal("4.35"),
                term_months=12, disbursed_on=disbursed_on, outstanding_principal=Decimal(amount),
                status="active", eligible=eligible)
    db.session.add(loan)
    db.session.flush()
    return loan


def test_filing_task_page_lists_last_month_loans_and_records_statistics(world, login):
    w = world()
    inside = _make_loan(w, date(2026, 1, 15), "300000.00")
    _make_loan(w, date(2026, 2, 2), "500000.00")           # next month: not listed
    db.session.commit()
    run_now("monthly_filing", date(2026, 2, 2))
    duty = db.session.scalar(select(Duty).where(Duty.kind == "monthly_filing", Duty.period == "2026-01",
                                                Duty.org_id == w.bank.id, Duty.scheme_id == w.scheme.id))
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == duty.instance_id))
    bank = login(w.user("officer"))
    page = bank.get(f"/tasks/{ht.id}")
    assert page.status_code == 200
    html = page.data.decode()
    assert inside.no in html and "L" + w.tag not in html.replace(inside.no, "")
    # another bank cannot see it
    assert login(w.user("other_bank")).get(f"/tasks/{ht.id}").status_code == 404
    # invalid: not confirmed, negative count -> 400, nothing stored, typed values kept
    r = bank.post(f"/tasks/{ht.id}", data={"firm_count": "-1", "loan_count": "1", "total_amount": "300000.00"})
    assert r.status_code == 400 and "请确认贷款清单" in r.data.decode()
    assert db.session.get(Duty, duty.id).status == "open"
    # the month's loan book must list the loan first
    r = bank.post(f"/tasks/{ht.id}", data={"confirmed": "y", "firm_count": "1", "loan_count": "1",
                                          "total_amount": "300000.00", "note": "无异常"})
    assert r.status_code == 400 and "月度贷款台账尚缺 1 笔" in r.data.decode()
    assert db.session.get(Duty, duty.id).status == "open"
    book_ops.report(w.bank, "2026-01", [book_ops.RowInput(inside.no, "300000.00", "0", "normal", "performing")],
                    source="form", replace=False)
    db.session.commit()
    r = bank.post(f"/tasks/{ht.id}", data={"confirmed": "y", "firm_count": "1", "loan_count": "1",
                                          "total_amount": "300000.00", "note": "无异常"})
    assert r.status_code == 302
    db.session.expire_all()
    d = db.session.get(Duty, duty.id)
    assert d.status == "done" and d.result["loan_ids"] == [inside.id] and d.result["total_amount"] == "300000.00"
    assert d.late is True      # filed in 2026-11, long after the deadline
    assert db.session.get(HumanTask, ht.id).status == "completed"
    # the duty list shows it, found by its filters; a hostile filter value is named and not applied
    office = login(w.user("finoffice"))
    page = office.get("/duties/?kind=monthly_filing&period=2026-01&status=done").data.decode()
    assert f'id="duty-{duty.id}"' in page and "逾期报送" in page
    assert f'id="duty-{duty.id}"' not in office.get("/duties/?period=2026-01&status=open").data.decode()
    page = office.get("/duties/?period=2026-01%27--&kind=x").data.decode()
    assert 'id="filter-errors"' in page and "期间：格式应为" in page and "类型：不是可选的值" in page


def test_credit_data_upload_page(world, login):
    import io
    from app.accounts.operations import create_user
    from app.credit import sources as credit_sources
    from tests.conftest import PASSWORD, PDF
    w = world()
    src = Organisation(kind="data_source", name=f"社保{w.tag}", code=f"ds-soc-{w.tag}")
    db.session.add(src)
    db.session.flush()
    u = create_user(src, f"ds_{w.tag.lower()}", "社保报送员", PASSWORD)
    credit_sources.assign_unit(src, "social_insurance")
    db.session.commit()
    run_now("credit_data", date(2025, 7, 1))
    duty = db.session.scalar(select(Duty).where(Duty.org_id == src.id, Duty.period == "2025Q2"))
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == duty.instance_id))
    c = login(u)
    page = c.get(f"/tasks/{ht.id}").data.decode()
    assert 'id="credit-category"' in page and "/credit/sources/social_insurance/template.xlsx" in page
    r = c.post(f"/tasks/{ht.id}", data={"note": "x"}, content_type="multipart/form-data")
    assert r.status_code == 400 and db.session.get(Duty, duty.id).status == "open"
    r = c.post(f"/tasks/{ht.id}", data={"file": (io.BytesIO(PDF), "q2.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 400 and ".xlsx" in r.data.decode() and db.session.get(Duty, duty.id).status == "open"
    header = ",".join(c.header for c in credit_sources.CATEGORIES["social_insurance"].columns)
    body = f"{header}\n{w.firm.code},{w.firm.name},2025Q2,12,3600.50,\n".encode()
    r = c.post(f"/tasks/{ht.id}", data={"file": (io.BytesIO(body), "q2.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Duty, duty.id).result["record_count"] == 1


def test_unknown_calendar_year_fails_loudly(world):
    from app.core.workdays import UnknownCalendarYear
    with pytest.raises(UnknownCalendarYear):
        run_now("monthly_filing", date(2031, 3, 3))
    from app.jobs.models import JobRun
    run = db.session.scalar(select(JobRun).where(JobRun.job == "monthly_filing").order_by(JobRun.id.desc()))
    assert run.status == "failed" and "2031" in run.error


def test_cli_runs_a_job_for_a_given_date_and_catching_up_twice_is_harmless(world, app):
    w = world()
    src = Organisation(kind="data_source", name=f"水务{w.tag}", code=f"ds-water-{w.tag}")
    db.session.add(src)
    db.session.commit()
    runner = app.test_cli_runner()
    for _ in range(2):
        r = runner.invoke(args=["zx", "run-job", "credit_data", "--date", "2025-01-06"])
        assert r.exit_code == 0, r.output
        assert r.output.startswith("credit_data: created")
    db.session.expire_all()
    assert len(_duties("credit_data", "2024Q4", [src.id])) == 1
    r = runner.invoke(args=["zx", "run-job", "no_such_job"])
    assert r.exit_code != 0 and "unknown job" in r.output
    r = runner.invoke(args=["zx", "jobs"])
    assert "monthly_filing" in r.output and "timers" in r.output
