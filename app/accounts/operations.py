from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.models import LoginAttempt, Organisation, OrgKind, Sector, User
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.timeutil import now
from app.core.uscc import validate as validate_uscc


class AccountError(DomainError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass
class LoginResult:
    user: User | None
    message: str = ""
    wait_seconds: float = 0


def attempt_login(username: str, password: str, remote_addr: str | None) -> LoginResult:
    """Check a login; repeated failures are slowed down (refused until a wait has passed) and logged."""
    cfg = current_app.config
    user = db.session.scalar(select(User).where(User.username == username))
    t = now()
    if user is not None and user.failed_logins >= cfg["LOGIN_THROTTLE_AFTER"] and user.last_failed_at:
        extra = user.failed_logins - cfg["LOGIN_THROTTLE_AFTER"] + 1
        wait = min(cfg["LOGIN_THROTTLE_SECONDS"] * extra, 900)
        remaining = (user.last_failed_at + timedelta(seconds=wait) - t).total_seconds()
        if remaining > 0:
            db.session.add(LoginAttempt(username=username, success=False, remote_addr=remote_addr, at=t))
            current_app.logger.warning("login throttled for %s from %s", username, remote_addr)
            return LoginResult(None, _("登录失败次数过多，请 {n} 秒后再试").format(n=int(remaining) + 1), wait_seconds=1)
    ok = user is not None and user.active and user.check_password(password)
    db.session.add(LoginAttempt(username=username, success=ok, remote_addr=remote_addr, at=t))
    if ok:
        user.failed_logins = 0
        user.last_failed_at = None
        return LoginResult(user)
    current_app.logger.warning("failed login for %s from %s", username, remote_addr)
    if user is not None:
        user.failed_logins += 1
        user.last_failed_at = t
    return LoginResult(None, _("用户名或密码错误"), wait_seconds=0.5)


def register_enterprise(*, firm_name, uscc, sector_id, legal_representative, contact_phone,
                        username, display_name, password) -> User:
    code = uscc.strip().upper()
    err = validate_uscc(code)
    if err:
        raise AccountError(err, "uscc")
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise AccountError(_("该统一社会信用代码已注册"), "uscc")
    if db.session.scalar(select(User.id).where(User.username == username.strip())):
        raise AccountError(_("用户名已被使用"), "username")
    if db.session.get(Sector, sector_id) is None:
        raise AccountError(_("请选择所属行业"), "sector_id")
    org = Organisation(kind=OrgKind.enterprise.value, name=firm_name.strip(), code=code, sector_id=sector_id,
                       legal_representative=legal_representative.strip(), contact_phone=contact_phone.strip())
    db.session.add(org)
    db.session.flush()
    user = User(username=username.strip(), display_name=display_name.strip(), organisation_id=org.id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_user(org: Organisation, username: str, display_name: str, password: str,
                is_supervisor: bool = False, email: str | None = None) -> User:
    user = User(username=username, display_name=display_name, organisation_id=org.id,
                is_supervisor=is_supervisor, email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
