"""Inbox, unread count in the header, e-mail over a real local SMTP server, only after commit;
deadline reminders and escalation exactly once."""
import smtplib
import ssl
from datetime import timedelta

import pytest

from sqlalchemy import func, select

from app.core.db import db
from app.core.timeutil import now
from app.notifications import mail as mail_delivery, operations as ops
from app.notifications.messages import show
from app.notifications.models import Notification
from app.jobs.deadlines import escalate_overdue, send_reminders
from app.jobs.models import TaskDeadlineEvent
from app.workflow import engine
from app.workflow.models import HumanTask
from tests.integration.test_timers import TEST_BPMN
from tests.smtp_server import SmtpServer


def test_inbox_and_unread_count_in_header(world, login):
    w = world()
    user = w.user("officer")
    ops.notify([user], f"test:{w.tag}", "info", "请处理贷款备案", "正文", "/tasks/")
    ops.notify([user], f"test:{w.tag}", "info", "请处理贷款备案", "正文", "/tasks/")   # same key: once
    db.session.commit()
    c = login(user)
    page = c.get("/tasks/").data.decode()
    assert 'id="unread-count">1<' in page
    inbox = c.get("/notifications/").data.decode()
    assert "请处理贷款备案" in inbox
    n = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    r = c.post(f"/notifications/{n.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/tasks/")
    assert 'id="unread-count"' not in c.get("/tasks/").data.decode()
    # someone else's notification is not found
    assert login(w.user("officer2")).post(f"/notifications/{n.id}").status_code == 404


def test_email_goes_out_over_smtp_only_after_commit(world, app):
    w = world()
    user = w.user("finoffice")
    with SmtpServer() as smtp:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        try:
            rolled = ops.notify([user], f"rolled:{w.tag}", "info", "不应发送")
            assert rolled[0].email_status == "pending"
            db.session.rollback()
            assert db.session.scalar(select(Notification).where(Notification.key.like(f"rolled:{w.tag}%"))) is None

            [n] = ops.notify([user], f"mail:{w.tag}", "escalation", "逾期督办：测试", "请督办", "/tasks/1")
            nid = n.id
            assert smtp.to(user.email) == []
            db.session.commit()
            assert mail_delivery.deliver(nid) == "sent"
            assert mail_delivery.deliver(nid) == "skipped"        # a second delivery sends nothing
        finally:
            app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
        [msg] = smtp.wait_for(user.email)
        assert msg["Subject"] == "逾期督办：测试" and "请督办" in msg.get_content()
        assert all("不应发送" != m["Subject"] for _, m in smtp.handler.messages)
    assert db.session.get(Notification, nid).email_status == "sent"


def _task_due(w, due_at):
    engine.deploy_file(TEST_BPMN)
    inst = engine.start("test_timer_wait", "test", w.bank.id, {
        "title": f"测试待办{w.tag}", "org_id": w.bank.id, "scheme_id": w.scheme.id, "wait_until": (now() - timedelta(seconds=1)).isoformat()})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    ht.due_at = due_at
    db.session.commit()
    return ht


def test_reminder_one_working_day_before_and_escalation_exactly_once(world, login):
    from datetime import datetime
    from app.core.timeutil import SHANGHAI
    w = world()
    # due Friday 2026-03-06 end of day; reminded on Thursday, not on Wednesday
    due = datetime(2026, 3, 6, 23, 59, 59, tzinfo=SHANGHAI)
    ht = _task_due(w, due)
    officer = w.user("officer")
    assert send_reminders(datetime(2026, 3, 4, 9, tzinfo=SHANGHAI)) >= 0
    assert db.session.scalar(select(TaskDeadlineEvent).where(TaskDeadlineEvent.human_task_id == ht.id)) is None
    send_reminders(datetime(2026, 3, 5, 9, tzinfo=SHANGHAI))
    send_reminders(datetime(2026, 3, 5, 10, tzinfo=SHANGHAI))
    reminders = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.key == f"reminder:t{ht.id}:u{officer.id}"))
    assert reminders == 1

    escalate_overdue(datetime(2026, 3, 6, 12, tzinfo=SHANGHAI))     # not yet overdue
    assert db.session.get(HumanTask, ht.id).overdue is False
    for _ in range(2):
        escalate_overdue(datetime(2026, 3, 9, 9, tzinfo=SHANGHAI))
    db.session.expire_all()
    assert db.session.get(HumanTask, ht.id).overdue is True
    events = db.session.scalar(select(func.count()).select_from(TaskDeadlineEvent).where(
        TaskDeadlineEvent.human_task_id == ht.id, TaskDeadlineEvent.kind == "escalation"))
    assert events == 1
    fin = w.user("finoffice")
    fin_notes = list(db.session.scalars(select(Notification).where(
        Notification.user_id == fin.id, Notification.key.like(f"escalation:t{ht.id}:%"))))
    assert len(fin_notes) == 1 and w.bank.name in show(fin_notes[0]).title
    # the queue counts it
    page = login(officer).get("/tasks/").data.decode()
    assert "逾期 1 项" in page


def test_email_over_starttls_with_authentication(world, app):
    """MAIL_USE_TLS: STARTTLS (certificate verified against MAIL_CA_FILE), then AUTH; wrong credentials fail."""
    w = world()
    user = w.user("finoffice")
    mail = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_CA_FILE")
    saved = {k: app.config.get(k) for k in mail}
    with SmtpServer(tls=True, credentials=("zengxin", "s3cret-pass")) as smtp:
        try:
            app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_USE_TLS=True,
                              MAIL_USERNAME="zengxin", MAIL_PASSWORD="s3cret-pass", MAIL_CA_FILE=smtp.cert_file)
            [n] = ops.notify([user], f"tls:{w.tag}", "info", "加密发送测试", "正文")
            db.session.commit()
            assert mail_delivery.deliver(n.id) == "sent"
            assert smtp.logins == ["zengxin"]

            app.config.update(MAIL_PASSWORD="wrong")
            [bad] = ops.notify([user], f"tls-bad:{w.tag}", "info", "密码错误", "正文")
            db.session.commit()
            with pytest.raises(smtplib.SMTPAuthenticationError):
                mail_delivery.deliver(bad.id)

            app.config.update(MAIL_PASSWORD="s3cret-pass", MAIL_CA_FILE=None)   # an untrusted certificate
            [untrusted] = ops.notify([user], f"tls-ca:{w.tag}", "info", "证书不受信任", "正文")
            db.session.commit()
            with pytest.raises(ssl.SSLCertVerificationError):
                mail_delivery.deliver(untrusted.id)
        finally:
            app.config.update(saved)
        [msg] = smtp.wait_for(user.email)
        assert msg["Subject"] == "加密发送测试"
    db.session.expire_all()
    assert db.session.get(Notification, bad.id).email_status == "failed"


def test_smtp_password_without_tls_is_refused_at_start():
    from app.core.config import ConfigError, load_config
    with pytest.raises(ConfigError, match="MAIL_USE_TLS"):
        load_config({"SECRET_KEY": "x", "MAIL_USERNAME": "u", "MAIL_PASSWORD": "p"})
    assert load_config({"SECRET_KEY": "x", "MAIL_USERNAME": "u", "MAIL_USE_TLS": True})["MAIL_USE_TLS"] is True
