"""Issuing, revoking and checking API tokens (administrators issue and revoke; app/api/models.py)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.accounts.models import Organisation
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError, NotAllowed, NotFound
from app.core.i18n import _
from app.core.timeutil import now
from app.api.models import ApiToken

SUBJECT = "api_token"
PREFIX = "zx_"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue(org_id: int, name: str, admin) -> tuple[ApiToken, str]:
    """A new token for the organisation; the plain token is returned once and never stored."""
    if not admin.is_kind("admin"):
        raise NotAllowed(_("只有系统管理员可以签发接口令牌"))
    org = db.session.get(Organisation, org_id)
    if org is None or org.kind in ("admin", "enterprise"):
        raise DomainError(_("只能为合作银行、政府部门和信息报送单位签发令牌"), "organisation_id")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写用途"), "name")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organisation_id=org.id, name=name[:80], prefix=raw[:10], token_hash=digest(raw),
                     created_by_id=admin.id, created_at=now())
    db.session.add(token)
    db.session.flush()
    audit.record(SUBJECT, token.id, "api_token_issued", admin, details={"organisation": org.name, "name": token.name,
                                                                        "prefix": token.prefix},
                 visible_to_enterprise=False)
    return token, raw


def revoke(token_id: int, admin) -> ApiToken:
    if not admin.is_kind("admin"):
        raise NotAllowed(_("只有系统管理员可以吊销接口令牌"))
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("令牌不存在"))
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by_id = now(), admin.id
        audit.record(SUBJECT, token.id, "api_token_revoked", admin, details={"prefix": token.prefix},
                     visible_to_enterprise=False)
        db.session.flush()
    return token


def authenticate(raw: str | None) -> ApiToken | None:
    """The active token with this text, or None."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(raw)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def all_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))
