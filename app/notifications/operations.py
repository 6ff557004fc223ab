"""Notifications: write inbox rows in the caller's transaction; send e-mail only after it commits.

``notify`` adds a row per user (unique key: the same event never notifies a user twice) and, when
SMTP is configured and the user has an address, marks it for e-mail.  The ids are kept on the
session; an ``after_commit`` hook queues one ``zx.send_email`` task per id, so a rolled-back step
sends nothing.  The sender claims a row (pending → sending) before talking to the server and
marks it sent afterwards; a sweep re-queues rows whose sender vanished.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Organisation, User
from app.core import paging
from app.core.db import db
from app.core.timeutil import now
from app.notifications.mail import send_email
from app.notifications.models import Notification

_AFTER_COMMIT = "zx_mail_after_commit"


def mail_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def notify(users, key: str, kind: str, title: str, body: str = "", link: str | None = None,
           params: str | None = None) -> list[Notification]:
    """Notify each user once for ``key`` (a string naming the event); returns the rows created now.

    ``params`` (:func:`app.notifications.messages.pack`): ``title`` and ``body`` are msgids, translated
    with these parameters when shown; without it they are stored text."""
    created = []
    mail = mail_enabled()
    for user in users:
        if user is None or not user.active:
            continue
        full_key = f"{key}:u{user.id}"[:200]
        if db.session.scalar(select(Notification.id).where(Notification.key == full_key)) is not None:
            continue
        n = Notification(key=full_key, user_id=user.id, kind=kind, title=title[:300], body=body, link=link,
                         params_json=params,
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


def notify_org(org_id: int | None, key: str, kind: str, title: str, body: str = "", link: str | None = None,
               params: str | None = None) -> list[Notification]:
    """Notify every active user of one organisation (an enterprise, a bank) once for ``key``."""
    if org_id is None:
        return []
    return notify(users_of_org(org_id), key, kind, title, body, link, params)


def users_of_org(org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == org_id, User.active.is_(True))
                                   .order_by(User.id)))


def users_of_kind(kind: str) -> list[User]:
    return list(db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id)
                                   .where(Organisation.kind == kind, User.active.is_(True)).order_by(User.id)))


@event.listens_for(Session, "after_commit")
def _queue_mail_after_commit(session):
    ids = session.info.pop(_AFTER_COMMIT, None)
    if not ids:
        return
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


def inbox(user_id: int, args=None, per_page: int = 50) -> paging.Page:
    """One page of the user's inbox, newest first, with the true count."""
    return paging.paginate(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id.desc()), args or {}, per_page)


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        q = q.where(Notification.id == notification_id)
    return db.session.execute(q.values(read_at=now())).rowcount


def stale_mail(older_than: timedelta = timedelta(minutes=10), limit: int = 500) -> list[int]:
    """E-mails never queued (broker down at commit) or whose sender vanished mid-send."""
    cutoff = now() - older_than
    return list(db.session.scalars(select(Notification.id).where(
        ((Notification.email_status == "pending") & (Notification.created_at < cutoff))
        | ((Notification.email_status == "sending") & (Notification.emailed_at < cutoff))
        | ((Notification.email_status == "failed") & (Notification.email_attempts < 5)
           & (Notification.emailed_at < cutoff))).limit(limit)))
