"""The periodic job opening the report duties (hourly: a missed run is caught up by the next)."""
from __future__ import annotations

from datetime import datetime

from celery.schedules import crontab

from app.core.i18n import N_
from app.jobs.runner import job
from app.reports import operations as ops


@job("report_duties", N_("报表报送任务"), lambda cfg: crontab(minute=15),
     N_("每月、每季度开始后，为各报送单位生成上期报表报送任务（每期一次）"))
def report_duties_job(at: datetime) -> str:
    return f"created {len(ops.create_report_duties(at))}"
