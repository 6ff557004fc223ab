"""The administrator's working-day calendar over HTTP: entering a year the library does not know
(chinese-calendar 1.11: 2027), who and when, completion, and the deadlines that follow."""
from datetime import date

import pytest
from sqlalchemy import delete, select

from app.core.db import db
from app.core.workdays import (CalendarDay, CalendarYear, UnknownCalendarYear, calendar, library_knows,
                               library_years)

YEAR = max(library_years()) + 1


@pytest.fixture
def clean_calendar(ctx):
    """Calendar entries are global: remove this test's entries afterwards (other tests count days)."""
    def wipe():
        db.session.rollback()
        db.session.execute(delete(CalendarDay).where(CalendarDay.day >= date(YEAR, 1, 1),
                                                     CalendarDay.day <= date(YEAR, 12, 31)))
        db.session.execute(delete(CalendarDay).where(CalendarDay.day == date(2025, 10, 9)))
        db.session.execute(delete(CalendarYear).where(CalendarYear.year == YEAR))
        db.session.commit()
    wipe()
    yield
    wipe()


HOLIDAYS = f"""{YEAR}-01-01 元旦
# 春节
{YEAR}-02-06..{YEAR}-02-12 春节
"""


def test_admin_enters_and_completes_an_unknown_year(world, login, clean_calendar):
    assert not library_knows(YEAR)
    w = world()
    admin = login(w.user("admin"))
    assert login(w.user("finance")).get("/admin/calendar/").status_code == 403
    page = admin.get("/admin/calendar/").data.decode()
    assert f'data-year="{YEAR}"' in page and "不可用" in page
    with pytest.raises(UnknownCalendarYear, match=str(YEAR)):
        calendar().is_working_day(date(YEAR, 3, 1))

    # invalid input: the line is named, nothing is stored, the text is kept
    r = admin.post(f"/admin/calendar/{YEAR}/days", data={"holidays": f"{YEAR}-02-30 春节", "workdays": ""})
    assert r.status_code == 400 and "第 1 行" in r.data.decode() and f"{YEAR}-02-30" in r.data.decode()
    r = admin.post(f"/admin/calendar/{YEAR}/days", data={"holidays": "", "workdays": f"{YEAR}-02-15 周一"})
    assert r.status_code == 400 and "无需录入" in r.data.decode()
    r = admin.post(f"/admin/calendar/{YEAR}/days", data={"holidays": f"{YEAR - 1}-12-31 x", "workdays": ""})
    assert r.status_code == 400 and f"不在 {YEAR} 年内" in r.data.decode()
    assert db.session.scalar(select(CalendarDay).where(CalendarDay.day >= date(YEAR, 1, 1))) is None
    r = admin.post(f"/admin/calendar/{YEAR}/complete", data={"note": "x"})
    assert r.status_code == 400 and "尚未录入任何法定节假日" in r.data.decode()

    r = admin.post(f"/admin/calendar/{YEAR}/days", data={
        "holidays": HOLIDAYS, "workdays": f"{YEAR}-02-14 春节调休\n{YEAR}-02-20 春节调休"})
    assert r.status_code == 302
    db.session.expire_all()
    feb14 = db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(YEAR, 2, 14)))
    assert feb14.is_workday and feb14.name == "春节调休" and feb14.entered_by_id == w.u["admin"].id
    assert feb14.entered_at is not None
    assert len(list(db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(YEAR, 1, 1), CalendarDay.day <= date(YEAR, 12, 31))))) == 10
    # entered days are known already; the rest of the year is not, until marked complete
    assert calendar().is_working_day(date(YEAR, 2, 14))
    with pytest.raises(UnknownCalendarYear):
        calendar().is_working_day(date(YEAR, 3, 1))

    r = admin.post(f"/admin/calendar/{YEAR}/complete", data={"note": "依据国务院办公厅放假安排通知"})
    assert r.status_code == 302
    cal = calendar()
    assert cal.is_working_day(date(YEAR, 3, 1)) == (date(YEAR, 3, 1).weekday() < 5)
    assert not cal.is_working_day(date(YEAR, 2, 8))                     # Monday in the holiday
    assert cal.add_working_days(date(YEAR, 2, 5), 1) == date(YEAR, 2, 14)   # Friday → the Sunday worked
    assert cal.add_working_days(date(YEAR - 1, 12, 31), 1) == date(YEAR, 1, 4)  # over 元旦 and the weekend
    page = admin.get(f"/admin/calendar/{YEAR}").data.decode()
    assert "已录入完成" in page and w.user("admin").display_name in page and "依据国务院办公厅" in page
    # completed: entries cannot be deleted until the year is reopened
    admin.post(f"/admin/calendar/{YEAR}/days/{YEAR}-02-20/delete")
    assert db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(YEAR, 2, 20))) is not None
    assert admin.post(f"/admin/calendar/{YEAR}/reopen").status_code == 302
    assert admin.post(f"/admin/calendar/{YEAR}/days/{YEAR}-02-20/delete").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(YEAR, 2, 20))) is None
    with pytest.raises(UnknownCalendarYear):
        calendar().is_working_day(date(YEAR, 3, 1))


def test_admin_entry_overrides_a_library_year(world, login, clean_calendar):
    w = world()
    admin = login(w.user("admin"))
    assert calendar().is_working_day(date(2025, 10, 9))
    page = admin.get("/admin/calendar/2025").data.decode()
    assert "2025-09-28" in page and "2025-10-11" in page        # the library's 调休 days, for reference
    r = admin.post("/admin/calendar/2025/days", data={"holidays": "2025-10-09 临时调整", "workdays": ""})
    assert r.status_code == 302
    assert not calendar().is_working_day(date(2025, 10, 9))
    assert calendar().add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 10)
