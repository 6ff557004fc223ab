"""Periodic jobs creating the recurring duties (hourly: a missed run is caught up by the next)."""
from __future__ import annotations

from datetime import datetime

from celery.schedules import crontab

from app.core.db import db
from app.core.i18n import N_
from app.duties import operations as ops
from app.duties.models import Duty
from app.jobs.deadlines import register_scheme_resolver
from app.jobs.runner import job


def _duty_scheme(subject_id: int) -> int | None:
    d = db.session.get(Duty, subject_id)
    return d.scheme_id if d else None


register_scheme_resolver(ops.SUBJECT, _duty_scheme)


@job("monthly_filing", N_("月度项目备案任务"), lambda cfg: crontab(minute=5),
     N_("每月第一个工作日起，为每家合作银行生成上月项目备案与月度统计任务（每期一次）"))
def monthly_filing_job(at: datetime) -> str:
    return f"created {len(ops.create_monthly_filing_duties(at))}"


@job("credit_data", N_("季度信用信息采集任务"), lambda cfg: crontab(minute=10),
     N_("每季度结束后第一个工作日起，为每个信用信息来源单位生成上季度数据上传任务（每期一次）"))
def credit_data_job(at: datetime) -> str:
    return f"created {len(ops.create_credit_data_duties(at))}"
