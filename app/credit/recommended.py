"""The recommended list (推荐名单, 凌源 arts. 6-10; bpmn/recommended_list.bpmn).

A department screens a firm of its sector and nominates it to a scheme's list with the materials
art. 10 names (business licence, operations, tax compliance proof, credit report, loan purpose and
repayment plan) → the 领导小组办公室 reviews → the credit check → 公示 on the public page for the
scheme's ``list_notice_working_days`` working days, during which anyone may lodge an objection →
when the window has passed and every objection is resolved with a reason, the office lists the firm
(or not).  A listing is valid for ``list_review_months``; the office renews it on review or removes
it with a reason.  The approval gate asks :func:`listing_on` for the approval date.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.accounts.models import Organisation, OrgKind
from app.applications.models import Attachment
from app.core import audit, uploads
from app.core.db import db
from app.core.errors import Conflict, DomainError, NotAllowed, NotFound
from app.core.i18n import N_, _, name_param, stored
from app.core.timeutil import SHANGHAI, now, today
from app.core.workdays import calendar
from app.credit.models import ListEntry, ListNomination, ListObjection
from app.policies import bindings
from app.policies.models import Scheme
from app.workflow import engine

PROCESS = "recommended_list"
SUBJECT = "list_nomination"
ENTRY = "list_entry"
# the materials of art. 10 (the licence and the tax and credit documents are uploads)
MATERIALS = {
    "licence": N_("营业执照"),
    "tax_proof": N_("依法纳税、无拖欠税款记录的证明"),
    "credit_report": N_("企业信用报告"),
    "other": N_("其他资料"),
}
REQUIRED_MATERIALS = ("licence", "tax_proof", "credit_report")


class ListError(DomainError):
    pass


# ---------------------------------------------------------------------------- reading

def add_months(d: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, min(d.day, day))
        except ValueError:
            continue
    raise ValueError(d)


def list_schemes() -> list[Scheme]:
    """Active schemes whose loans need the recommended list."""
    return [s for s in db.session.scalars(select(Scheme).where(Scheme.active.is_(True)).order_by(Scheme.id))
            if s.params.require_recommended_list]


def listing_on(firm_id: int, scheme_id: int, on: date) -> ListEntry | None:
    """The firm's entry valid on ``on`` for the scheme, or None."""
    for e in db.session.scalars(select(ListEntry).where(ListEntry.enterprise_id == firm_id,
                                                        ListEntry.scheme_id == scheme_id)
                                .order_by(ListEntry.id.desc())):
        if e.valid_on(on):
            return e
    return None


def why_not_listed(firm_id: int, scheme_id: int, on: date) -> str:
    """Why the firm has no valid entry on ``on`` (for the gate's message)."""
    last = db.session.scalar(select(ListEntry).where(ListEntry.enterprise_id == firm_id,
                                                     ListEntry.scheme_id == scheme_id)
                             .order_by(ListEntry.id.desc()).limit(1))
    if last is None:
        pending = db.session.scalar(select(ListNomination).where(
            ListNomination.enterprise_id == firm_id, ListNomination.scheme_id == scheme_id)
            .order_by(ListNomination.id.desc()).limit(1))
        if pending is not None and pending.status not in ("listed", "rejected"):
            return _("推荐在办（{status}）").format(status=_(pending.status_label))
        return _("从未列入推荐名单")
    if last.removed_on is not None and last.removed_on <= on:
        return _("已于 {d} 移出推荐名单：{reason}").format(d=last.removed_on.isoformat(), reason=last.removal_reason or "")
    if on > last.valid_until:
        return _("名单有效期已于 {d} 届满，未复核续期").format(d=last.valid_until.isoformat())
    return _("审批日早于列入日期 {d}").format(d=last.listed_on.isoformat())


def in_notice(n: ListNomination, on: date) -> bool:
    return (n.status == "publicity" and n.notice_from is not None
            and n.notice_from <= on <= n.notice_until)


def public_notices(on: date) -> list[ListNomination]:
    rows = db.session.scalars(select(ListNomination).where(ListNomination.status == "publicity")
                              .order_by(ListNomination.notice_from, ListNomination.id))
    return [n for n in rows if in_notice(n, on)]


def public_listed(on: date, limit: int = 500) -> list[ListEntry]:
    rows = db.session.scalars(select(ListEntry).where(ListEntry.removed_on.is_(None))
                              .order_by(ListEntry.listed_on.desc(), ListEntry.id.desc()).limit(limit))
    return [e for e in rows if e.valid_on(on)]


def materials_of(nomination_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(
        Attachment.subject_type == SUBJECT, Attachment.subject_id == nomination_id).order_by(Attachment.id)))


def office_of(scheme: Scheme) -> list[Organisation]:
    role = scheme.params.list_office_role
    return scheme.member_orgs(role) if role else []


def can_view(n: ListNomination, user) -> bool:
    """The nominating department, the firm, the scheme's office and credit checker, oversight."""
    if user.is_kind("admin", "pboc", "regulator", "finance_bureau"):
        return True
    if user.organisation_id in (n.department_id, n.enterprise_id):
        return True
    scheme = db.session.get(Scheme, n.scheme_id)
    roles = {r for r in (scheme.params.list_office_role, scheme.params.list_credit_check_role) if r}
    return any(m.organisation_id == user.organisation_id and m.role in roles for m in scheme.members)


def is_office(user, scheme: Scheme) -> bool:
    role = scheme.params.list_office_role
    return bool(role) and scheme.member(user.organisation_id, role) is not None


# ---------------------------------------------------------------------------- nomination

def nominate(user, scheme_id: int, firm_id: int, screening_opinion: str, operations: str, loan_plan: str,
             files: dict[str, list[tuple[str, bytes]]], written: list[str]) -> ListNomination:
    """A department nominates a firm of its sector; starts the process."""
    if not user.is_kind(OrgKind.department):
        raise NotAllowed(_("只有行业主管部门可以推荐企业进入推荐名单"))
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or not scheme.active or not scheme.params.require_recommended_list:
        raise ListError(_("请选择实行推荐名单制度的政策"), "scheme_id")
    p = scheme.params
    if not p.list_notice_working_days or not p.list_review_months:
        raise ListError(_("该政策未设定公示期或名单复核周期，请联系管理员"), "scheme_id")
    firm = db.session.get(Organisation, firm_id)
    if firm is None or firm.kind != OrgKind.enterprise.value or not firm.is_verified:
        raise ListError(_("请选择已认证的企业"), "firm_id")
    if firm.sector is None or firm.sector.department_id != user.organisation_id:
        raise NotAllowed(_("只能推荐本部门主管行业的企业"))
    offices = office_of(scheme)
    checkers = scheme.member_orgs(p.list_credit_check_role) if p.list_credit_check_role else []
    if not offices or not checkers:
        raise ListError(_("该政策未配置领导小组办公室或信用核查单位，请联系管理员"), "scheme_id")
    open_ = db.session.scalar(select(ListNomination.id).where(
        ListNomination.scheme_id == scheme.id, ListNomination.enterprise_id == firm.id,
        ListNomination.status.not_in(("listed", "rejected"))))
    if open_ is not None:
        raise Conflict(_("该企业已有在办的推荐"))
    if listing_on(firm.id, scheme.id, today()) is not None:
        raise Conflict(_("该企业已在推荐名单内"))
    texts = {"screening_opinion": screening_opinion, "operations": operations, "loan_plan": loan_plan}
    for name, value in texts.items():
        if not (value or "").strip():
            raise ListError(_("请填写此项"), name)
    for kind in REQUIRED_MATERIALS:
        if not files.get(kind):
            raise ListError(_("请上传{what}").format(what=_(MATERIALS[kind])), kind)
    for items in files.values():
        for name, data in items:
            uploads.inspect(data, name)
    n = ListNomination(scheme_id=scheme.id, enterprise_id=firm.id, department_id=user.organisation_id,
                       nominated_by_id=user.id, screening_opinion=screening_opinion.strip(),
                       operations=operations.strip(), loan_plan=loan_plan.strip(), status="office_review")
    db.session.add(n)
    db.session.flush()
    for kind, items in files.items():
        for name, data in items:
            sf = uploads.store(data, name)
            written.append(sf.stored_name)
            db.session.add(Attachment(subject_type=SUBJECT, subject_id=n.id, kind=kind,
                                      original_name=sf.original_name, content_type=sf.content_type, size=sf.size,
                                      sha256=sf.sha256, stored_name=sf.stored_name, uploaded_by_id=user.id))
    instance = bindings.start_for(scheme, PROCESS, SUBJECT, n.id, {
        "title": stored(N_("{firm} · {scheme} · 推荐名单"), firm=name_param(firm), scheme=name_param(scheme)),
        "nomination_id": n.id, "scheme_id": scheme.id, "firm_org_id": firm.id,
        "department_org_id": user.organisation_id, "office_org_id": offices[0].id,
        "credit_org_id": checkers[0].id, "office_decision": None, "credit_decision": None,
        "listing_decision": None, "notice_ends_at": None,
    })
    n.instance_id = instance.id
    audit.record(SUBJECT, n.id, "list_nominated", user, screening_opinion.strip())
    db.session.flush()
    return n


def _task(task_id, user, form_key):
    ht = engine.task_for_update(task_id, user, form_key, SUBJECT)
    n = db.session.get(ListNomination, ht.subject_id)
    if n is None:
        raise NotFound(_("推荐记录不存在"))
    return ht, n


def _decide(decision: str, allowed: tuple[str, ...], opinion: str) -> str:
    if decision not in allowed:
        raise ListError(_("请选择结论"), "decision")
    opinion = (opinion or "").strip()
    if not opinion:
        raise ListError(_("请填写意见"), "opinion")
    return opinion


def office_review(task_id: int, user, decision: str, opinion: str) -> ListNomination:
    ht, n = _task(task_id, user, "list_office_review")
    opinion = _decide(decision, ("approve", "reject"), opinion)
    n.office_opinion = opinion
    n.status = "credit_check" if decision == "approve" else "rejected"
    audit.record(SUBJECT, n.id, "list_office_approved" if decision == "approve" else "list_office_rejected",
                 user, opinion)
    engine.complete(ht.id, user, {"office_decision": decision})
    return n


def notice_window(start: date, days: int) -> tuple[date, date, datetime]:
    """公示 from ``start`` through the ``days``-th working day after it; the timer fires at the start
    of the next day (Shanghai)."""
    until = calendar().add_working_days(start, days)
    ends_at = datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
    return start, until, ends_at


def credit_check(task_id: int, user, decision: str, opinion: str) -> ListNomination:
    ht, n = _task(task_id, user, "list_credit_check")
    opinion = _decide(decision, ("pass", "fail"), opinion)
    n.credit_opinion = opinion
    data = {"credit_decision": decision}
    if decision == "pass":
        days = db.session.get(Scheme, n.scheme_id).params.list_notice_working_days
        n.notice_from, n.notice_until, ends_at = notice_window(today(), days)
        n.status = "publicity"
        data["notice_ends_at"] = ends_at.isoformat()
        audit.record(SUBJECT, n.id, "list_credit_passed", user, opinion,
                     details={"notice_from": n.notice_from, "notice_until": n.notice_until})
    else:
        n.status = "rejected"
        audit.record(SUBJECT, n.id, "list_credit_failed", user, opinion)
    engine.complete(ht.id, user, data)
    return n


# ---------------------------------------------------------------------------- 公示 and objections

def lodge_objection(nomination_id: int, name: str, contact: str, text: str, address: str) -> ListObjection:
    """Anyone, without logging in, while the nomination is in its notice window."""
    n = db.session.get(ListNomination, nomination_id)
    if n is None or not in_notice(n, today()):
        raise NotFound(_("该企业不在公示期内"))
    contact, text = (contact or "").strip(), (text or "").strip()
    if not contact:
        raise ListError(_("请留下联系方式，以便告知处理结果"), "contact")
    if not text:
        raise ListError(_("请写明异议内容和理由"), "text")
    o = ListObjection(nomination_id=n.id, name=(name or "").strip(), contact=contact, text=text,
                      address=(address or "")[:64])
    db.session.add(o)
    db.session.flush()
    audit.record(SUBJECT, n.id, "list_objection_lodged", None, text, details={"objection": o.id},
                 visible_to_enterprise=False)
    return o


def resolve_objection(objection_id: int, user, outcome: str, reason: str) -> ListObjection:
    o = db.session.get(ListObjection, objection_id)
    if o is None:
        raise NotFound(_("异议不存在"))
    n = o.nomination
    if not is_office(user, db.session.get(Scheme, n.scheme_id)):
        raise NotAllowed(_("只有领导小组办公室可以处理异议"))
    if o.outcome is not None:
        raise Conflict(_("该异议已处理"))
    if n.status != "publicity":
        raise Conflict(_("推荐已办结，不能再处理异议"))
    if outcome not in ("upheld", "rejected"):
        raise ListError(_("请选择处理结果"), "outcome")
    reason = (reason or "").strip()
    if not reason:
        raise ListError(_("请写明处理理由"), "reason")
    o.outcome, o.outcome_reason, o.resolved_by_id, o.resolved_at = outcome, reason, user.id, now()
    audit.record(SUBJECT, n.id, "list_objection_upheld" if outcome == "upheld" else "list_objection_rejected",
                 user, reason, details={"objection": o.id}, visible_to_enterprise=False)
    return o


def listing(task_id: int, user, decision: str, opinion: str) -> ListNomination:
    """After the window: list the firm, or not; every objection must have been resolved."""
    ht, n = _task(task_id, user, "list_listing")
    opinion = _decide(decision, ("list", "reject"), opinion)
    on = today()
    if n.notice_until is None or on <= n.notice_until:
        raise ListError(_("公示期至 {d} 止，期满后方可决定").format(d=n.notice_until))
    open_ = [o for o in n.objections if o.outcome is None]
    if open_:
        raise ListError(_("还有 {n} 件异议未处理，请先逐件处理并说明理由").format(n=len(open_)))
    n.decision_opinion = opinion
    if decision == "list":
        months = db.session.get(Scheme, n.scheme_id).params.list_review_months
        e = ListEntry(scheme_id=n.scheme_id, enterprise_id=n.enterprise_id, nomination_id=n.id, listed_on=on,
                      valid_until=add_months(on, months) - timedelta(days=1))
        db.session.add(e)
        db.session.flush()
        n.status = "listed"
        audit.record(SUBJECT, n.id, "list_listed", user, opinion, details={"entry": e.id})
        audit.record(ENTRY, e.id, "list_listed", user, opinion, details={"valid_until": e.valid_until})
    else:
        n.status = "rejected"
        audit.record(SUBJECT, n.id, "list_not_listed", user, opinion)
    engine.complete(ht.id, user, {"listing_decision": decision})
    return n


# ---------------------------------------------------------------------------- review and removal

def _entry_for_office(entry_id: int, user) -> ListEntry:
    e = db.session.get(ListEntry, entry_id)
    if e is None:
        raise NotFound(_("名单记录不存在"))
    if not is_office(user, db.session.get(Scheme, e.scheme_id)):
        raise NotAllowed(_("只有领导小组办公室可以复核名单"))
    if e.removed_on is not None:
        raise Conflict(_("该企业已移出名单"))
    return e


def renew(entry_id: int, user, opinion: str) -> ListEntry:
    """Periodic review passed: valid for another review period from today."""
    e = _entry_for_office(entry_id, user)
    opinion = (opinion or "").strip()
    if not opinion:
        raise ListError(_("请填写复核意见"), "opinion")
    months = db.session.get(Scheme, e.scheme_id).params.list_review_months or 12
    on = today()
    e.reviewed_on = on
    e.valid_until = add_months(on, months) - timedelta(days=1)
    audit.record(ENTRY, e.id, "list_renewed", user, opinion, details={"valid_until": e.valid_until})
    return e


def remove(entry_id: int, user, reason: str) -> ListEntry:
    e = _entry_for_office(entry_id, user)
    reason = (reason or "").strip()
    if not reason:
        raise ListError(_("请写明移出名单的理由"), "reason")
    e.removed_on, e.removal_reason, e.removed_by_id = today(), reason, user.id
    audit.record(ENTRY, e.id, "list_removed", user, reason)
    return e


def entries_for_office(user) -> list[ListEntry]:
    schemes = [s.id for s in list_schemes() if is_office(user, s)]
    if not schemes:
        return []
    return list(db.session.scalars(select(ListEntry).where(ListEntry.scheme_id.in_(schemes))
                                   .order_by(ListEntry.valid_until, ListEntry.id)))


def nominations_for(user) -> list[ListNomination]:
    q = select(ListNomination).order_by(ListNomination.id.desc()).limit(500)
    org = user.organisation
    if user.is_kind(OrgKind.department):
        q = q.where(ListNomination.department_id == org.id)
    elif user.is_kind(OrgKind.enterprise):
        q = q.where(ListNomination.enterprise_id == org.id)
    elif not user.is_kind("admin", "pboc", "regulator", "finance_bureau"):
        schemes = [s.id for s in list_schemes() if is_office(user, s) or (
            s.params.list_credit_check_role and s.member(org.id, s.params.list_credit_check_role))]
        q = q.where(ListNomination.scheme_id.in_(schemes or [-1]))
    return list(db.session.scalars(q))
