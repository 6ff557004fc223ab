"""How the job page says things: a Celery schedule in words ("每 10 分钟", "每天 03:30") and a run's
summary in the reader's language.

Summaries are stored as the jobs return them (a short English pattern such as ``created 3``); they
are matched here against the known patterns and shown through the catalog.  An unknown summary is
shown as stored.
"""
from __future__ import annotations

import re

from celery.schedules import crontab, schedule as every

from app.core.i18n import _, _l

TRIGGER_LABELS = {"schedule": _l("按计划"), "cli": _l("命令行"), "manual": _l("手动")}


def describe_schedule(s) -> str:
    if isinstance(s, crontab):
        minute, hour = str(s._orig_minute), str(s._orig_hour)
        other = (str(s._orig_day_of_week), str(s._orig_day_of_month), str(s._orig_month_of_year))
        if other == ("*", "*", "*") and minute.isdigit():
            if hour == "*":
                return _("每小时第 {m} 分").format(m=int(minute))
            if hour.isdigit():
                return _("每天 {t}").format(t=f"{int(hour):02d}:{int(minute):02d}")
        return str(s)
    if isinstance(s, every):
        seconds = int(s.run_every.total_seconds())
        if seconds and seconds % 86400 == 0:
            n = seconds // 86400
            return _("每天") if n == 1 else _("每 {n} 天").format(n=n)
        if seconds and seconds % 3600 == 0:
            n = seconds // 3600
            return _("每小时") if n == 1 else _("每 {n} 小时").format(n=n)
        if seconds and seconds % 60 == 0:
            return _("每 {n} 分钟").format(n=seconds // 60)
        return _("每 {n} 秒").format(n=seconds)
    return "—" if s is None else str(s)


_SIMPLE = [
    (re.compile(r"^created (\d+)$"), lambda n: _("新建 {n} 项").format(n=n)),
    (re.compile(r"^requeued (\d+)$"), lambda n: _("重新排队 {n} 封").format(n=n)),
    (re.compile(r"^pruned (\d+)$"), lambda n: _("删除 {n} 条").format(n=n)),
    (re.compile(r"^advanced (\d+)$"), lambda n: _("推进 {n} 个流程").format(n=n)),
]
_DEADLINES = re.compile(r"^reminders (\d+), escalations (\d+)$")
_FAILED = re.compile(r"^(.*?); (\d+) failed, recorded as incidents: (.*)$", re.S)
_FIXED = {"not an SQL broker": _l("不是内置（SQL）消息队列，无需清理"), "no message table yet": _l("消息表尚未建立")}


def describe_summary(text: str | None) -> str:
    if not text:
        return ""
    m = _FAILED.match(text)
    if m:
        return _("{done}；{n} 个失败，已记为异常：{which}").format(done=describe_summary(m.group(1)), n=m.group(2),
                                                            which=m.group(3))
    if text in _FIXED:
        return str(_FIXED[text])
    m = _DEADLINES.match(text)
    if m:
        return _("提醒 {r} 条，督办 {e} 条").format(r=m.group(1), e=m.group(2))
    for pattern, say in _SIMPLE:
        m = pattern.match(text)
        if m:
            return say(m.group(1))
    return text



