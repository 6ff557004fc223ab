"""Blacklists of firms and persons (黑名单 / 联合惩戒).

An entry names a firm (by USCC, linked to the registered firm when there is one) or a person (by
identity number: only its masked form and a keyed digest are stored, see ``idnumber.py``), with its
reason, source (court, 人民银行 list, joint-punishment list, scheme violation), the day it starts and
the day it expires (inclusive; None: until removed), who entered it and why.  It takes effect at
every gate that names it: a firm listed, or one whose legal representative, controller or major
shareholder is listed, cannot apply and cannot be approved (app/policies/gates.py).  Removal and
appeal are recorded in the entry's timeline.  A scheme violation found in a joint review is
*proposed* by a member and takes effect when the financial office confirms it; its expiry is the
scheme's ``blacklist_years`` (江津 art. 21: five years).
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import or_, select

from app.accounts.models import Organisation, OrgKind
from app.compensation.models import CompensationClaim
from app.core import audit, uscc
from app.core.db import db
from app.core.errors import Conflict, DomainError, NotAllowed, NotFound
from app.core.i18n import _
from app.core.timeutil import now, today
from app.credit import idnumber
from app.credit.models import BLACKLIST_SOURCES, PERSON_ROLES, BlacklistEntry, FirmPerson
from app.credit.recommended import add_months
from app.policies.models import Scheme

SUBJECT = "blacklist_entry"
MAX_IMPORT_ROWS = 5000


class BlacklistError(DomainError):
    pass


def can_manage(user) -> bool:
    return user.is_kind(OrgKind.financial_office, OrgKind.admin)


def _manager(user):
    if not can_manage(user):
        raise NotAllowed(_("只有金融办或系统管理员可以管理黑名单"))


# ---------------------------------------------------------------------------- persons of a firm

def record_person(user, firm: Organisation, role: str, name: str, id_number: str) -> FirmPerson:
    if not (user.organisation_id == firm.id or user.is_kind(OrgKind.admin)):
        raise NotAllowed(_("只能登记本企业的人员"))
    if role not in PERSON_ROLES:
        raise BlacklistError(_("请选择人员身份"), "role")
    name = (name or "").strip()
    if not name:
        raise BlacklistError(_("请填写姓名"), "name")
    problem = idnumber.problem(id_number)
    if problem:
        raise BlacklistError(problem, "id_number")
    key = idnumber.digest(id_number)
    if db.session.scalar(select(FirmPerson.id).where(FirmPerson.enterprise_id == firm.id, FirmPerson.role == role,
                                                     FirmPerson.id_digest == key)):
        raise Conflict(_("该人员已登记"))
    if role == "legal_representative":
        # one legal representative: a new one replaces the old (and lapses the firm's credit commitment)
        for old in db.session.scalars(select(FirmPerson).where(FirmPerson.enterprise_id == firm.id,
                                                               FirmPerson.role == role)):
            db.session.delete(old)
        if (firm.legal_representative or "") != name:
            audit.record("organisation", firm.id, "legal_representative_changed", user,
                         details={"from": firm.legal_representative, "to": name})
            firm.legal_representative = name
    p = FirmPerson(enterprise_id=firm.id, role=role, name=name, id_masked=idnumber.mask(id_number),
                   id_digest=key, created_by_id=user.id)
    db.session.add(p)
    db.session.flush()
    audit.record("organisation", firm.id, "person_recorded", user, f"{_(PERSON_ROLES[role])} {name}",
                 details={"person": p.id, "id": p.id_masked})
    return p


def remove_person(user, person_id: int, reason: str) -> None:
    p = db.session.get(FirmPerson, person_id)
    if p is None or not (user.organisation_id == p.enterprise_id or user.is_kind(OrgKind.admin)):
        raise NotFound(_("人员不存在"))
    audit.record("organisation", p.enterprise_id, "person_removed", user, (reason or "").strip(),
                 details={"person": f"{_(p.role_label)} {p.name}", "id": p.id_masked})
    db.session.delete(p)
    db.session.flush()


def persons_of(firm_id: int) -> list[FirmPerson]:
    return list(db.session.scalars(select(FirmPerson).where(FirmPerson.enterprise_id == firm_id)
                                   .order_by(FirmPerson.role, FirmPerson.id)))


# ---------------------------------------------------------------------------- what is in force

def firm_hits(firm: Organisation, on: date) -> list[BlacklistEntry]:
    conds = [BlacklistEntry.enterprise_id == firm.id]
    if firm.code:
        conds.append(BlacklistEntry.uscc == firm.code)
    rows = db.session.scalars(select(BlacklistEntry).where(BlacklistEntry.subject == "firm", or_(*conds),
                                                           BlacklistEntry.status == "active"))
    return [e for e in rows if e.in_force(on)]


def blacklisted_firm_ids(on: date) -> set[int]:
    """Registered firms with a firm entry in force on ``on`` (one query, for lists of firms)."""
    rows = db.session.execute(select(BlacklistEntry, Organisation.id).outerjoin(
        Organisation, or_(Organisation.id == BlacklistEntry.enterprise_id, Organisation.code == BlacklistEntry.uscc))
        .where(BlacklistEntry.subject == "firm", BlacklistEntry.status == "active"))
    return {org_id for e, org_id in rows if org_id is not None and e.in_force(on)}


def person_hits(firm: Organisation, on: date) -> list[tuple[FirmPerson, BlacklistEntry]]:
    persons = persons_of(firm.id)
    if not persons:
        return []
    by_key = {}
    for p in persons:
        by_key.setdefault(p.id_digest, []).append(p)
    rows = db.session.scalars(select(BlacklistEntry).where(BlacklistEntry.subject == "person",
                                                           BlacklistEntry.id_digest.in_(list(by_key)),
                                                           BlacklistEntry.status == "active"))
    return [(p, e) for e in rows if e.in_force(on) for p in by_key[e.id_digest]]


def firm_refusal(firm: Organisation, on: date) -> str | None:
    """Why the firm may not apply on ``on`` (it or one of its persons is listed), or None."""
    hits = firm_hits(firm, on)
    if hits:
        return _("企业已被列入黑名单：{r}").format(r="；".join(e.reason for e in hits))
    persons = person_hits(firm, on)
    if persons:
        return _("企业{who}已被列入黑名单").format(who="、".join(f"{_(p.role_label)}{p.name}" for p, _e in persons))
    return None


def person_descriptions(firm: Organisation, on: date) -> tuple[str, ...]:
    return tuple(f"{_(p.role_label)} {p.name}（{p.id_masked}，{_('至')} {e.expires_on or _('长期')}）：{e.reason}"
                 for p, e in person_hits(firm, on))


# ---------------------------------------------------------------------------- entering, removing

@dataclass
class EntryInput:
    subject: str                      # firm | person
    source: str
    reason: str
    basis: str = ""
    uscc: str = ""
    firm_name: str = ""
    person_name: str = ""
    id_number: str = ""
    starts_on: date | None = None
    expires_on: date | None = None
    scheme_id: int | None = None


def check_input(d: EntryInput) -> dict[str, str]:
    """Every problem of one entry as {field: message}."""
    errors: dict[str, str] = {}
    if d.subject not in ("firm", "person"):
        errors["subject"] = _("请选择企业或个人")
    if d.source not in BLACKLIST_SOURCES:
        errors["source"] = _("请选择来源")
    if not (d.reason or "").strip():
        errors["reason"] = _("请填写列入原因")
    if d.subject == "firm":
        problem = uscc.validate(d.uscc)
        if problem:
            errors["uscc"] = problem
        if not (d.firm_name or "").strip():
            errors["firm_name"] = _("请填写企业名称")
    elif d.subject == "person":
        if not (d.person_name or "").strip():
            errors["person_name"] = _("请填写姓名")
        problem = idnumber.problem(d.id_number)
        if problem:
            errors["id_number"] = problem
    if d.starts_on is None:
        errors["starts_on"] = _("请填写起始日期")
    if d.starts_on and d.expires_on and d.expires_on < d.starts_on:
        errors["expires_on"] = _("截止日期不能早于起始日期")
    return errors


def _expiry(d: EntryInput) -> date | None:
    if d.expires_on or not d.scheme_id:
        return d.expires_on
    scheme = db.session.get(Scheme, d.scheme_id)
    years = scheme.params.blacklist_years if scheme else None
    return add_months(d.starts_on, 12 * years) - timedelta(days=1) if years else None


def _build(d: EntryInput, user, status: str, **kw) -> BlacklistEntry:
    e = BlacklistEntry(subject=d.subject, source=d.source, reason=d.reason.strip(), basis=(d.basis or "").strip(),
                       starts_on=d.starts_on, expires_on=_expiry(d), status=status, scheme_id=d.scheme_id,
                       entered_by_id=user.id, **kw)
    if d.subject == "firm":
        e.uscc = d.uscc.strip().upper()
        e.firm_name = d.firm_name.strip()
        firm = db.session.scalar(select(Organisation).where(Organisation.code == e.uscc))
        e.enterprise_id = firm.id if firm is not None and firm.kind == OrgKind.enterprise.value else None
    else:
        e.person_name = d.person_name.strip()
        e.id_masked, e.id_digest = idnumber.mask(d.id_number), idnumber.digest(d.id_number)
    db.session.add(e)
    db.session.flush()
    return e


def add_entry(user, d: EntryInput) -> BlacklistEntry:
    _manager(user)
    errors = check_input(d)
    if errors:
        field, message = next(iter(errors.items()))
        raise BlacklistError(message, field)
    e = _build(d, user, "active", confirmed_by_id=user.id)
    audit.record(SUBJECT, e.id, "blacklist_entered", user, e.reason,
                 details={"who": e.who, "source": e.source, "basis": e.basis, "starts_on": e.starts_on,
                          "expires_on": e.expires_on})
    return e


def blacklist_firm(user, firm: Organisation, reason: str, source: str = "other", basis: str = "") -> BlacklistEntry:
    """A registered firm listed from its page (the administrator's former yes/no flag)."""
    if firm.kind != OrgKind.enterprise.value:
        raise BlacklistError(_("只有企业可以列入黑名单"))
    if firm_hits(firm, today()):
        raise Conflict(_("该企业已在黑名单中"))
    return add_entry(user, EntryInput(subject="firm", source=source, reason=reason or "", basis=basis,
                                      uscc=firm.code or "", firm_name=firm.name, starts_on=today()))


def remove(user, entry_id: int, reason: str) -> BlacklistEntry:
    _manager(user)
    e = db.session.get(BlacklistEntry, entry_id)
    if e is None:
        raise NotFound(_("黑名单记录不存在"))
    if e.status != "active":
        raise Conflict(_("该记录已不在有效状态"))
    reason = (reason or "").strip()
    if not reason:
        raise BlacklistError(_("请填写移出黑名单的原因"), "reason")
    e.status, e.removed_by_id, e.removed_at, e.removal_reason = "removed", user.id, now(), reason
    audit.record(SUBJECT, e.id, "blacklist_removed", user, reason, details={"who": e.who})
    return e


def unblacklist_firm(user, firm: Organisation, reason: str) -> list[BlacklistEntry]:
    hits = firm_hits(firm, today())
    if not hits:
        raise Conflict(_("该企业不在黑名单中"))
    return [remove(user, e.id, reason) for e in hits]


# ---------------------------------------------------------------------------- appeal

def can_appeal(user, e: BlacklistEntry) -> bool:
    return e.status == "active" and e.enterprise_id is not None and user.organisation_id == e.enterprise_id


def appeal(user, entry_id: int, text: str) -> BlacklistEntry:
    e = db.session.get(BlacklistEntry, entry_id)
    if e is None or not can_appeal(user, e):
        raise NotFound(_("黑名单记录不存在"))
    if e.appeal_status == "open":
        raise Conflict(_("申诉正在处理中"))
    text = (text or "").strip()
    if not text:
        raise BlacklistError(_("请写明申诉理由"), "text")
    e.appeal_text, e.appeal_at, e.appeal_status, e.appeal_decision = text, now(), "open", None
    audit.record(SUBJECT, e.id, "blacklist_appealed", user, text)
    return e


def decide_appeal(user, entry_id: int, outcome: str, reason: str) -> BlacklistEntry:
    _manager(user)
    e = db.session.get(BlacklistEntry, entry_id)
    if e is None:
        raise NotFound(_("黑名单记录不存在"))
    if e.appeal_status != "open":
        raise Conflict(_("没有待处理的申诉"))
    if outcome not in ("upheld", "rejected"):
        raise BlacklistError(_("请选择处理结果"), "outcome")
    reason = (reason or "").strip()
    if not reason:
        raise BlacklistError(_("请写明处理理由"), "reason")
    e.appeal_status, e.appeal_decision = outcome, reason
    audit.record(SUBJECT, e.id, "blacklist_appeal_" + outcome, user, reason)
    if outcome == "upheld":
        e.status, e.removed_by_id, e.removed_at, e.removal_reason = "removed", user.id, now(), reason
        audit.record(SUBJECT, e.id, "blacklist_removed", user, reason, details={"by_appeal": True})
    return e


# ---------------------------------------------------------------------------- proposed by a joint review

def can_propose(user, claim: CompensationClaim) -> bool:
    scheme = db.session.get(Scheme, claim.scheme_id)
    roles = set(scheme.params.joint_meeting_roles)
    return any(m.organisation_id == user.organisation_id and m.role in roles for m in scheme.members)


def propose_from_claim(user, claim_id: int, reason: str, basis: str = "") -> BlacklistEntry:
    claim = db.session.get(CompensationClaim, claim_id)
    if claim is None or not can_propose(user, claim):
        raise NotFound(_("补偿申请不存在"))
    firm = claim.loan.enterprise
    reason = (reason or "").strip()
    if not reason:
        raise BlacklistError(_("请写明违反政策规定的事实"), "reason")
    d = EntryInput(subject="firm", source="scheme_violation", reason=reason, basis=basis, uscc=firm.code or "",
                   firm_name=firm.name, starts_on=today(), scheme_id=claim.scheme_id)
    e = _build(d, user, "proposed", claim_id=claim.id)
    audit.record(SUBJECT, e.id, "blacklist_proposed", user, reason, details={"claim": claim.id, "who": e.who})
    return e


def confirm(user, entry_id: int, accept: bool, reason: str) -> BlacklistEntry:
    """The financial office confirms (the entry starts today) or declines a proposed entry."""
    if not user.is_kind(OrgKind.financial_office):
        raise NotAllowed(_("提议的黑名单由金融办确认"))
    e = db.session.get(BlacklistEntry, entry_id)
    if e is None:
        raise NotFound(_("黑名单记录不存在"))
    if e.status != "proposed":
        raise Conflict(_("该记录已处理"))
    reason = (reason or "").strip()
    if not reason:
        raise BlacklistError(_("请填写确认意见"), "reason")
    if accept:
        start = today()
        if e.expires_on is not None:
            e.expires_on = e.expires_on + (start - e.starts_on)
        e.starts_on, e.status, e.confirmed_by_id = start, "active", user.id
    else:
        e.status = "declined"
    audit.record(SUBJECT, e.id, "blacklist_confirmed" if accept else "blacklist_declined", user, reason)
    return e


# ---------------------------------------------------------------------------- imports (Excel)

IMPORT_COLUMNS = ("类型", "企业名称/姓名", "统一社会信用代码", "身份证号码", "来源", "列入原因", "起始日期", "截止日期")
_KIND = {"企业": "firm", "firm": "firm", "个人": "person", "person": "person"}
_SOURCE = {**{k: k for k in BLACKLIST_SOURCES},
           "法院": "court", "人民法院": "court", "人民银行": "pboc", "人行": "pboc",
           "联合惩戒": "joint_punishment", "违反政策": "scheme_violation", "其他": "other"}


def _cell_date(value) -> date | None | str:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return "bad"


def parse_import(data: bytes) -> tuple[list[EntryInput], list[str]]:
    """The rows of a joint-punishment list workbook and every problem as "第 n 行：…"."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds for a file that is not a workbook
        return [], [_("文件不是有效的 Excel（.xlsx）工作簿")]
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None or tuple(str(h or "").strip() for h in header[:len(IMPORT_COLUMNS)]) != IMPORT_COLUMNS:
        return [], [_("第 1 行应为表头：{cols}").format(cols="、".join(IMPORT_COLUMNS))]
    entries, errors = [], []
    for n, row in enumerate(rows, start=2):
        if n - 1 > MAX_IMPORT_ROWS:
            errors.append(_("一次最多导入 {n} 行").format(n=MAX_IMPORT_ROWS))
            break
        cells = list(row[:len(IMPORT_COLUMNS)]) + [None] * (len(IMPORT_COLUMNS) - len(row))
        if all(c in (None, "") for c in cells):
            continue
        kind, name, code, idno, source, reason, start, end = (c if not isinstance(c, str) else c.strip() for c in cells)
        starts, ends = _cell_date(start), _cell_date(end)
        row_errors = []
        if starts == "bad":
            row_errors.append(_("起始日期应为日期（如 2025-01-31）"))
            starts = None
        if ends == "bad":
            row_errors.append(_("截止日期应为日期（如 2025-01-31）"))
            ends = None
        d = EntryInput(subject=_KIND.get(str(kind or ""), ""), source=_SOURCE.get(str(source or ""), ""),
                       reason=str(reason or ""), uscc=str(code or ""), firm_name=str(name or ""),
                       person_name=str(name or ""), id_number=str(idno or ""), starts_on=starts or None,
                       expires_on=ends or None, basis=_("导入联合惩戒名单"))
        row_errors += list(check_input(d).values())
        if row_errors:
            errors.append(_("第 {n} 行：{problems}").format(n=n, problems="；".join(dict.fromkeys(row_errors))))
        else:
            entries.append(d)
    if not entries and not errors:
        errors.append(_("文件中没有数据行"))
    return entries, errors


def import_workbook(user, data: bytes) -> list[BlacklistEntry]:
    """All rows or none: any problem refuses the whole file with every problem listed."""
    _manager(user)
    entries, errors = parse_import(data)
    if errors:
        raise ImportRefused(errors)
    batch = uuid.uuid4().hex[:12]
    out = []
    for d in entries:
        e = _build(d, user, "active", confirmed_by_id=user.id, import_batch=batch)
        audit.record(SUBJECT, e.id, "blacklist_imported", user, e.reason, details={"batch": batch, "who": e.who})
        out.append(e)
    return out


class ImportRefused(DomainError):
    def __init__(self, errors: list[str]):
        super().__init__(_("文件有 {n} 处错误，未导入任何记录").format(n=len(errors)))
        self.errors = errors


def entries(status: str | None = None, limit: int = 1000) -> list[BlacklistEntry]:
    q = select(BlacklistEntry).order_by(BlacklistEntry.id.desc()).limit(limit)
    if status:
        q = q.where(BlacklistEntry.status == status)
    return list(db.session.scalars(q))


def entries_of_firm(firm_id: int) -> list[BlacklistEntry]:
    return list(db.session.scalars(select(BlacklistEntry).where(BlacklistEntry.enterprise_id == firm_id)
                                   .order_by(BlacklistEntry.id.desc())))
