from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.accounts.models import LoginAttempt, Organisation, OrgKind, Sector, User
from app.accounts.names import password_problem, username_key, username_problem
from app.core import audit
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


def attempt_login(username: str, password: str, remote_addr: str | None) -> LoginResult:
    """Check a login and log the attempt.  Unknown, inactive and wrong-password logins get the same
    answer after the same argon2 work.  Throttling is not here: see app/accounts/throttle.py."""
    username = (username or "")[:80]
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is not None and user.active:
        ok = user.check_password(password)
    else:
        User.burn_password_check(password)
        ok = False
    t = now()
    db.session.add(LoginAttempt(username=username, success=ok, remote_addr=remote_addr, at=t))
    if ok:
        user.failed_logins = 0
        user.last_failed_at = None
        return LoginResult(user)
    current_app.logger.warning("failed login for %r from %s", username, remote_addr)
    if user is not None:
        user.failed_logins += 1
        user.last_failed_at = t
    return LoginResult(None, _("用户名或密码错误"))


def check_new_username(username: str, field: str = "username") -> str:
    """The username, stripped, if it may be created; else AccountError (format, or taken in any case/width)."""
    username = (username or "").strip()
    problem = username_problem(username)
    if problem:
        raise AccountError(problem, field)
    if db.session.scalar(select(User.id).where(User.username_key == username_key(username))) is not None:
        raise AccountError(_("用户名已被使用"), field)
    return username


def check_new_password(password: str, user_inputs=(), field: str = "password") -> None:
    problem = password_problem(password, user_inputs)
    if problem:
        raise AccountError(problem, field)


def change_password(user: User, current: str, new: str) -> User:
    """The user's own password change; ends every other session (the caller starts a new one)."""
    if not user.check_password(current or ""):
        raise AccountError(_("当前密码不正确"), "current")
    check_new_password(new, _own_words(user), "password")
    user.set_password(new)                      # raises the session epoch
    user.failed_logins = 0
    user.last_failed_at = None
    audit.record("user", user.id, "password_changed", user, visible_to_enterprise=False)
    db.session.flush()
    return user


def _own_words(user: User) -> list[str]:
    org = user.organisation
    return [user.username, user.display_name, user.email or "", org.name if org else "", org.code if org else ""]


def logout(user: User) -> None:
    """End every session of ``user`` (this one and any copy of its cookie)."""
    user.end_sessions()
    db.session.flush()


def remember_language(user: User, code: str) -> None:
    """The language the user chose: its e-mail notifications are written in it too."""
    if user.locale != code:
        user.locale = code
        db.session.flush()


def register_enterprise(*, firm_name, uscc, sector_id, legal_representative, contact_phone,
                        username, display_name, password, business_scope: str = "") -> User:
    code = uscc.strip().upper()
    err = validate_uscc(code)
    if err:
        raise AccountError(err, "uscc")
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise AccountError(_("该统一社会信用代码已注册"), "uscc")
    username = check_new_username(username)
    sector = db.session.get(Sector, sector_id)
    if sector is None:
        raise AccountError(_("请选择所属行业"), "sector_id")
    check_new_password(password, [username, display_name, firm_name, code])
    # the claim to the USCC waits for the sector's department (or an administrator) to verify it
    org = Organisation(kind=OrgKind.enterprise.value, name=firm_name.strip(), code=code, sector_id=sector.id,
                       legal_representative=legal_representative.strip(), contact_phone=contact_phone.strip(),
                       business_scope=(business_scope or "").strip() or None, verification="pending")
    db.session.add(org)
    db.session.flush()
    user = User(username=username, display_name=display_name.strip(), organisation_id=org.id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("organisation", org.id, "registered", user, visible_to_enterprise=True,
                 details={"uscc": code, "sector_id": sector.id})
    db.session.flush()
    return user


def can_verify(actor: User, org: Organisation) -> bool:
    """An administrator verifies any firm; a department the firms of the sectors it heads."""
    if org.kind != OrgKind.enterprise.value:
        return False
    if actor.is_kind(OrgKind.admin):
        return True
    return (actor.is_kind(OrgKind.department) and org.sector is not None
            and org.sector.department_id == actor.organisation_id)


def firms_to_verify(actor: User) -> list[Organisation]:
    q = select(Organisation).where(Organisation.kind == OrgKind.enterprise.value,
                                   Organisation.verification == "pending").order_by(Organisation.created_at)
    if not actor.is_kind(OrgKind.admin):
        q = q.join(Sector, Organisation.sector_id == Sector.id).where(
            Sector.department_id == actor.organisation_id)
    return list(db.session.scalars(q))


def decide_verification(actor: User, org: Organisation, verified: bool, opinion: str = "") -> Organisation:
    """The department (or an administrator) verifies a firm's claim to its USCC, or refuses it (with a reason)."""
    if not can_verify(actor, org):
        raise AccountError(_("无权审核该企业"))
    if org.verification != "pending":
        raise AccountError(_("该企业已审核"))
    opinion = (opinion or "").strip()
    if not verified and not opinion:
        raise AccountError(_("请填写不予认证的原因"), "opinion")
    org.verification = "verified" if verified else "refused"
    audit.record("organisation", org.id, "verified" if verified else "verification_refused", actor,
                 opinion=opinion)
    db.session.flush()
    return org


def create_user(org: Organisation, username: str, display_name: str, password: str,
                is_supervisor: bool = False, email: str | None = None) -> User:
    user = User(username=username, display_name=display_name, organisation_id=org.id,
                is_supervisor=is_supervisor, email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
