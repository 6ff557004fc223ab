"""Working days without a database: the library baseline with 调休, administrator entries winning,
and an unknown year failing loudly with the year named."""
from datetime import date, datetime, timezone

import pytest

from app.core.timeutil import SHANGHAI
from app.core.workdays import UnknownCalendarYear, WorkingCalendar, library_knows, library_years

LIB = WorkingCalendar(set(), {})
UNKNOWN = max(library_years()) + 1          # chinese-calendar 1.11: 2027


def test_spring_festival_2025_with_adjusted_weekend_days():
    assert LIB.is_working_day(date(2025, 1, 26))          # Sunday, worked (调休)
    assert LIB.is_working_day(date(2025, 2, 8))           # Saturday, worked
    for d in range(28, 32):
        assert not LIB.is_working_day(date(2025, 1, d))
    for d in range(1, 5):
        assert not LIB.is_working_day(date(2025, 2, d))
    assert LIB.add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)   # Fri → the Sunday worked
    assert LIB.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)    # over the whole holiday
    assert LIB.add_working_days(date(2025, 2, 5), 3) == date(2025, 2, 8)     # Thu, Fri, then Saturday worked
    # 26 (Sun), 27 Jan, 5, 6, 7, 8 (Sat), 10 Feb
    assert LIB.working_days_between(date(2025, 1, 24), date(2025, 2, 10)) == 7


def test_national_day_2025():
    for d in range(1, 9):
        assert not LIB.is_working_day(date(2025, 10, d))
    assert LIB.is_working_day(date(2025, 9, 28)) and LIB.is_working_day(date(2025, 10, 11))
    assert LIB.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert LIB.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 5 working days (黔江 payout deadline) from 30 September: 9, 10, 11 (Sat, worked), 13, 14 October
    assert LIB.add_working_days(date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_deadline_counts_from_the_shanghai_date():
    # 2025-01-24 17:00 UTC is Saturday 25 January 01:00 in Shanghai; the next working day is Sunday 26th
    due = LIB.deadline(datetime(2025, 1, 24, 17, 0, tzinfo=timezone.utc), 1)
    assert due == datetime(2025, 1, 26, 23, 59, 59, tzinfo=SHANGHAI)
    due = LIB.deadline(datetime(2025, 9, 30, 15, 0, tzinfo=SHANGHAI), 5)
    assert due.date() == date(2025, 10, 14)


def test_administrator_entries_win_over_the_library():
    cal = WorkingCalendar(set(), {date(2025, 10, 9): False, date(2025, 10, 1): True})
    assert not cal.is_working_day(date(2025, 10, 9))
    assert cal.is_working_day(date(2025, 10, 1))
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 1)


def test_unknown_year_fails_loudly_naming_the_year():
    assert not library_knows(UNKNOWN)
    with pytest.raises(UnknownCalendarYear) as exc:
        LIB.is_working_day(date(UNKNOWN, 3, 1))
    assert exc.value.year == UNKNOWN and str(UNKNOWN) in str(exc.value)
    # a deadline running over the year end fails too, rather than guessing Monday–Friday
    with pytest.raises(UnknownCalendarYear, match=str(UNKNOWN)):
        LIB.add_working_days(date(UNKNOWN - 1, 12, 28), 5)
    # only the entered days are known until the year is marked complete
    partial = WorkingCalendar(set(), {date(UNKNOWN, 1, 1): False})
    assert not partial.is_working_day(date(UNKNOWN, 1, 1))
    with pytest.raises(UnknownCalendarYear):
        partial.is_working_day(date(UNKNOWN, 1, 4))


def test_a_completed_administrator_year_is_weekdays_plus_entries():
    cal = WorkingCalendar({UNKNOWN}, {date(UNKNOWN, 1, 1): False})
    assert not cal.is_working_day(date(UNKNOWN, 1, 1))
    monday = next(date(UNKNOWN, 3, d) for d in range(1, 8) if date(UNKNOWN, 3, d).weekday() == 0)
    assert cal.is_working_day(monday)
    assert not cal.is_working_day(date.fromordinal(monday.toordinal() - 1))   # Sunday


def test_library_years_are_what_the_package_knows():
    years = library_years()
    assert years[0] == 2004 and all(library_knows(y) for y in (years[0], years[-1]))
