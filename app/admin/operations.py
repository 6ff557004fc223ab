"""The administrator's operations: organisations, sectors, users, blacklist, schemes and their
members and parameters, reference rates, process versions.

Rules live here (tested without HTTP); each operation flushes, the request commits once.
A refused operation raises :class:`AdminError` naming the form field, before anything is written.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import Organisation, OrgKind, Sector, User
from app.accounts.names import PASSWORD_MIN_LENGTH, password_problem, username_key, username_problem
from app.accounts.operations import create_user as _create_user
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, stored
from app.core.uscc import validate as validate_uscc
from app.credit import blacklist as credit_blacklist
from app.fund import operations as fund_ops
from app.core.validation import MAX_JSON_DEPTH, bad_character, json_depth, strings_in
from app.policies import bindings
from app.policies.models import ReferenceRate, Scheme, SchemeMember, SchemeParamsHistory
from app.policies.presets import preset_codes, preset_params
from app.policies.params import COMMITTEE_ROLES, KNOWN_ROLES, ParamsInvalid, parse_params
from app.workflow import engine
from app.workflow import forms as workflow_forms
from app.workflow.models import ProcessCurrent, ProcessInstance, ProcessSpec

MIN_PASSWORD_LENGTH = PASSWORD_MIN_LENGTH     # the whole password rule: app/accounts/names.py
MEMBER_ROLES = KNOWN_ROLES          # a member's role is its organisation's kind
RATE_KINDS = ("pboc_benchmark", "lpr")


class AdminError(DomainError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------- organisations, sectors

def _code_taken(code: str, org_id: int | None) -> bool:
    q = select(Organisation.id).where(Organisation.code == code)
    if org_id is not None:
        q = q.where(Organisation.id != org_id)
    return db.session.scalar(q) is not None


def _check_org_code(kind: str, code: str | None, org_id: int | None) -> str | None:
    code = (code or "").strip() or None
    if kind == OrgKind.enterprise.value:
        code = (code or "").upper()
        err = validate_uscc(code)
        if err:
            raise AdminError(err, "code")
    if code and _code_taken(code, org_id):
        raise AdminError(_("该代码已被其他机构使用"), "code")
    return code


def _set_department_sectors(org: Organisation, sector_ids) -> None:
    wanted = set(sector_ids or [])
    for s in db.session.scalars(select(Sector)):
        if s.id in wanted:
            s.department_id = org.id
        elif s.department_id == org.id:
            s.department_id = None


def create_organisation(actor, *, kind: str, name: str, name_en: str = "", code: str | None = None,
                        sector_ids=None) -> Organisation:
    if kind not in {k.value for k in OrgKind}:
        raise AdminError(_("未知的机构类型"), "kind")
    code = _check_org_code(kind, code, None)
    org = Organisation(kind=kind, name=name.strip(), name_en=(name_en or "").strip(), code=code)
    db.session.add(org)
    db.session.flush()
    if kind == OrgKind.department.value:
        _set_department_sectors(org, sector_ids)
    audit.record("organisation", org.id, "created", actor, details={"kind": kind, "name": org.name, "code": code},
                 visible_to_enterprise=False)
    db.session.flush()
    return org


def org_in_use(org: Organisation) -> bool:
    """Has users or scheme memberships: its kind can no longer change."""
    return (db.session.scalar(select(User.id).where(User.organisation_id == org.id).limit(1)) is not None or
            db.session.scalar(select(SchemeMember.id).where(SchemeMember.organisation_id == org.id).limit(1))
            is not None)


def update_organisation(actor, org: Organisation, *, kind: str, name: str, name_en: str = "",
                        code: str | None = None, sector_ids=None) -> Organisation:
    if kind not in {k.value for k in OrgKind}:
        raise AdminError(_("未知的机构类型"), "kind")
    if kind != org.kind and org_in_use(org):
        raise AdminError(_("该机构已有用户或政策成员身份，不能更改机构类型"), "kind")
    code = _check_org_code(kind, code, org.id)
    before = {"kind": org.kind, "name": org.name, "name_en": org.name_en, "code": org.code}
    org.kind, org.name, org.name_en, org.code = kind, name.strip(), (name_en or "").strip(), code
    if kind == OrgKind.department.value:
        _set_department_sectors(org, sector_ids)
    else:
        _set_department_sectors(org, [])
    after = {"kind": org.kind, "name": org.name, "name_en": org.name_en, "code": org.code}
    audit.record("organisation", org.id, "updated", actor, visible_to_enterprise=False,
                 details={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    db.session.flush()
    return org


def department_sector_ids(org: Organisation) -> list[int]:
    return list(db.session.scalars(select(Sector.id).where(Sector.department_id == org.id)))


def _check_department(department_id):
    if department_id in (None, 0, ""):
        return None
    dept = db.session.get(Organisation, department_id)
    if dept is None or dept.kind != OrgKind.department.value:
        raise AdminError(_("请选择行业主管部门"), "department_id")
    return dept.id


def save_sector(sector: Sector | None, *, code: str, name: str, name_en: str = "",
                department_id=None) -> Sector:
    code = code.strip()
    q = select(Sector.id).where(Sector.code == code)
    if sector is not None:
        q = q.where(Sector.id != sector.id)
    if db.session.scalar(q) is not None:
        raise AdminError(_("行业代码已存在"), "code")
    dept_id = _check_department(department_id)
    if sector is None:
        sector = Sector(code=code, name=name.strip(), name_en=(name_en or "").strip(), department_id=dept_id)
        db.session.add(sector)
    else:
        sector.code, sector.name, sector.name_en, sector.department_id = \
            code, name.strip(), (name_en or "").strip(), dept_id
    db.session.flush()
    return sector


# ---------------------------------------------------------------------------- users

def _check_password(password: str, field="password", user_inputs=()):
    problem = password_problem(password, user_inputs)
    if problem:
        raise AdminError(problem, field)


def create_user(actor, org: Organisation, *, username: str, display_name: str, password: str,
                email: str | None = None, is_supervisor: bool = False) -> User:
    username = username.strip()
    problem = username_problem(username)
    if problem:
        raise AdminError(problem, "username")
    if db.session.scalar(select(User.id).where(User.username_key == username_key(username))) is not None:
        raise AdminError(_("用户名已被使用"), "username")
    _check_password(password, user_inputs=[username, display_name, email or "", org.name, org.code or ""])
    user = _create_user(org, username, display_name.strip(), password, is_supervisor=is_supervisor,
                        email=(email or "").strip() or None)
    audit.record("user", user.id, "created", actor, visible_to_enterprise=False,
                 details={"username": username, "organisation_id": org.id, "supervisor": is_supervisor})
    db.session.flush()
    return user


def set_user_active(actor, user: User, active: bool) -> User:
    if not active and user.id == actor.id:
        raise AdminError(_("不能停用自己的账号"))
    if user.active != active:
        user.active = active
        audit.record("user", user.id, "reactivated" if active else "deactivated", actor,
                     visible_to_enterprise=False)
    db.session.flush()
    return user


def reset_password(actor, user: User, password: str) -> User:
    """A new password chosen by an administrator; it ends every session of the user (``set_password``)."""
    _check_password(password, user_inputs=[user.username, user.display_name, user.email or "",
                                           user.organisation.name, user.organisation.code or ""])
    user.set_password(password)
    user.failed_logins = 0
    user.last_failed_at = None
    audit.record("user", user.id, "password_reset", actor, visible_to_enterprise=False)
    db.session.flush()
    return user


# ---------------------------------------------------------------------------- blacklist

def blacklist(actor, org: Organisation, reason: str) -> Organisation:
    """List a registered firm (an entry of app/credit/blacklist.py, source "other", no expiry)."""
    if org.kind != OrgKind.enterprise.value:
        raise AdminError(_("只有企业可以列入黑名单"))
    if not (reason or "").strip():
        raise AdminError(_("请填写列入黑名单的原因"), "reason")
    e = credit_blacklist.blacklist_firm(actor, org, reason.strip(), basis=_("系统管理员在企业页面列入"))
    audit.record("organisation", org.id, "blacklisted", actor, opinion=reason.strip(), details={"entry": e.id})
    db.session.flush()
    return org


def unblacklist(actor, org: Organisation, reason: str) -> Organisation:
    reason = (reason or "").strip()
    if not reason:
        raise AdminError(_("请填写移出黑名单的原因"), "reason")
    removed = credit_blacklist.unblacklist_firm(actor, org, reason)
    audit.record("organisation", org.id, "unblacklisted", actor, opinion=reason,
                 details={"previous_reason": "；".join(e.reason for e in removed)})
    db.session.flush()
    return org


# ---------------------------------------------------------------------------- schemes

def _normal(params_json: str) -> dict:
    """A stored parameter set with every parameter explicit (rows saved before the model held only
    the keys their preset wrote), so a diff shows changes, not defaults made explicit."""
    raw = json.loads(params_json)
    try:
        return parse_params(raw).model_dump(mode="json")
    except ParamsInvalid:
        return raw


def create_scheme(actor, *, preset: str, code: str, name: str = "", name_en: str = "") -> Scheme:
    if preset not in preset_codes():
        raise AdminError(_("未知的政策模板"), "preset")
    code = code.strip()
    if db.session.scalar(select(Scheme.id).where(Scheme.code == code)) is not None:
        raise AdminError(_("政策代码已存在"), "code")
    changes = {k: v.strip() for k, v in (("name", name), ("name_en", name_en)) if v.strip()}
    params = preset_params(preset, **changes)
    scheme = Scheme(code=code, preset=preset, params_version=1, active=not params.missing_for_go_live())
    scheme.set_params(params)
    db.session.add(scheme)
    db.session.flush()
    db.session.add(SchemeParamsHistory(scheme_id=scheme.id, version=1, params_json=scheme.params_json,
                                       changed_by_id=actor.id, note=_("由模板 {p} 创建").format(p=preset)))
    audit.record("scheme", scheme.id, "created", actor, details={"preset": preset, "code": code},
                 visible_to_enterprise=False)
    bindings.bind_preset(scheme, actor)
    if params.fund_size:
        fund_ops.post(scheme.id, "capital_injection", params.fund_size, actor=actor,
                      key=f"capital:{scheme.code}:initial", memo=stored(N_("初始注资（政策规定的基金规模）")))
    db.session.flush()
    return scheme


def go_live_problem(params) -> str | None:
    """Why a scheme with these parameters may not go live (accept applications), or None."""
    missing = params.missing_for_go_live()
    if missing:
        return _("以下参数尚未录入，政策不能启用（原文未规定，须由管理员录入）：{keys}").format(keys="、".join(missing))
    return None


def set_scheme_active(actor, scheme: Scheme, active: bool, note: str = "") -> Scheme:
    """Go live (accept applications) or stop; going live needs every parameter the seed leaves open."""
    db.session.refresh(scheme, with_for_update=True)
    if active:
        problem = go_live_problem(scheme.params)
        if problem:
            raise AdminError(problem, "params")
    if scheme.active == active:
        raise AdminError(_("政策已启用") if active else _("政策已停用"))
    scheme.active = active
    audit.record("scheme", scheme.id, "activated" if active else "deactivated", actor, opinion=(note or "").strip(),
                 visible_to_enterprise=False, details={"version": scheme.params_version})
    db.session.flush()
    return scheme


def add_member(actor, scheme: Scheme, org_id: int, role: str) -> SchemeMember:
    if role not in MEMBER_ROLES:
        raise AdminError(_("未知的成员角色"), "role")
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None:
        raise AdminError(_("请选择机构"), "organisation_id")
    if role not in COMMITTEE_ROLES and org.kind != role:
        raise AdminError(_("机构“{o}”的类型是{k}，不能担任该角色").format(o=org.name, k=org.kind_label),
                         "organisation_id")
    if scheme.member(org.id, role) is not None:
        raise AdminError(_("该机构已是本政策的此角色成员"), "organisation_id")
    m = SchemeMember(scheme_id=scheme.id, organisation_id=org.id, role=role)
    db.session.add(m)
    audit.record("scheme", scheme.id, "member_added", actor, visible_to_enterprise=False,
                 details={"organisation_id": org.id, "organisation": org.name, "role": role})
    db.session.flush()
    db.session.refresh(scheme)
    return m


def remove_member(actor, scheme: Scheme, member: SchemeMember) -> None:
    if member.scheme_id != scheme.id:
        raise AdminError(_("成员不属于该政策"))
    audit.record("scheme", scheme.id, "member_removed", actor, visible_to_enterprise=False,
                 details={"organisation_id": member.organisation_id, "organisation": member.organisation.name,
                          "role": member.role})
    db.session.delete(member)
    db.session.flush()
    db.session.refresh(scheme)


def parse_params_text(text: str) -> dict:
    """The JSON editor's text as an object, or :class:`AdminError` with the line and column."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise AdminError(_("JSON 嵌套过深（最多 {n} 层）").format(n=MAX_JSON_DEPTH), "params")
    try:
        params = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise AdminError(_("JSON 格式错误（第 {l} 行第 {c} 列）：{m}").format(l=exc.lineno, c=exc.colno, m=exc.msg),
                         "params") from exc
    except (ValueError, RecursionError):   # NaN/Infinity, or a nesting the depth count missed
        raise AdminError(_("JSON 中不能使用 NaN 或 Infinity，也不能嵌套过深"), "params") from None
    if any(bad_character(t) for t in strings_in(params)):
        raise AdminError(_("参数中不能包含控制字符"), "params")
    return params


def _refuse_constant(name):
    raise ValueError(name)


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):   # 1e400
        raise ValueError(text)
    return value


def update_params(actor, scheme: Scheme, params, note: str, expected_version: int | None = None) -> list[dict]:
    """Replace the scheme's parameters with a validated set: a new version and a history row.

    ``expected_version`` is the version the editor started from: if somebody saved in between,
    the edit is refused instead of silently overwriting theirs.  Returns the diff.
    """
    db.session.refresh(scheme, with_for_update=True)   # two editors: the second waits, then sees the new version
    if expected_version is not None and expected_version != scheme.params_version:
        raise AdminError(_("参数已被他人修改为第 {v} 版，请重新打开后再编辑").format(v=scheme.params_version), "params")
    try:
        parsed = parse_params(params)
    except ParamsInvalid as exc:
        err = AdminError(_("参数有误"), "params")
        err.errors = exc.errors
        raise err from None
    changes = diff_params(scheme.params.model_dump(mode="json"), parsed.model_dump(mode="json"))
    if not changes:
        raise AdminError(_("参数没有变化"), "params")
    if not (note or "").strip():
        raise AdminError(_("请说明修改原因"), "note")
    if scheme.active and go_live_problem(parsed):
        raise AdminError(go_live_problem(parsed) + _("；请先停用政策"), "params")
    has_history = db.session.scalar(select(SchemeParamsHistory.id).where(
        SchemeParamsHistory.scheme_id == scheme.id).limit(1)) is not None
    if not has_history:   # schemes made before history existed: keep the starting point for the diff
        db.session.add(SchemeParamsHistory(scheme_id=scheme.id, version=scheme.params_version,
                                           params_json=scheme.params_json, changed_by_id=None,
                                           note=_("修改前的参数")))
    scheme.params_version += 1
    scheme.set_params(parsed)
    db.session.add(SchemeParamsHistory(scheme_id=scheme.id, version=scheme.params_version,
                                       params_json=scheme.params_json, changed_by_id=actor.id,
                                       note=note.strip()))
    audit.record("scheme", scheme.id, "params_changed", actor, opinion=note.strip(), visible_to_enterprise=False,
                 details={"version": scheme.params_version, "keys": [c["key"] for c in changes]})
    db.session.flush()
    return changes


def _flatten(value, prefix="") -> dict:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def diff_params(old: dict, new: dict) -> list[dict]:
    """Changed keys (nested keys dotted): [{key, old, new}], in key order; absent keys show None."""
    a, b = _flatten(old), _flatten(new)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, _MISSING) != b.get(key, _MISSING):
            out.append({"key": key, "old": _show(a.get(key, _MISSING)), "new": _show(b.get(key, _MISSING))})
    return out


_MISSING = object()


def _show(v) -> str:
    if v is _MISSING:
        return "—"
    return json.dumps(v, ensure_ascii=False)


@dataclass
class HistoryRow:
    row: SchemeParamsHistory
    changed_by: User | None
    changes: list[dict]


def params_history(scheme: Scheme) -> list[HistoryRow]:
    """Newest first, each with its diff against the version before it."""
    rows = list(db.session.scalars(select(SchemeParamsHistory).where(SchemeParamsHistory.scheme_id == scheme.id)
                                   .order_by(SchemeParamsHistory.version, SchemeParamsHistory.id)))
    out, prev = [], None
    for r in rows:
        changes = diff_params(_normal(prev.params_json), _normal(r.params_json)) if prev else []
        out.append(HistoryRow(r, db.session.get(User, r.changed_by_id) if r.changed_by_id else None, changes))
        prev = r
    return list(reversed(out))


# ---------------------------------------------------------------------------- reference rates

def add_reference_rate(actor, *, kind: str, effective_from: date, min_months: int, max_months: int | None,
                       rate: Decimal, source: str = "") -> ReferenceRate:
    if kind not in RATE_KINDS:
        raise AdminError(_("未知的利率类型"), "kind")
    if rate != rate.quantize(Decimal("0.0001")):
        raise AdminError(_("利率最多保留四位小数"), "rate")
    if not Decimal(0) < rate < Decimal(100):
        raise AdminError(_("利率应在 0 到 100（%）之间"), "rate")
    if min_months < 0:
        raise AdminError(_("期限下限不能为负数"), "min_months")
    if max_months is not None and max_months <= min_months:
        raise AdminError(_("期限上限应大于下限"), "max_months")
    same = db.session.scalar(select(ReferenceRate.id).where(
        ReferenceRate.kind == kind, ReferenceRate.effective_from == effective_from,
        ReferenceRate.min_months == min_months,
        ReferenceRate.max_months.is_(None) if max_months is None else ReferenceRate.max_months == max_months))
    if same is not None:
        raise AdminError(_("该生效日期和期限档次的利率已存在；利率不能修改，请以新的生效日期录入"), "effective_from")
    row = ReferenceRate(kind=kind, effective_from=effective_from, min_months=min_months, max_months=max_months,
                        rate=rate, source=(source or "").strip())
    db.session.add(row)
    db.session.flush()
    audit.record("reference_rate", row.id, "added", actor, visible_to_enterprise=False,
                 details={"kind": kind, "effective_from": effective_from, "min_months": min_months,
                          "max_months": max_months, "rate": rate})
    db.session.flush()
    return row


def reference_rates() -> list[ReferenceRate]:
    return list(db.session.scalars(select(ReferenceRate).order_by(
        ReferenceRate.kind, ReferenceRate.effective_from, ReferenceRate.min_months)))


# ---------------------------------------------------------------------------- process versions

@dataclass
class SpecRow:
    spec: ProcessSpec
    instances: int
    open_instances: int
    current: bool = False


def process_versions() -> list[SpecRow]:
    counts = dict(db.session.execute(select(ProcessInstance.spec_id, func.count())
                                     .group_by(ProcessInstance.spec_id)).all())
    opened = dict(db.session.execute(select(ProcessInstance.spec_id, func.count())
                                     .where(ProcessInstance.completed.is_(False))
                                     .group_by(ProcessInstance.spec_id)).all())
    current = set(db.session.scalars(select(ProcessCurrent.spec_id)))
    specs = db.session.scalars(select(ProcessSpec).order_by(ProcessSpec.process_id, ProcessSpec.version.desc()))
    return [SpecRow(s, counts.get(s.id, 0), opened.get(s.id, 0), s.id in current) for s in specs]


def _audit_deploy(report: engine.DeployReport, actor, source: str) -> None:
    audit.record("process_specs", 0, "deployed", actor, visible_to_enterprise=False, details={
        "source": source,
        "new": [f"{r.process_id} v{r.version}" for r in report.new],
        "current_again": [f"{r.process_id} v{r.version}" for r in report.restored],
        "refused": [str(r) for r in report.refusals][:50]})
    db.session.flush()


def deploy_now(actor) -> engine.DeployReport:
    """Deploy bpmn/: each file checked and deployed or refused on its own; content identical to an
    older version makes that version current again."""
    report = engine.deploy_directory()
    _audit_deploy(report, actor, "bpmn/")
    return report


MAX_UPLOAD_FILES = 20


def deploy_uploads(files: list[tuple[str, bytes]], actor, takeover: bool = False) -> engine.DeployReport:
    """Deploy uploaded ``.bpmn`` and ``.form`` files (nothing is written to bpmn/: the version holds
    the file); forms first, since diagrams name them.  ``takeover``: the administrator deploys the
    diagrams as new versions of processes another file owns."""
    if not files:
        raise AdminError(_("请选择要部署的 .bpmn 文件"), "files")
    if len(files) > MAX_UPLOAD_FILES:
        raise AdminError(_("一次最多部署 {n} 个文件").format(n=MAX_UPLOAD_FILES), "files")
    named = []
    for filename, content in files:
        name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
        if (not name.lower().endswith((".bpmn", ".form")) or len(name) > 200 or name.startswith(".")
                or "\x00" in name):
            raise AdminError(_("只接受 .bpmn 或 .form 文件：{name}").format(name=name or "—"), "files")
        named.append((name, content))
    for name, content in named:
        if name.lower().endswith(".form"):
            try:
                workflow_forms.deploy_form(content, name)
            except DomainError as exc:
                raise AdminError(str(exc), "files") from exc
    report = engine.deploy_sources([(n, c) for n, c in named if n.lower().endswith(".bpmn")], takeover=takeover)
    _audit_deploy(report, actor, "upload" + (" (takeover)" if takeover else ""))
    return report

