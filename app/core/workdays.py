"""Chinese working days.

Baseline: the maintained ``chinese_calendar`` package (statutory holidays off, adjusted weekend
days — 调休 — on).  Administrators may enter a year's schedule themselves (the State Council
publishes it around November, often before the library catches up): their entries win.  A year
neither knows fails loudly with :class:`UnknownCalendarYear`, never silently as plain weekdays.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import Date, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import db
from app.core.timeutil import SHANGHAI, now
from app.core.types import UTCDateTime


class UnknownCalendarYear(LookupError):
    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"没有 {year} 年的节假日安排：请管理员在“工作日历”中录入 {year} 年的法定节假日和调休上班日。"
            f" (No holiday schedule for {year}: enter it under Working calendar.)")


class CalendarYear(db.Model):
    """A year whose schedule an administrator has entered completely."""
    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    note: Mapped[str] = mapped_column(String(300), default="")


class CalendarDay(db.Model):
    """An administrator's entry for one day: a holiday (off) or an adjusted working day (on)."""
    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(80), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


class WorkingCalendar:
    """A snapshot of the administrator's entries; cheap to build, used for one computation."""

    def __init__(self, admin_years: set[int], admin_days: dict[date, bool]):
        self.admin_years = admin_years
        self.admin_days = admin_days

    @classmethod
    def load(cls) -> "WorkingCalendar":
        years = set(db.session.scalars(select(CalendarYear.year)))
        days = {d.day: d.is_workday for d in db.session.scalars(select(CalendarDay))}
        return cls(years, days)

    def is_working_day(self, d: date) -> bool:
        if d in self.admin_days:
            return self.admin_days[d]
        if d.year in self.admin_years:
            return d.weekday() < 5
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            raise UnknownCalendarYear(d.year) from None

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start itself not counted)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        d = start
        counted = 0
        while counted < n:
            d += timedelta(days=1)
            if self.is_working_day(d):
                counted += 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=i)))

    def first_working_day_on_or_after(self, d: date) -> date:
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def deadline(self, received: datetime, n: int) -> datetime:
        """End of the n-th working day after the day something was received (Shanghai time)."""
        day = received.astimezone(SHANGHAI).date()
        due = self.add_working_days(day, n)
        return datetime.combine(due, time(23, 59, 59), tzinfo=SHANGHAI)


def calendar() -> WorkingCalendar:
    return WorkingCalendar.load()


def library_years() -> range:
    return range(2004, 2004 + 40)


def library_knows(year: int) -> bool:
    return _library_knows(year)
