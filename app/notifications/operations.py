"""Notifications: write inbox rows in the caller's transaction; send e-mail only after it commits.

``notify`` adds a row per user (unique key: the same event never notifies a user twice) and, when
SMTP is configured and the user has an address, marks it for e-mail.  The ids are kept on the
session; an ``after_commit`` hook queues one ``zx.send_email`` task per id, so a rolled-back step
sends nothing.  The sender claims a row (pending → sending) before talking to the server and
marks it sent afterwards; a sweep re-queues rows whose sender vanished.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.db import db
from app.core.timeutil import now
from app.notifications.models import Notification

_AFTER_COMMIT = "zx_mail_after_commit"


def mail_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def notify(users, key: str, kind: str, title: str, body: str = "", link: str | None = None) -> list[Notification]:
    """Notify each user once for ``key`` (a string naming the event); returns the rows created now."""
    created = []
    mail = mail_enabled()
    for user in users:
        if user is None or not user.active:
            continue
        full_key = f"{key}:u{user.id}"[:200]
        if db.session.scalar(select(Notification.id).where(Notification.key == full_key)) is not None:
            continue
        n = Notification(key=full_key, user_id=user.id, kind=kind, title=title[:300], body=body, link=link,
                         created_at=now(), email_status="pending" if (mail and user.email) else "none")
        try:
            with db.session.begin_nested():
                db.session.add(n)
                db.session.flush()
        except IntegrityError:  # a concurrent run inserted the same key first
            continue
        created.append(n)
        if n.email_status == "pending":
            db.session.info.setdefault(_AFTER_COMMIT, []).append(n.id)
    return created


def users_of_org(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == org_id, User.active.is_(True))
                                   .order_by(User.id)))


def users_of_kind(kind: str) -> list[User]:
    from app.accounts.models import Organisation
    return list(db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id)
                                   .where(Organisation.kind == kind, User.active.is_(True)).order_by(User.id)))


@event.listens_for(Session, "after_commit")
def _queue_mail_after_commit(session):
    ids = session.info.pop(_AFTER_COMMIT, None)
    if not ids:
        return
    from app.notifications.tasks import send_email
    for nid in ids:
        try:
            send_email.delay(nid)
        except Exception:  # broker unreachable: the sweep job sends it later
            current_app.logger.exception("could not queue e-mail for notification %s", nid)


@event.listens_for(Session, "after_rollback")
def _drop_mail_after_rollback(session):
    session.info.pop(_AFTER_COMMIT, None)


# ------------------------------------------------------------------ inbox

def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def inbox(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        q = q.where(Notification.id == notification_id)
    return db.session.execute(q.values(read_at=now())).rowcount


# ------------------------------------------------------------------ e-mail

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
    msg["Subject"] = n.title
    msg["Message-ID"] = make_msgid(idstring=f"zx-notification-{n.id}")
    text = n.body or n.title
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


def stale_mail(older_than: timedelta = timedelta(minutes=10), limit: int = 500) -> list[int]:
    """E-mails never queued (broker down at commit) or whose sender vanished mid-send."""
    cutoff = now() - older_than
    return list(db.session.scalars(select(Notification.id).where(
        ((Notification.email_status == "pending") & (Notification.created_at < cutoff))
        | ((Notification.email_status == "sending") & (Notification.emailed_at < cutoff))
        | ((Notification.email_status == "failed") & (Notification.email_attempts < 5)
           & (Notification.emailed_at < cutoff))).limit(limit)))
