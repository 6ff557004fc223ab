"""Sending one notification's e-mail: the SMTP session, the delivery, and the Celery task that runs it.

:mod:`app.notifications.operations` queues ``send_email`` after a commit; the periodic jobs of
:mod:`app.notifications.jobs` re-queue what was missed.  Neither is imported from here, so the
three form no import circle.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import update

from app.core.db import db
from app.core.timeutil import now
from app.notifications.messages import show
from app.notifications.models import Notification
from app.jobs.celery_app import celery


def smtp_connection(cfg) -> smtplib.SMTP:
    """An SMTP session on MAIL_SERVER:MAIL_PORT; STARTTLS first when MAIL_USE_TLS (the certificate is
    verified, against MAIL_CA_FILE when set), then AUTH when MAIL_USERNAME is set."""
    smtp = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25),
                        timeout=float(cfg.get("MAIL_TIMEOUT_SECONDS") or 30))
    try:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context(cafile=cfg.get("MAIL_CA_FILE") or None))
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver(notification_id: int) -> str:
    """Send one notification's e-mail.  Commits; safe to call twice (a sent row is not sent again)."""
    cfg = current_app.config
    claimed = db.session.execute(
        update(Notification).where(Notification.id == notification_id,
                                   Notification.email_status.in_(("pending", "failed")))
        .values(email_status="sending", email_attempts=Notification.email_attempts + 1, emailed_at=now())
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    n = db.session.get(Notification, notification_id)
    if not cfg.get("MAIL_SERVER") or not n.user.email:
        n.email_status = "none"
        db.session.commit()
        return "no-mail"
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = formataddr((n.user.display_name, n.user.email))
    shown = show(n, n.user.locale or cfg.get("BABEL_DEFAULT_LOCALE") or "zh")   # in the reader's language
    msg["Subject"] = shown.title
    msg["Message-ID"] = make_msgid(idstring=f"zx-notification-{n.id}")
    text = shown.text()
    if n.link:
        base = (cfg.get("PUBLIC_URL") or "").rstrip("/")
        text += f"\n\n{base}{n.link}"
    msg.set_content(text)
    try:
        with smtp_connection(cfg) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        n.email_status, n.email_error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        raise
    n.email_status, n.email_error, n.emailed_at = "sent", None, now()
    db.session.commit()
    return "sent"


@celery.task(name="zx.send_email", bind=True, acks_late=True, max_retries=5)
def send_email(self, notification_id: int):
    try:
        return deliver(notification_id)
    except (OSError, smtplib.SMTPException) as exc:
        raise self.retry(exc=exc, countdown=float(current_app.config.get("JOB_RETRY_BASE_SECONDS", 60))
                         * (2 ** self.request.retries)) from exc
