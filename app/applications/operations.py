"""Loan-application rules: submit, department review, supplement, bank decision, filing.

Each operation changes state, writes the timeline, advances the workflow through the adapter
and flushes; the caller (a request or a job) commits once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, bindparam, select

from app.accounts.models import OVERSIGHT_KINDS, Organisation, OrgKind, Sector
from app.applications.models import Attachment, CreditAccessLog, CreditConsent, LoanApplication
from app.core import audit, uploads
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, localname, name_param, shown, source_language, showing_source_language, stored
from app.core.money import fmt_yuan, yuan
from app.core.sequences import reference_no
from app.core.timeutil import now, today
from app.credit import blacklist, commitments, recommended, sources as credit_sources
from app.loans.models import Filing, Loan
from app.notifications.messages import named, pack
from app.notifications.operations import notify_org
from app.policies.gates import LoanFacts, check_gates, rate_cap
from app.policies.models import Scheme, SchemeMember
from app.policies.rates import KIND_LABELS, NoReferenceRate, reference_rate
from app.policies import bindings
from app.workflow import engine
from app.workflow.models import HumanTask

SUBJECT = "loan_application"


class OperationError(DomainError):
    """A business rule refused the action; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ helpers

def _store_files(files, user, subject_type: str, subject_id: int, kind: str, written: list[str]):
    for original_name, data in files:
        sf = uploads.store(data, original_name)
        written.append(sf.stored_name)
        db.session.add(Attachment(subject_type=subject_type, subject_id=subject_id, kind=kind,
                                  original_name=sf.original_name, content_type=sf.content_type,
                                  size=sf.size, sha256=sf.sha256, stored_name=sf.stored_name,
                                  uploaded_by_id=user.id))


def check_files(files) -> None:
    """Validate all files before anything is written (an invalid file stores nothing)."""
    for original_name, data in files:
        uploads.inspect(data, original_name)


def attachments_of(subject_type: str, subject_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(
        Attachment.subject_type == subject_type, Attachment.subject_id == subject_id).order_by(Attachment.id)))


def department_for(sector: Sector) -> Organisation:
    if sector.department_id is None:
        raise OperationError(_("行业“{sector}”尚未指定主管部门，请联系管理员").format(sector=localname(sector)), "sector")
    return sector.department


def _tell_firm(app_: LoanApplication, event, title: str, body: str = "", **args) -> None:
    """Notify the applying firm (inbox and e-mail) of a decision on its application, in this transaction;
    keyed by the timeline event, so each decision notifies once."""
    db.session.flush()
    notify_org(app_.enterprise_id, f"event:{event.id}", "decision", title, body, f"/applications/{app_.id}",
               pack({"no": app_.no, **args}))


# ------------------------------------------------------------------ submit

@dataclass
class ApplicationInput:
    scheme_id: int
    sector_id: int
    amount: Decimal
    term_months: int
    purpose: str
    activity: str
    repayment_plan: str
    repayment_source: str
    preferred_bank_id: int | None
    consent_bank_id: int
    consent_valid_until: date
    consent_purpose: str
    credit_rating: str | None = None
    first_loan: bool = True


def submit_application(user, data: ApplicationInput, licence_files, statement_files,
                       written: list[str]) -> LoanApplication:
    if not user.is_kind(OrgKind.enterprise):
        raise OperationError(_("只有企业用户可以提交贷款需求"))
    firm = user.organisation
    refusal = blacklist.firm_refusal(firm, today())
    if refusal:
        raise OperationError(_("{why}，不能提交申请").format(why=refusal))
    scheme = db.session.get(Scheme, data.scheme_id)
    if scheme is None or not scheme.active:
        raise OperationError(_("请选择有效的风险补偿政策"), "scheme_id")
    if scheme.params.missing_for_go_live():
        raise OperationError(_("该政策的分担比例等参数尚未录入，暂不受理申请"), "scheme_id")
    sector = db.session.get(Sector, data.sector_id)
    if sector is None:
        raise OperationError(_("请选择所属行业"), "sector_id")
    if firm.sector_id is not None and sector.id != firm.sector_id:
        # the sector (and so the reviewing department) is the firm's registered one, not a free choice
        raise OperationError(_("只能按本企业登记的所属行业提交；行业有变化请联系行业主管部门或系统管理员"), "sector_id")
    banks = {m.organisation_id for m in scheme.members if m.role == "bank"}
    if data.preferred_bank_id and data.preferred_bank_id not in banks:
        raise OperationError(_("意向银行不是该政策的合作银行"), "preferred_bank_id")
    if data.consent_bank_id not in banks:
        raise OperationError(_("授权查询的银行不是该政策的合作银行"), "consent_bank_id")
    ended = {m.organisation_id for m in scheme.members if m.role == "bank" and m.ended_at is not None}
    if data.consent_bank_id in ended or data.preferred_bank_id in ended:
        raise OperationError(_("区政府已停止与该银行的合作，请选择其他合作银行"), "consent_bank_id")
    direct = scheme.params.application_route == "direct_to_bank"
    if direct:
        # the application goes straight to this bank (黔江 art.10): a suspended bank could not approve it
        chosen = next((m for m in scheme.members if m.role == "bank" and m.organisation_id == data.consent_bank_id),
                      None)
        refusal = held_bank_refusal(chosen)
        if refusal:
            raise OperationError(refusal, "consent_bank_id")
    if data.consent_valid_until < today():
        raise OperationError(_("授权有效期不能早于今天"), "consent_valid_until")
    if not licence_files:
        raise OperationError(_("请上传营业执照"), "business_licence")
    if not statement_files:
        raise OperationError(_("请上传财务报表"), "financial_statements")
    check_files(licence_files + statement_files)
    department = department_for(sector)

    app_ = LoanApplication(
        no=reference_no("ZX"), scheme_id=scheme.id, enterprise_id=firm.id,
        sector_id=sector.id, department_id=department.id, preferred_bank_id=data.preferred_bank_id,
        amount=yuan(data.amount), term_months=data.term_months, purpose=data.purpose.strip(),
        activity=data.activity, repayment_plan=data.repayment_plan.strip(),
        repayment_source=data.repayment_source.strip(), credit_rating=data.credit_rating,
        first_loan=data.first_loan, status="submitted", created_at=now(), updated_at=now(),
        # 黔江 art.10: the application and the credit-query authorisation go to the bank itself
        recommended_bank_id=data.consent_bank_id if direct else None)
    db.session.add(app_)
    db.session.flush()
    _store_files(licence_files, user, SUBJECT, app_.id, "business_licence", written)
    _store_files(statement_files, user, SUBJECT, app_.id, "financial_statements", written)
    db.session.add(CreditConsent(enterprise_id=firm.id, bank_id=data.consent_bank_id, application_id=app_.id,
                                 purpose=data.consent_purpose.strip() or f"贷款申请 {app_.no} 贷前调查",
                                 valid_until=data.consent_valid_until, signed_by_id=user.id))
    audit.record(SUBJECT, app_.id, "submitted", user, details={
        "amount": str(app_.amount), "term_months": app_.term_months, "department": department.name}
        if not direct else {"amount": str(app_.amount), "term_months": app_.term_months,
                            "bank": db.session.get(Organisation, data.consent_bank_id).name})
    start = {"title": stored(N_("{no} · {firm} · {amount} 元"), no=app_.no, firm=name_param(firm),
                            amount=fmt_yuan(app_.amount)),
             "application_id": app_.id, "enterprise_org_id": firm.id, "department_org_id": department.id,
             "scheme_id": scheme.id}
    if direct:
        start["bank_org_id"] = data.consent_bank_id
    instance = bindings.start_for(scheme, "loan_application", SUBJECT, app_.id, start)
    app_.instance_id = instance.id
    db.session.flush()
    return app_


# ------------------------------------------------------------------ department

def department_review(task_id: int, user, decision: str, opinion: str, bank_id: int | None) -> LoanApplication:
    ht = engine.task_for_update(task_id, user, "department_review", SUBJECT)
    app_, member, bank = _application_and_bank(ht.subject_id, bank_id)
    opinion = (opinion or "").strip()
    if decision not in ("recommend", "return", "reject"):
        raise OperationError(_("请选择审核结论"), "decision")
    if not opinion:
        raise OperationError(_("请填写审核意见（经营状况、信用状况、行业支持方向）"), "opinion")
    data = {"dept_decision": decision}
    # a bank given is one of the scheme's cooperating banks, whatever the decision (the form offers no other)
    if bank_id and bank is None:
        raise OperationError(_("请选择推荐的合作银行"), "bank_id")
    if decision == "recommend":
        if bank is None:
            raise OperationError(_("请选择推荐的合作银行"), "bank_id")
        refusal = held_bank_refusal(member)
        if refusal:
            raise OperationError(refusal, "bank_id")
        app_.recommended_bank = bank        # the loaded row: the caller's message needs no query
        app_.status = "recommended"
        data["bank_org_id"] = bank_id
    elif decision == "return":
        app_.status = "returned"
    else:
        app_.status = "rejected"
        app_.reject_reason = opinion
    app_.department_opinion = opinion
    app_.updated_at = now()
    ev = audit.record(SUBJECT, app_.id, f"department_{decision}", user, opinion,
                      details={"bank": bank.name} if decision == "recommend" else {})
    if decision == "return":
        _tell_firm(app_, ev, N_("贷款申请 {no} 已退回，请补充材料"), N_("{dept}的意见：{opinion}"),
                   dept=named(user.organisation), opinion=opinion)
    elif decision == "reject":
        _tell_firm(app_, ev, N_("贷款申请 {no} 未获推荐"), N_("{dept}的意见：{opinion}"),
                   dept=named(user.organisation), opinion=opinion)
    engine.complete(ht.id, user, data)
    return app_


def held_banks(scheme: Scheme) -> list[SchemeMember]:
    """The scheme's cooperating banks that may not take new loans now: suspended (黔江: NPL ratio, until
    the rectification is accepted) or whose cooperation was ended (江津 art.10)."""
    return [m for m in scheme.members if m.role == "bank" and (m.suspended or m.ended_at is not None)]


def bank_choices(scheme: Scheme) -> list[tuple[int, str]]:
    """The scheme's cooperating banks as (id, label) choices, a held bank marked in its label (已暂停 /
    已停止合作) so whoever chooses sees it before choosing."""
    held = {m.organisation_id: m for m in held_banks(scheme)}
    return [(o.id, localname(o) + ((" — " + (_("已停止合作") if held[o.id].ended_at else _("已暂停")))
                                   if o.id in held else "")) for o in scheme.member_orgs("bank")]


def held_bank_refusal(member: SchemeMember | None) -> str | None:
    """Why a department may not recommend this bank (the approval gate would refuse its loan), or None."""
    if member is None or not (member.suspended or member.ended_at is not None):
        return None
    name = localname(member.organisation)
    if member.ended_at is not None:
        text = _("{bank}在该政策中已被停止合作，不再受理新的贷款，请选择其他合作银行").format(bank=name)
    else:
        text = _("{bank}在该政策中已被暂停开展业务，暂停期间不能批准新的贷款，请选择其他合作银行").format(bank=name)
    return text + (_("（{reason}）").format(reason=shown(member.suspended_reason)) if member.suspended_reason else "")


def _application_and_bank(application_id: int, bank_id: int | None
                          ) -> tuple[LoanApplication, SchemeMember | None, Organisation | None]:
    """The application and, if ``bank_id`` is one of its scheme's cooperating banks, its membership (whether
    it is suspended or ended) and the bank, in one query."""
    if not bank_id:
        return db.session.get(LoanApplication, application_id), None, None
    return tuple(db.session.execute(_APPLICATION_AND_BANK, {"application_id": application_id,
                                                            "bank_id": bank_id}).one())


# built once: every department review runs it, and building a statement costs about as much as running it
_APPLICATION_AND_BANK = (
    select(LoanApplication, SchemeMember, Organisation)
    .outerjoin(SchemeMember, and_(SchemeMember.scheme_id == LoanApplication.scheme_id, SchemeMember.role == "bank",
                                  SchemeMember.organisation_id == bindparam("bank_id")))
    .outerjoin(Organisation, Organisation.id == SchemeMember.organisation_id)
    .where(LoanApplication.id == bindparam("application_id")))


def enterprise_supplement(task_id: int, user, note: str, files, written: list[str]) -> LoanApplication:
    ht, app_ = _task_and_application(task_id, user, "enterprise_supplement")
    note = (note or "").strip()
    if not note and not files:
        raise OperationError(_("请填写补充说明或上传补充材料"), "note")
    check_files(files)
    _store_files(files, user, SUBJECT, app_.id, "supplement", written)
    app_.status = "submitted"
    app_.updated_at = now()
    audit.record(SUBJECT, app_.id, "supplemented", user, note, details={"files": len(files)})
    engine.complete(ht.id, user, {"dept_decision": None})
    return app_


# ------------------------------------------------------------------ bank

def claim(task_id: int, user):
    ht = db.session.get(HumanTask, task_id)
    if ht is None or ht.org_id != user.organisation_id:
        raise OperationError(_("无权认领该待办"))
    engine.lock_for(ht)
    if ht.status != "open":
        raise OperationError(_("该待办已处理完毕"))
    if ht.claimed_by_id and ht.claimed_by_id != user.id:
        raise OperationError(_("该待办已由 {who} 认领").format(who=ht.claimed_by.display_name))
    ht.claimed_by_id = user.id
    ht.claimed_at = now()
    audit.record(ht.subject_type, ht.subject_id, "claimed", user, visible_to_enterprise=False)
    db.session.flush()
    return ht


def release(task_id: int, user):
    ht = db.session.get(HumanTask, task_id)
    if ht is None or ht.org_id != user.organisation_id:
        raise OperationError(_("无权操作该待办"))
    engine.lock_for(ht)
    if ht.claimed_by_id is None:
        raise OperationError(_("该待办尚未被认领"))
    if ht.claimed_by_id != user.id and not user.is_supervisor:
        raise OperationError(_("只有认领人或主管可以释放该待办"))
    holder = ht.claimed_by.display_name
    ht.claimed_by_id = None
    ht.claimed_at = None
    audit.record(ht.subject_type, ht.subject_id, "released", user, details={"holder": holder},
                 visible_to_enterprise=False)
    db.session.flush()
    return ht


@dataclass
class Approval:
    contract_no: str
    amount: Decimal
    annual_rate: Decimal
    term_months: int
    disbursed_on: date
    product: str
    outside_scheme: bool = False
    joint_guarantee: bool = False
    pure_credit: bool = True
    term_reason: str = ""


def gate_facts(app_: LoanApplication, a: Approval):
    scheme = app_.scheme
    params = scheme.params
    bank_member = scheme.member(app_.recommended_bank_id, "bank")
    ref = None
    label = KIND_LABELS.get(params.reference_rate_kind, "")
    try:
        ref = reference_rate(params.reference_rate_kind, a.term_months, a.disbursed_on).rate
    except NoReferenceRate:
        ref = None
    firm = app_.enterprise
    on = today()                       # the approval date
    firm_entries = blacklist.firm_hits(firm, on)
    listed = recommended.listing_on(firm.id, scheme.id, on) is not None if params.require_recommended_list else True
    committed, commitment_reason = commitments.gate_fact(firm) if params.require_credit_commitment else (True, "")
    credit = credit_sources.facts_of(firm, on)   # the loaded data, never the firm's own declaration
    return params, LoanFacts(
        amount=a.amount, annual_rate=a.annual_rate, term_months=a.term_months, disbursed_on=a.disbursed_on,
        activity=app_.activity, reference_rate=ref, reference_label=label,
        firm_blacklisted=bool(firm_entries), firm_blacklist_reason="；".join(e.reason for e in firm_entries),
        persons_blacklisted=blacklist.person_descriptions(firm, on),
        listed=listed, listed_reason="" if listed else recommended.why_not_listed(firm.id, scheme.id, on),
        commitment_valid=committed, commitment_reason=commitment_reason,
        bank_suspended=bool(bank_member and bank_member.suspended and bank_member.ended_at is None),
        bank_ended=bool(bank_member and bank_member.ended_at is not None),
        bank_ended_reason=(bank_member.suspended_reason or "") if bank_member else "",
        firm_business_scope=firm.business_scope or "", term_reason=a.term_reason or "",
        bank_suspended_reason=shown(bank_member.suspended_reason) if bank_member else "",
        scheme_paused=scheme.paused, scheme_paused_reason=shown(scheme.paused_reason),
        credit_rating=credit.rating, credit_rating_source=credit.rating_source, declared_rating=app_.credit_rating,
        credit_report=credit.has_report, dishonesty_records=tuple(credit.dishonesty),
        whitelisted=app_.recommended_bank_id is not None,
        first_loan=app_.first_loan, product=a.product, joint_guarantee=a.joint_guarantee,
        pure_credit=a.pure_credit)


def preview_gates(app_: LoanApplication, a: Approval):
    params, facts = gate_facts(app_, a)
    return check_gates(params, facts)


def bank_decide(task_id: int, user, decision: str, reason: str = "", approval: Approval | None = None,
                opinion: str = ""):
    ht, app_ = _task_and_application(task_id, user, "bank_due_diligence")
    if ht.claimed_by_id != user.id:
        raise OperationError(_("请先认领该待办再处理"))
    if decision == "decline":
        reason = (reason or "").strip()
        if not reason:
            raise OperationError(_("拒绝贷款必须向企业说明原因"), "reason")
        app_.status = "declined"
        app_.decline_reason = reason
        app_.updated_at = now()
        ev = audit.record(SUBJECT, app_.id, "bank_declined", user, reason)
        _tell_firm(app_, ev, N_("贷款申请 {no} 未获银行批准"), N_("{bank}的理由：{reason}"),
                   bank=named(user.organisation), reason=reason)
        engine.complete(ht.id, user, {"bank_decision": "decline"})
        return app_, None
    if decision != "approve" or approval is None:
        raise OperationError(_("请选择贷款决定"), "decision")

    scheme = app_.scheme
    params = scheme.params
    if params.product(approval.product) is None:
        raise OperationError(_("请选择该政策下的贷款产品"), "product")
    _params, facts = gate_facts(app_, approval)
    report = check_gates(params, facts)          # in the user's language, for the refusal below
    if report.hard_failures:
        raise OperationError(_("；").join(r.message for r in report.hard_failures))
    if report.soft_failures and not approval.outside_scheme:
        raise OperationError(_("不符合政策条件，不能作为风险补偿贷款批准：{reasons}。如仍需放款，请勾选“政策外自担风险发放”，"
                               "该笔贷款将不享受风险补偿。").format(reasons=_("；").join(r.message for r in report.soft_failures)))
    if not showing_source_language():     # the stored reasons are written in the source language
        with source_language():
            report = preview_gates(app_, approval)
    loan = Loan(no=reference_no("DK"), application_id=app_.id, scheme_id=scheme.id,
                bank_id=app_.recommended_bank_id, enterprise_id=app_.enterprise_id, sector_id=app_.sector_id,
                contract_no=approval.contract_no.strip(), product=approval.product, amount=yuan(approval.amount),
                annual_rate=approval.annual_rate, term_months=approval.term_months,
                disbursed_on=approval.disbursed_on, outstanding_principal=yuan(approval.amount),
                status="filing", eligible=report.eligible,
                eligibility_json=json.dumps([r.__dict__ for r in report.results], ensure_ascii=False),
                policy_version=scheme.params_version, reference_rate=facts.reference_rate,
                rate_cap=rate_cap(params, facts.reference_rate), approved_by_id=user.id, created_at=now(),
                joint_guarantee=approval.joint_guarantee, pure_credit=approval.pure_credit,
                term_reason=(approval.term_reason or "").strip() or None)
    db.session.add(loan)
    db.session.flush()
    recipients = scheme.member_orgs(*params.filing_recipient_roles)
    if not recipients:
        raise OperationError(_("该政策未配置备案接收单位，请联系管理员"))
    for org in recipients:
        db.session.add(Filing(loan_id=loan.id, recipient_id=org.id))
    app_.status = "approved"
    app_.updated_at = now()
    ev = audit.record(SUBJECT, app_.id, "bank_approved", user, opinion, details={
        "loan_no": loan.no, "contract_no": loan.contract_no, "amount": str(loan.amount),
        "annual_rate": str(loan.annual_rate), "term_months": loan.term_months,
        "eligible": loan.eligible, "not_met": [r.message for r in report.soft_failures],
        "joint_guarantee": loan.joint_guarantee, "pure_credit": loan.pure_credit, "term_reason": loan.term_reason})
    _tell_firm(app_, ev, N_("贷款申请 {no} 已获批准"), N_("{bank}批准贷款 {loan}，金额 {amount} 元，待备案"),
               bank=named(user.organisation), loan=loan.no, amount=f"{loan.amount:,}")
    engine.complete(ht.id, user, {"bank_decision": "approve", "loan_id": loan.id,
                                  "filing_recipients": [o.id for o in recipients]})
    return app_, loan


# ------------------------------------------------------------------ filing

def acknowledge_filing(task_id: int, user, note: str = ""):
    ht, app_ = _task_and_application(task_id, user, "filing_ack")
    loan = db.session.scalar(select(Loan).where(Loan.application_id == app_.id))
    filing = db.session.scalar(select(Filing).where(Filing.loan_id == loan.id, Filing.recipient_id == user.organisation_id))
    if filing is None:
        raise OperationError(_("本单位不是该笔贷款的备案接收单位"))
    filing.acknowledged_by_id = user.id
    filing.acknowledged_at = now()
    filing.note = (note or "").strip()
    audit.record(SUBJECT, app_.id, "filing_acknowledged", user, filing.note,
                 details={"recipient": user.organisation.name})
    result = engine.complete(ht.id, user, {"filing_ack_by": user.organisation_id})
    if result.instance.completed:
        app_.status = "filed"
        loan.status = "active"
        ev = audit.record(SUBJECT, app_.id, "filed", None, details={"loan_no": loan.no})
        _tell_firm(app_, ev, N_("贷款 {loan} 已完成备案"), N_("贷款申请 {no} 的贷款已向各备案单位备案"), loan=loan.no)
    app_.updated_at = now()
    db.session.flush()
    return app_, loan


# ------------------------------------------------------------------ credit data

def consent_for(application: LoanApplication, bank_id: int, day: date | None = None) -> CreditConsent | None:
    """The firm's authorisation that covers this application, for this bank, on this day.

    An authorisation is given with one application (黔江 art.10: the financing application
    together with the written authorisation): it opens the credit data for that application's
    due diligence only, within its period — never for the firm's other applications.
    """
    day = day or today()
    return db.session.scalar(select(CreditConsent).where(
        CreditConsent.application_id == application.id, CreditConsent.enterprise_id == application.enterprise_id,
        CreditConsent.bank_id == bank_id, CreditConsent.revoked_at.is_(None), CreditConsent.valid_until >= day)
        .order_by(CreditConsent.valid_until.desc()).limit(1))


def open_credit_data(user, application: LoanApplication):
    """A bank officer opens a firm's credit data for one application: needs that application's
    valid consent; every attempt is logged with the purpose (the application's due diligence)."""
    consent = consent_for(application, user.organisation_id) if user.is_kind(OrgKind.bank) else None
    if consent is not None and application.recommended_bank_id != user.organisation_id:
        consent = None   # the bank is not (or no longer) the one doing this application's due diligence
    granted = consent is not None
    db.session.add(CreditAccessLog(consent_id=consent.id if consent else None, enterprise_id=application.enterprise_id,
                                   user_id=user.id, bank_id=user.organisation_id if user.is_kind("bank") else None,
                                   what="企业信用信息（信用黔江）", purpose=f"贷前调查 {application.no}",  # source language
                                   granted=granted, at=now()))
    db.session.flush()
    if not granted:
        raise OperationError(_("没有该企业对本笔贷款申请的有效征信查询授权，不能查看其信用信息"))
    return consent, credit_sources.records_of(application.enterprise)


# ------------------------------------------------------------------ access

def _task_and_application(task_id: int, user, form_key: str):
    ht = engine.task_for_update(task_id, user, form_key, SUBJECT)
    return ht, db.session.get(LoanApplication, ht.subject_id)


def visible_applications(user):
    """The query of applications this user may see."""
    q = select(LoanApplication)
    org = user.organisation
    if org.kind == "enterprise":
        q = q.where(LoanApplication.enterprise_id == org.id)
    elif org.kind == "department":
        q = q.where(LoanApplication.department_id == org.id)
    elif org.kind == "bank":
        q = q.where(LoanApplication.recommended_bank_id == org.id)
    elif org.kind in ("service_centre", "guarantee"):
        q = q.join(Loan, Loan.application_id == LoanApplication.id).join(Filing, Filing.loan_id == Loan.id) \
             .where(Filing.recipient_id == org.id)
    elif org.kind not in OVERSIGHT_KINDS:
        q = q.where(False)
    return q.order_by(LoanApplication.created_at.desc())
