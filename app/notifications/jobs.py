"""Periodic jobs of notifications: re-sending e-mail that was missed, pruning the broker (the send task: mail.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from app.core.db import db
from app.core.i18n import N_
from app.notifications import operations as ops
from app.notifications.mail import send_email
from app.notifications.models import Notification
from app.jobs.celery_app import celery
from app.jobs.runner import daily, interval, job


@job("mail_sweep", N_("邮件补发"), interval("MAIL_SWEEP_SECONDS", 600),
     N_("补发提交时未能排队或发送中断的通知邮件"))
def mail_sweep(at: datetime) -> str:
    ids = ops.stale_mail()
    if ids:
        db.session.execute(update(Notification).where(Notification.id.in_(ids),
                                                      Notification.email_status == "sending")
                           .values(email_status="pending"))
        db.session.commit()
    for nid in ids:
        send_email.delay(nid)
    return f"requeued {len(ids)}"


@job("broker_prune", N_("清理内置消息队列"), daily(3, 30),
     N_("删除内置（SQL）消息队列中已处理的消息；使用 Redis/RabbitMQ 时不做任何事"))
def broker_prune(at: datetime) -> str:
    url = celery.conf.broker_url or ""
    if not url.startswith("sqla+"):
        return "not an SQL broker"
    from sqlalchemy import create_engine, text
    eng = create_engine(url[len("sqla+"):])
    try:
        with eng.begin() as c:
            try:
                n = c.execute(text("DELETE FROM kombu_message WHERE visible = :f"), {"f": False}).rowcount
            except Exception:  # the table is made by the first worker
                return "no message table yet"
    finally:
        eng.dispose()
    return f"pruned {n}"
