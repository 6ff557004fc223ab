"""The site's frame over HTTP: ?lang on a fresh session, error pages in the user's language with the
navigation, the favicon, duties in the menu with the overdue count, the administrators' calendar
banner, the jobs page in words, raw keys shown as labels."""
from __future__ import annotations

from flask_babel import force_locale

from datetime import date, timedelta

from celery.schedules import crontab, schedule as every
from sqlalchemy import select

from app.core.db import db
from app.core.timeutil import now
from app.duties.models import Duty
from app.jobs.models import JobRun
from app.pages import views as pages
from tests.conftest import application_form


def test_lang_parameter_on_a_fresh_session_switches_to_english(app):
    client = app.test_client()
    r = client.get("/?lang=en")                  # "/" only redirects (to the login page)
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).data.decode()
    assert '<html lang="en"' in page
    page = client.get("/login").data.decode()       # and it stays for the session
    assert '<html lang="en"' in page


def test_404_and_403_pages_in_the_users_language_with_the_navigation(world, login):
    w = world()
    firm = login(w.user("firm"))
    r = firm.get("/no/such/page")
    page = r.data.decode()
    assert r.status_code == 404 and 'id="http-error"' in page and 'data-status="404"' in page
    assert "页面不存在" in page and 'id="zx-nav"' in page and "我的待办" in page
    firm.get("/tasks/?lang=en")
    page = firm.get("/no/such/page").data.decode()
    assert "Page not found" in page and "My tasks" in page and "页面不存在" not in page
    r = firm.get("/admin/jobs/")
    assert r.status_code in (403, 404) and 'id="http-error"' in r.data.decode()
    # a JSON caller still gets a plain status, not the page
    r = firm.get("/workflow/instances/999999999/progress.json")
    assert r.status_code == 404 and 'id="http-error"' not in r.data.decode()
    # logged out: the page still has the header and the language switch
    anon = w.app.test_client()
    page = anon.get("/no/such/page").data.decode()
    assert 'id="http-error"' in page and 'id="lang-link"' in page


def test_favicon_served_locally_and_linked(app, world, login):
    with app.test_client().get("/favicon.ico") as r:
        assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    w = world()
    page = login(w.user("firm")).get("/tasks/").data.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page


def test_skip_link_and_main_target(world, login):
    w = world()
    page = login(w.user("officer")).get("/tasks/").data.decode()
    assert page.index('class="zx-skip" href="#main"') < page.index("<nav")
    assert 'id="main" tabindex="-1"' in page
    assert 'lang="en" hreflang="en" id="lang-link"' in page      # the other language's word carries its lang


def test_duties_in_the_menu_with_the_overdue_count(world, login):
    w = world()
    duty = Duty(key=f"test-{w.tag}", kind="monthly_filing", period="2026-01", scheme_id=w.scheme.id,
                org_id=w.bank.id, due_at=now() - timedelta(days=2))
    db.session.add(duty)
    db.session.commit()
    try:
        officer = login(w.user("officer"))
        page = officer.get("/tasks/").data.decode()
        assert 'id="duties-link"' in page and 'id="duties-count"' in page and "逾期 1" in page
        listing = officer.get("/duties/").data.decode()
        assert f'id="duty-{duty.id}" class="table-danger" data-overdue="1"' in listing and "已逾期" in listing
        # an enterprise owes no duties: no menu entry
        assert 'id="duties-link"' not in login(w.user("firm")).get("/tasks/").data.decode()
    finally:
        db.session.delete(db.session.get(Duty, duty.id))
        db.session.commit()


def test_calendar_banner_from_november_when_next_year_is_missing(world, login, monkeypatch):
    w = world()
    known = {2025, 2026}
    monkeypatch.setattr(pages, "year_status", lambda y: {"usable": y in known})
    admin = login(w.user("admin"))
    monkeypatch.setattr(pages, "today", lambda: date(2026, 10, 31))
    assert 'id="calendar-banner"' not in admin.get("/admin/").data.decode()
    monkeypatch.setattr(pages, "today", lambda: date(2026, 11, 1))
    page = admin.get("/admin/").data.decode()
    assert 'id="calendar-banner"' in page and "2027" in page and "/admin/calendar/2027" in page
    known.add(2027)
    assert 'id="calendar-banner"' not in admin.get("/admin/").data.decode()
    known.discard(2027)
    # only administrators see it
    assert 'id="calendar-banner"' not in login(w.user("finoffice")).get("/tasks/").data.decode()


def test_jobs_page_in_words_with_headers_and_timer_filter(world, login):
    w = world()
    db.session.add_all([JobRun(job="timers", status="success", summary="advanced 0", started_at=now()),
                        JobRun(job="monthly_filing", status="success", summary="created 3", started_at=now())])
    db.session.commit()
    admin = login(w.user("admin"))
    page = admin.get("/admin/jobs/").data.decode()
    assert "每 10 分钟" in page and "每天 03:30" in page and "每 30 秒" in page and "每小时第 5 分" in page
    recent = page.split('id="job-recent"', 1)[1]
    assert "<th>" in recent and 'data-job="timers"' not in recent and "新建 3 项" in recent
    assert 'data-job="timers"' in admin.get("/admin/jobs/?timers=1").data.decode()
    page = admin.get("/admin/jobs/?lang=en").data.decode()
    assert "Every 10 minutes" in page and "Daily at 03:30" in page and "3 created" in page
    admin.get("/admin/jobs/?lang=zh")


def test_describe_schedule_and_summary(app, ctx):
    from app.jobs.labels import describe_schedule, describe_summary
    with app.test_request_context("/"), force_locale("zh"):
        assert describe_schedule(every(timedelta(seconds=600))) == "每 10 分钟"
        assert describe_schedule(every(timedelta(hours=1))) == "每小时"
        assert describe_schedule(crontab(hour=3, minute=30)) == "每天 03:30"
        assert describe_summary("reminders 2, escalations 1") == "提醒 2 条，督办 1 条"
        assert describe_summary("advanced 1; 1 failed, recorded as incidents: #5 (x: E, incident 2)") == \
            "推进 1 个流程；1 个失败，已记为异常：#5 (x: E, incident 2)"
        assert describe_summary("something new") == "something new"
    with app.test_request_context("/"), force_locale("en"):
        assert describe_schedule(crontab(hour=3, minute=30)) == "Daily at 03:30"
        assert describe_summary("pruned 7") == "7 deleted"


def test_attachment_kinds_and_subjects_in_words(world, login):
    w = world()
    assert login(w.user("firm")).post("/applications/new", data=application_form(w)).status_code == 302
    from app.applications.models import LoanApplication
    from app.workflow.models import HumanTask
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == w.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == a.instance_id, HumanTask.status == "open"))
    page = login(w.user("dept")).get(f"/tasks/{t.id}").data.decode()
    assert "营业执照 ·" in page and "business_licence" not in page.split("<main", 1)[1].split("<script", 1)[0] \
        .replace('name="business_licence"', "")
    page = login(w.user("admin")).get("/admin/workflow/instances").data.decode()
    assert "loan_application #" not in page and "贷款申请 #" in page


def test_enterprise_lands_on_its_applications_with_the_next_step(world, login, app):
    w = world()
    firm = login(w.user("firm"))
    assert firm.post("/applications/new", data=application_form(w)).status_code == 302
    assert firm.get("/").headers["Location"].endswith("/applications/")
    page = firm.get("/applications/").data.decode()
    assert "我的贷款申请" in page and 'id="new-application"' in page
    step = page.split('class="next-step"', 1)[1].split("</td>", 1)[0]
    assert "等待" in step and "行业主管部门" in step            # the department acts next
    # the department sees the same column with a link to its own task
    page = login(w.user("dept")).get("/applications/").data.decode()
    assert "去办理" in page.split('class="next-step"', 1)[1].split("</td>", 1)[0]
    # other roles land on their home page (today's tasks and the state of their work)
    assert login(w.user("officer")).get("/").headers["Location"].endswith("/home")


def test_credit_data_page_links_back_to_the_task(world, login):
    from tests.e2e.test_access import _flow_to_bank
    w = world()
    a, t = _flow_to_bank(w, login)
    r = login(w.user("officer")).post(f"/applications/{a.id}/credit")
    assert r.status_code == 200
    back = r.data.decode().split('id="credit-back"', 1)[1].split("</p>", 1)[0]
    assert f'href="/tasks/{t.id}"' in back and f'href="/applications/{a.id}"' in back


def test_the_application_form_shows_the_limits_of_each_policy(world, login):
    """While filling the form the firm sees what the policy requires: 江津's 5,000,000 cap and its term,
    the joint guarantee; in English too."""
    w = world("jiangjin_2020")
    firm = login(w.user("firm"))
    page = firm.get("/applications/new").data.decode()
    card = page[page.index(f'id="scheme-limits-{w.scheme.id}"'):]
    card = card[:card.index("</dl>")]
    p = w.scheme.params
    assert f"{p.max_loan_amount:,.2f}" in card and f"最长 {p.max_term_months} 个月" in card
    assert ("实际控制人和主要股东须提供连带责任担保" in card) == bool(p.require_joint_guarantee)
    firm.get("/lang/en")
    card = firm.get("/applications/new").data.decode()
    card = card[card.index(f'id="scheme-limits-{w.scheme.id}"'):]
    assert f"at most {p.max_term_months} months" in card[:card.index("</dl>")]
