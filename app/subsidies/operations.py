"""Interest subsidies (贴息, 永川 seed 004 lines 83, 95): apply → bank confirms → department reviews →
finance bureau reviews and pays from the programme's budget (bpmn/interest_subsidy.bpmn).

The rules a request cannot get around live here, under locks and unique keys:

* one live application per loan, programme and period (``SubsidyApplication.open_key`` unique);
* one payment per loan, programme and period (``SubsidyEntry.key`` unique, checked under the budget lock);
* never beyond the budget: the payment takes the budget's lock (``SELECT … FOR UPDATE``), reads the
  balance from the append-only ledger and refuses an amount above it; a check constraint
  (``balance_after >= 0``) backs this up.

Operations flush; the request commits once.
"""
from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import OrgKind, Sector
from app.core import audit
from app.core.db import db
from app.core.errors import Conflict, NotAllowed, NotFound
from app.core.i18n import N_, _, stored
from app.core.money import FEN, MoneyError, fmt_yuan, yuan
from app.core.timeutil import now, today
from app.loans.models import Loan
from app.policies import bindings
from app.policies.models import Scheme
from app.policies.params import SubsidyProgramme
from app.subsidies import rules
from app.subsidies.models import (INFLOW, OUTFLOW, GuaranteeFeeSubsidy, SubsidyApplication, SubsidyBudget,
                                  SubsidyEntry)
from app.subsidies.rules import SubsidyError
from app.workflow import engine

PROCESS = "interest_subsidy"
SUBJECT = "subsidy_application"
OVERSIGHT = ("admin", "pboc", "regulator")


class InsufficientBudget(SubsidyError):
    def __init__(self, balance: Decimal, amount: Decimal):
        super().__init__(_("贴息预算余额不足：当前余额 {balance} 元，本次贴息 {amount} 元，差额 {gap} 元。请先下达预算。").format(
            balance=fmt_yuan(balance), amount=fmt_yuan(amount), gap=fmt_yuan(amount - balance)))


# ---------------------------------------------------------------------------- reading

def _money(value, field: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, (float, bool)) or value is None or str(value).strip() == "":
        raise SubsidyError(_("请填写金额"), field)
    try:
        amt = yuan(value)
    except MoneyError:
        raise SubsidyError(_("金额格式不正确：单位为元，最多两位小数（分）"), field) from None
    if amt <= 0 if positive else amt < 0:
        raise SubsidyError(_("金额必须大于零"), field)
    if amt >= Decimal("1000000000000"):
        raise SubsidyError(_("金额过大"), field)
    return amt


def programmes(scheme: Scheme) -> tuple[SubsidyProgramme, ...]:
    return scheme.params.subsidy_programmes


def subsidy_schemes() -> list[Scheme]:
    """Schemes with at least one subsidy programme."""
    return [s for s in db.session.scalars(select(Scheme).order_by(Scheme.id)) if s.params.subsidy_programmes]


def payment_key(a: SubsidyApplication) -> str:
    return f"subsidy:{a.scheme_id}:{a.programme}:{a.loan_id}:{a.period}"


def budget(scheme_id: int, programme: str, *, lock: bool = False) -> SubsidyBudget:
    """The programme's budget row, created on first use; ``lock=True`` takes the budget's lock."""
    q = select(SubsidyBudget).where(SubsidyBudget.scheme_id == scheme_id, SubsidyBudget.programme == programme)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(q)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SubsidyBudget(scheme_id=scheme_id, programme=programme, created_at=now()))
        except IntegrityError:
            pass   # created by a concurrent transaction
        row = db.session.scalar(q)
    return row


def balance(budget_id: int) -> Decimal:
    signed = case((SubsidyEntry.direction == INFLOW, SubsidyEntry.amount), else_=-SubsidyEntry.amount)
    v = db.session.scalar(select(func.coalesce(func.sum(signed), 0)).where(SubsidyEntry.budget_id == budget_id))
    return Decimal(str(v or 0)).quantize(FEN)


def entries(budget_id: int, limit: int = 500) -> list[SubsidyEntry]:
    return list(db.session.scalars(select(SubsidyEntry).where(SubsidyEntry.budget_id == budget_id)
                                   .order_by(SubsidyEntry.id.desc()).limit(limit)))


def is_finance(user, scheme: Scheme) -> bool:
    return user.is_kind(OrgKind.finance_bureau) and scheme.member(user.organisation_id, "finance_bureau") is not None


def can_view_budget(user, scheme: Scheme) -> bool:
    return user.is_kind("admin") or is_finance(user, scheme)


def applications_for(user, limit: int = 500) -> list[SubsidyApplication]:
    q = select(SubsidyApplication).order_by(SubsidyApplication.id.desc()).limit(limit)
    org = user.organisation_id
    if user.is_kind(*OVERSIGHT):
        pass
    elif user.is_kind(OrgKind.enterprise):
        q = q.where(SubsidyApplication.enterprise_id == org)
    elif user.is_kind(OrgKind.bank):
        q = q.where(SubsidyApplication.bank_id == org)
    elif user.is_kind(OrgKind.department):
        q = q.where(SubsidyApplication.department_id == org)
    elif user.is_kind(OrgKind.finance_bureau):
        q = q.where(SubsidyApplication.finance_id == org)
    else:
        return []
    return list(db.session.scalars(q))


def loans_for_applicant(user, limit: int = 500) -> list[Loan]:
    """The applicant's own loans (firm: borrowed; bank: lent) in schemes with subsidy programmes."""
    schemes = [s.id for s in subsidy_schemes()]
    if not schemes:
        return []
    q = select(Loan).where(Loan.scheme_id.in_(schemes), Loan.status != "filing").order_by(Loan.id.desc()).limit(limit)
    if user.is_kind(OrgKind.enterprise):
        q = q.where(Loan.enterprise_id == user.organisation_id)
    elif user.is_kind(OrgKind.bank):
        q = q.where(Loan.bank_id == user.organisation_id)
    else:
        return []
    return list(db.session.scalars(q))


def guarantee_fees(scheme_id: int, limit: int = 500) -> list[GuaranteeFeeSubsidy]:
    return list(db.session.scalars(select(GuaranteeFeeSubsidy).where(GuaranteeFeeSubsidy.scheme_id == scheme_id)
                                   .order_by(GuaranteeFeeSubsidy.id.desc()).limit(limit)))


# ---------------------------------------------------------------------------- applying

def department_of(loan: Loan) -> int | None:
    """The department that reviews the loan's subsidies: the one that recommended it, else the
    department of its sector (a loan recorded without an application, e.g. through the bank API)."""
    if loan.application is not None:
        return loan.application.department_id
    sector = db.session.get(Sector, loan.sector_id) if loan.sector_id else None
    return sector.department_id if sector is not None else None


def apply(user, loan_id: int, programme: str, period: str, interest_paid, principal, note: str = "") -> SubsidyApplication:
    """The firm or its bank applies for one period's subsidy with the interest actually paid."""
    if not user.is_kind(OrgKind.enterprise, OrgKind.bank):
        raise NotAllowed(_("只有企业或其贷款银行可以申请贴息"))
    loan = db.session.get(Loan, loan_id) if isinstance(loan_id, int) else None
    if loan is None or user.organisation_id not in (loan.enterprise_id, loan.bank_id):
        raise SubsidyError(_("请选择本单位的贷款"), "loan_id")
    if loan.status == "filing":
        raise SubsidyError(_("贷款尚未备案完成，不能申请贴息"), "loan_id")
    scheme = db.session.get(Scheme, loan.scheme_id)
    prog = scheme.params.programme(programme)
    if prog is None:
        raise SubsidyError(_("请选择该贷款所属政策的贴息项目"), "programme")
    missing = prog.missing()
    if missing:
        raise SubsidyError(_("贴息项目“{name}”尚未录入：{keys}，请联系管理员").format(
            name=prog.name, keys="、".join(missing)), "programme")
    activity = loan.application.activity if loan.application is not None else None
    why = rules.eligible(prog, loan.product, activity)
    if why:
        raise SubsidyError(why, "programme")
    period = rules.normal_period(prog.period, period)
    start, end = rules.period_bounds(prog.period, period)
    if end >= today():
        raise SubsidyError(_("期间 {p} 尚未结束，结束后按实付利息申请").format(p=period), "period")
    if end < loan.disbursed_on:
        raise SubsidyError(_("期间 {p} 在贷款发放日 {d} 之前").format(p=period, d=loan.disbursed_on.isoformat()), "period")
    interest = _money(interest_paid, "interest_paid")
    principal_amt = _money(principal, "principal")
    if principal_amt > loan.amount:
        raise SubsidyError(_("计息本金不能超过贷款金额 {a} 元").format(a=fmt_yuan(loan.amount)), "principal")
    department_id = department_of(loan)
    finance = scheme.member_orgs("finance_bureau")
    if department_id is None or not finance:
        raise SubsidyError(_("该贷款没有主管部门或政策未配置财政局，请联系管理员"), "loan_id")
    a = SubsidyApplication(scheme_id=scheme.id, loan_id=loan.id, programme=prog.code, period=period,
                           period_start=start, period_end=end, interest_declared=interest,
                           principal_declared=principal_amt, status="bank_confirm",
                           applicant_org_id=user.organisation_id, applied_by_id=user.id, applied_at=now(),
                           bank_id=loan.bank_id, enterprise_id=loan.enterprise_id, department_id=department_id,
                           finance_id=finance[0].id, note=(note or "").strip())
    a.open_key = f"{loan.id}:{prog.code}:{period}"
    if db.session.scalar(select(SubsidyEntry.id).where(SubsidyEntry.key == payment_key(a))) is not None:
        raise Conflict(_("该贷款 {p} 期间的“{name}”已拨付，不能重复申请").format(p=period, name=prog.name))
    if db.session.scalar(select(SubsidyApplication.id).where(SubsidyApplication.open_key == a.open_key)) is not None:
        raise Conflict(_("该贷款 {p} 期间的“{name}”已有申请在办").format(p=period, name=prog.name))
    try:
        with db.session.begin_nested():
            db.session.add(a)
    except IntegrityError:   # a concurrent application of the same period won
        raise Conflict(_("该贷款 {p} 期间的“{name}”已有申请在办").format(p=period, name=prog.name)) from None
    instance = bindings.start_for(scheme, PROCESS, SUBJECT, a.id, {
        "title": stored(N_("{loan} · {programme} · {period}"), loan=loan.no, period=period,
                        programme={"name": prog.name, "name_en": prog.name_en}),
        "application_id": a.id, "scheme_id": scheme.id, "bank_org_id": loan.bank_id,
        "department_org_id": department_id, "finance_org_id": finance[0].id,
        "bank_decision": None, "department_decision": None, "finance_decision": None,
    })
    a.instance_id = instance.id
    audit.record(SUBJECT, a.id, "subsidy_applied", user, a.note,
                 details={"period": period, "interest_paid": interest, "principal": principal_amt})
    db.session.flush()
    return a


# ---------------------------------------------------------------------------- the chain

def _task(task_id: int, user, form_key: str) -> tuple:
    ht = engine.task_for_update(task_id, user, form_key, SUBJECT)
    a = db.session.get(SubsidyApplication, ht.subject_id, populate_existing=True)
    if a is None:
        raise NotFound(_("贴息申请不存在"))
    return ht, a


def _opinion(decision: str, allowed: tuple[str, ...], opinion: str) -> str:
    if decision not in allowed:
        raise SubsidyError(_("请选择结论"), "decision")
    opinion = (opinion or "").strip()
    if not opinion:
        raise SubsidyError(_("请填写意见"), "opinion")
    return opinion


def _reject(a: SubsidyApplication) -> None:
    a.status = "rejected"
    a.open_key = None        # the period may be applied for again


def compute(a: SubsidyApplication, interest: Decimal, principal: Decimal):
    scheme = db.session.get(Scheme, a.scheme_id)
    prog = scheme.params.programme(a.programme)
    if prog is None:
        raise SubsidyError(_("政策已不再包含贴息项目“{code}”").format(code=a.programme))
    return rules.subsidy_amount(prog, scheme.params.rounding, interest, principal, a.period_start, a.period_end)


def bank_confirm(task_id: int, user, decision: str, interest_paid, principal, opinion: str) -> SubsidyApplication:
    """The bank confirms the interest actually paid and the principal it accrued on (or refuses)."""
    ht, a = _task(task_id, user, "subsidy_bank_confirm")
    opinion = _opinion(decision, ("confirm", "reject"), opinion)
    if decision == "confirm":
        interest = _money(interest_paid, "interest_paid")
        principal_amt = _money(principal, "principal")
        if principal_amt > a.loan.amount:
            raise SubsidyError(_("计息本金不能超过贷款金额 {a} 元").format(a=fmt_yuan(a.loan.amount)), "principal")
        c = compute(a, interest, principal_amt)
        a.interest_confirmed, a.principal_confirmed = interest, principal_amt
        a.amount = Decimal(c.result)
        a.computation_json = json.dumps(c.to_dict(), ensure_ascii=False)
        a.status = "department_review"
        audit.record(SUBJECT, a.id, "subsidy_bank_confirmed", user, opinion,
                     details={"interest_paid": interest, "principal": principal_amt, "amount": a.amount})
    else:
        _reject(a)
        audit.record(SUBJECT, a.id, "subsidy_bank_rejected", user, opinion)
    engine.complete(ht.id, user, {"bank_decision": decision})
    return a


def department_review(task_id: int, user, decision: str, opinion: str) -> SubsidyApplication:
    ht, a = _task(task_id, user, "subsidy_department_review")
    opinion = _opinion(decision, ("approve", "reject"), opinion)
    if decision == "approve":
        a.status = "finance_review"
        audit.record(SUBJECT, a.id, "subsidy_department_approved", user, opinion)
    else:
        _reject(a)
        audit.record(SUBJECT, a.id, "subsidy_department_rejected", user, opinion)
    engine.complete(ht.id, user, {"department_decision": decision})
    return a


def finance_review(task_id: int, user, decision: str, opinion: str) -> SubsidyApplication:
    """The finance bureau approves and pays from the programme's budget, or refuses."""
    ht, a = _task(task_id, user, "subsidy_finance_review")
    opinion = _opinion(decision, ("approve", "reject"), opinion)
    if decision == "approve":
        pay(a, user, opinion)
        audit.record(SUBJECT, a.id, "subsidy_paid", user, opinion, details={"amount": a.amount})
    else:
        _reject(a)
        audit.record(SUBJECT, a.id, "subsidy_finance_rejected", user, opinion)
    engine.complete(ht.id, user, {"finance_decision": decision})
    return a


def pay(a: SubsidyApplication, user, memo: str = "") -> SubsidyEntry:
    """Pay ``a`` from its programme's budget: once per loan, programme and period, never beyond the budget."""
    if a.status != "finance_review" or a.amount is None:
        raise Conflict(_("该申请不在待拨付状态"))
    b = budget(a.scheme_id, a.programme, lock=True)
    key = payment_key(a)
    if db.session.scalar(select(SubsidyEntry.id).where(SubsidyEntry.key == key)) is not None:
        raise Conflict(_("该贷款 {p} 期间的贴息已拨付，不能重复拨付").format(p=a.period))
    left = balance(b.id)
    if a.amount > left:
        raise InsufficientBudget(left, a.amount)
    e = SubsidyEntry(budget_id=b.id, kind="payment", direction=OUTFLOW, amount=a.amount, balance_after=left - a.amount,
                     key=key, memo=memo, application_id=a.id, booked_on=today(), actor_id=user.id,
                     actor_org_id=user.organisation_id, posted_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(e)
    except IntegrityError:
        raise Conflict(_("该贷款 {p} 期间的贴息已拨付，不能重复拨付").format(p=a.period)) from None
    a.status, a.paid_entry_id, a.paid_at = "paid", e.id, now()
    return e


# ---------------------------------------------------------------------------- the budget

def allocate(user, scheme_id: int, programme: str, amount, memo: str, token: str | None = None) -> SubsidyEntry:
    """The finance bureau enters a budget allocation (预算下达) for a programme.  ``token`` (one per
    form shown) makes a re-submitted form post once."""
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or not is_finance(user, scheme):
        raise NotFound(_("预算不存在"))
    if scheme.params.programme(programme) is None:
        raise NotFound(_("预算不存在"))
    amt = _money(amount, "amount")
    memo = (memo or "").strip()
    if not memo:
        raise SubsidyError(_("请写明预算文件或来源"), "memo")
    b = budget(scheme.id, programme, lock=True)
    key = f"allocation:{b.id}:{token or uuid.uuid4().hex}"
    known = db.session.scalar(select(SubsidyEntry).where(SubsidyEntry.key == key))
    if known is not None:
        return known
    left = balance(b.id)
    e = SubsidyEntry(budget_id=b.id, kind="allocation", direction=INFLOW, amount=amt, balance_after=left + amt,
                     key=key, memo=memo, booked_on=today(), actor_id=user.id, actor_org_id=user.organisation_id,
                     posted_at=now())
    db.session.add(e)
    db.session.flush()
    audit.record("subsidy_budget", b.id, "subsidy_budget_allocated", user, memo, details={"amount": amt})
    return e


def record_guarantee_fee(user, scheme_id: int, loan_no: str, period: str, fee_paid, amount, note: str) -> GuaranteeFeeSubsidy:
    """The finance bureau records a guarantee-fee subsidy granted for one guaranteed loan and period."""
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or not is_finance(user, scheme):
        raise NotFound(_("预算不存在"))
    loan = db.session.scalar(select(Loan).where(Loan.no == (loan_no or "").strip(), Loan.scheme_id == scheme.id))
    if loan is None:
        raise SubsidyError(_("该政策下没有这笔贷款"), "loan_no")
    prod = scheme.params.product(loan.product)
    if prod is None or not prod.three_way:
        raise SubsidyError(_("只有担保公司担保的产品（三方分担）才有担保费补贴"), "loan_no")
    label = (period or "").strip().upper()
    if not any(rules.period_ok(kind, label) for kind in ("month", "quarter", "year")):
        raise SubsidyError(_("期间格式应为 2025、2025Q1 或 2025-03"), "period")
    fee = _money(fee_paid, "fee_paid")
    amt = _money(amount, "amount")
    if amt > fee:
        raise SubsidyError(_("补贴金额不能超过实付担保费 {f} 元").format(f=fmt_yuan(fee)), "amount")
    if db.session.scalar(select(GuaranteeFeeSubsidy.id).where(GuaranteeFeeSubsidy.loan_id == loan.id,
                                                              GuaranteeFeeSubsidy.period == label)) is not None:
        raise Conflict(_("该贷款 {p} 期间的担保费补贴已登记").format(p=label))
    g = GuaranteeFeeSubsidy(scheme_id=scheme.id, loan_id=loan.id, period=label, fee_paid=fee, amount=amt,
                            note=(note or "").strip(), entered_by_id=user.id, entered_org_id=user.organisation_id,
                            entered_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(g)
    except IntegrityError:
        raise Conflict(_("该贷款 {p} 期间的担保费补贴已登记").format(p=label)) from None
    audit.record("guarantee_fee_subsidy", g.id, "guarantee_fee_recorded", user, g.note,
                 details={"loan": loan.no, "period": label, "amount": amt})
    return g
