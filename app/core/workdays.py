"""Chinese working days.

Baseline: the maintained ``chinese_calendar`` package (statutory holidays off, adjusted weekend
days — 调休 — on).  Administrators may enter a year's schedule themselves (the State Council
publishes it around November, often before the library catches up): their entries win.  A year
neither knows fails loudly with :class:`UnknownCalendarYear`, never silently as plain weekdays.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import event, Date, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.timeutil import SHANGHAI, now
from app.core.types import UTCDateTime


class UnknownCalendarYear(DomainError, LookupError):
    """No holiday schedule for the year: the administrator must enter it (a refusal, not a bug)."""

    status = 409

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

    entered_by = relationship("User")


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

    entered_by = relationship("User")


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
        self._known: dict[date, bool] = {}     # answers so far: the snapshot never changes

    @classmethod
    def load(cls) -> "WorkingCalendar":
        years = set(db.session.scalars(select(CalendarYear.year)))
        days = {d.day: d.is_workday for d in db.session.scalars(select(CalendarDay))}
        return cls(years, days)

    def is_working_day(self, d: date) -> bool:
        known = self._known.get(d)
        if known is None:
            known = self._known[d] = self._is_working_day(d)
        return known

    def _is_working_day(self, d: date) -> bool:
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


_CACHE: dict = {"at": None, "calendar": None}
CACHE_SECONDS = 30


def calendar() -> WorkingCalendar:
    """The working calendar, cached for a few seconds per process.

    Deadlines are days long; an administrator's entry reaches other processes within
    ``CACHE_SECONDS`` and this process at once (a flush touching the calendar tables clears it).
    """
    import time as _time
    at = _CACHE["at"]
    if _CACHE["calendar"] is None or at is None or _time.monotonic() - at > CACHE_SECONDS:
        _CACHE["calendar"] = WorkingCalendar.load()
        _CACHE["at"] = _time.monotonic()
    return _CACHE["calendar"]


def invalidate_cache() -> None:
    _CACHE["calendar"] = None


@event.listens_for(Session, "after_flush")
def _calendar_changed(session, flush_context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (CalendarDay, CalendarYear)):
            session.info["zx_calendar_written"] = True
            invalidate_cache()
            return


@event.listens_for(Session, "do_orm_execute")
def _calendar_bulk_changed(state):
    if (state.is_delete or state.is_update or state.is_insert) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in (CalendarDay, CalendarYear):
        state.session.info["zx_calendar_written"] = True
        invalidate_cache()


@event.listens_for(Session, "after_commit")
def _calendar_committed(session):
    session.info.pop("zx_calendar_written", None)


@event.listens_for(Session, "after_rollback")
def _calendar_rolled_back(session):
    if session.info.pop("zx_calendar_written", False):
        invalidate_cache()  # a rolled-back entry must not linger in the cache


def library_years() -> range:
    """The years the installed chinese-calendar package knows (1.11: 2004-2026)."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return range(min(years), max(years) + 1)


def library_knows(year: int) -> bool:
    return _library_knows(year)


# ---------------------------------------------------------------------------- administration

class CalendarEntryError(DomainError):
    """An administrator's calendar entry was refused; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def year_status(year: int) -> dict:
    """What is known about a year: library, administrator's completion, entries."""
    entries = year_entries(year)
    done = db.session.get(CalendarYear, year)
    return {"year": year, "library": _library_knows(year), "complete": done, "entries": entries,
            "holidays": sum(1 for e in entries if not e.is_workday),
            "workdays": sum(1 for e in entries if e.is_workday),
            "usable": _library_knows(year) or done is not None}


def year_entries(year: int) -> list[CalendarDay]:
    return list(db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day)))


def library_schedule(year: int) -> list[tuple[date, bool, str]]:
    """The library's holidays on weekdays and adjusted working days on weekends, for reference."""
    if not _library_knows(year):
        return []
    out = []
    d = date(year, 1, 1)
    while d.year == year:
        on, name = not chinese_calendar.is_holiday(d), chinese_calendar.get_holiday_detail(d)[1]
        if (d.weekday() < 5 and not on) or (d.weekday() >= 5 and on):
            out.append((d, on, name or ""))
        d += timedelta(days=1)
    return out


def parse_lines(text: str, year: int, field: str) -> list[tuple[date, str]]:
    """Lines like ``2027-02-06 春节`` or ``2027-02-06..2027-02-12 春节``; errors name the line."""
    out: list[tuple[date, str]] = []
    for no, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _sep, name = line.partition(" ")
        name = name.strip()[:80]
        first, _dots, last = head.partition("..")
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if last else start
        except ValueError:
            raise CalendarEntryError(_("第 {no} 行“{line}”：日期格式应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD").format(no=no, line=line), field) from None
        if end < start:
            raise CalendarEntryError(_("第 {no} 行“{line}”：结束日期早于开始日期").format(no=no, line=line), field)
        if start.year != year or end.year != year:
            raise CalendarEntryError(_("第 {no} 行“{line}”：日期不在 {year} 年内").format(no=no, line=line, year=year), field)
        if (end - start).days > 31:
            raise CalendarEntryError(_("第 {no} 行“{line}”：一段假期不应超过 31 天").format(no=no, line=line), field)
        d = start
        while d <= end:
            out.append((d, name))
            d += timedelta(days=1)
    return out


def enter_days(year: int, user, holidays_text: str = "", workdays_text: str = "") -> list[CalendarDay]:
    """Record holidays (off) and adjusted working days (on) for ``year``; later entries replace
    earlier ones for the same day.  Who and when is kept on each day."""
    holidays = parse_lines(holidays_text, year, "holidays")
    workdays = parse_lines(workdays_text, year, "workdays")
    if not holidays and not workdays:
        raise CalendarEntryError(_("请至少录入一个法定节假日或调休上班日"), "holidays")
    both = {d for d, _n in holidays} & {d for d, _n in workdays}
    if both:
        raise CalendarEntryError(_("同一天不能既是假日又是上班日：{days}").format(days=_("、").join(sorted(str(d) for d in both))), "workdays")
    for d, _n in workdays:
        if d.weekday() < 5:
            raise CalendarEntryError(_("{day} 是工作日（周一至周五），无需录入为调休上班日").format(day=d), "workdays")
    written = []
    for items, on in ((holidays, False), (workdays, True)):
        for d, name in items:
            row = db.session.scalar(select(CalendarDay).where(CalendarDay.day == d))
            if row is None:
                row = CalendarDay(day=d)
                db.session.add(row)
            row.is_workday = on
            row.name = name
            row.entered_by_id = user.id if user else None
            row.entered_at = now()
            written.append(row)
    db.session.flush()
    _audit(year, "calendar_days_entered", user, details={
        "holidays": [str(d) for d, _n in holidays], "workdays": [str(d) for d, _n in workdays]})
    return written


def _audit(year: int, action: str, user, opinion: str = "", details: dict | None = None) -> None:
    audit.record("calendar_year", year, action, user, opinion, details=details, visible_to_enterprise=False)


def remove_day(day: date, user) -> None:
    row = db.session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if row is None:
        raise CalendarEntryError(_("{day} 没有管理员录入的记录").format(day=day))
    done = db.session.get(CalendarYear, day.year)
    if done is not None:
        raise CalendarEntryError(_("{year} 年已标记为录入完成，请先撤销完成标记再修改").format(year=day.year))
    db.session.delete(row)
    _audit(day.year, "calendar_day_removed", user, details={"day": str(day), "was_workday": row.is_workday,
                                                            "name": row.name})
    db.session.flush()


def mark_complete(year: int, user, note: str = "") -> CalendarYear:
    """Declare the year's schedule complete: days without an entry then follow Monday-Friday."""
    if db.session.get(CalendarYear, year) is not None:
        raise CalendarEntryError(_("{year} 年已标记为录入完成").format(year=year))
    entries = year_entries(year)
    if not _library_knows(year) and not any(not e.is_workday for e in entries):
        raise CalendarEntryError(_("{year} 年尚未录入任何法定节假日，不能标记为完成").format(year=year), "note")
    row = CalendarYear(year=year, entered_by_id=user.id if user else None, entered_at=now(),
                       note=(note or "").strip()[:300])
    db.session.add(row)
    _audit(year, "calendar_completed", user, row.note)
    db.session.flush()
    return row


def reopen_year(year: int, user) -> None:
    row = db.session.get(CalendarYear, year)
    if row is None:
        raise CalendarEntryError(_("{year} 年未标记为录入完成").format(year=year))
    db.session.delete(row)
    _audit(year, "calendar_reopened", user)
    db.session.flush()
