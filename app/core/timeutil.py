"""Times are Asia/Shanghai.  Stored timestamps are timezone-aware UTC; shown in Shanghai time."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    """Today's date in Shanghai (what a deadline counts from)."""
    return datetime.now(SHANGHAI).date()


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(SHANGHAI)


def fmt(dt: datetime | None) -> str:
    d = local(dt)
    return d.strftime("%Y-%m-%d %H:%M") if d else ""


def parse_date(raw: str | None) -> date | None:
    """A YYYY-MM-DD date typed or passed in a URL, or None when empty or not a date."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
