"""The four registers (台账): applications, loans, compensation claims, fund movements."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import Organisation
from app.applications.models import STATUS_LABELS as APP_STATUS, LoanApplication
from app.compensation.models import OPEN_STATUSES, STATUS_LABELS as CLAIM_STATUS, CompensationClaim
from app.core.db import db
from app.core.i18n import _, _l, localname, shown
from app.core.timeutil import SHANGHAI
from app.fund.models import DIRECTION_LABELS, KIND_LABELS, FundEntry
from app.loans.models import CLASSIFICATIONS, STATUS_LABELS as LOAN_STATUS, Loan
from app.policies.models import Scheme, SchemeMember
from app.registers import figures, scope
from app.registers.listing import Column, Filter, Register


def _start_utc(d: date) -> datetime:
    """Shanghai midnight of ``d`` as UTC (stored timestamps are UTC)."""
    return datetime.combine(d, time.min, SHANGHAI).astimezone(timezone.utc)


def _firms_named(text: str):
    return select(Organisation.id).where(Organisation.name.contains(text, autoescape=True))


# ------------------------------------------------------------------ choices (what the user may pick)

def scheme_choices(user) -> list[tuple[int, str]]:
    ids = scope.visible_scheme_ids(user)
    q = select(Scheme).order_by(Scheme.id)
    if ids is not None:
        q = q.where(Scheme.id.in_(ids or [0]))
    return [(s.id, localname(s)) for s in db.session.scalars(q)]


def bank_choices(user) -> list[tuple[int, str]]:
    """Banks to filter by: none for a bank (it sees only its own), the member banks of the user's schemes."""
    if user.organisation.kind in ("bank", "enterprise"):
        return []
    ids = scope.visible_scheme_ids(user)
    q = select(Organisation).where(Organisation.kind == "bank")
    if ids is not None:
        q = q.where(Organisation.id.in_(select(SchemeMember.organisation_id).where(
            SchemeMember.role == "bank", SchemeMember.scheme_id.in_(ids or [0]))))
    return [(o.id, localname(o)) for o in db.session.scalars(q.order_by(Organisation.id))]


def _labels(mapping):
    return lambda _user: [(k, str(_(v)) if isinstance(v, str) else str(v)) for k, v in mapping.items()]


def _date_filters(column, label_from, label_to, *, timestamp=False):
    if timestamp:
        return (Filter("date_from", label_from, "date_from", lambda q, d: q.where(column >= _start_utc(d))),
                Filter("date_to", label_to, "date_to", lambda q, d: q.where(column < _start_utc(d + timedelta(days=1)))))
    return (Filter("date_from", label_from, "date_from", lambda q, d: q.where(column >= d)),
            Filter("date_to", label_to, "date_to", lambda q, d: q.where(column <= d)))


def _amount_filters(column):
    return (Filter("amount_min", _l("金额不低于"), "amount_min", lambda q, a: q.where(column >= a)),
            Filter("amount_max", _l("金额不高于"), "amount_max", lambda q, a: q.where(column <= a)))


YES_NO = {"yes": _l("是"), "no": _l("否")}
STAGES = {"open": _l("办理中"), "closed": _l("已办结")}

# ------------------------------------------------------------------ applications

APPLICATIONS = Register(
    name="applications", title=_l("贷款申请台账"), query=scope.applications,
    may_view=scope.may_see_applications, id_column=LoanApplication.id, default_sort="-created",
    options=(selectinload(LoanApplication.enterprise), selectinload(LoanApplication.scheme),
             selectinload(LoanApplication.recommended_bank), selectinload(LoanApplication.department)),
    columns=(
        Column("no", _l("编号"), lambda a: a.no, LoanApplication.no,
               link=lambda a: url_for("applications.show", app_id=a.id)),
        Column("scheme", _l("政策"), lambda a: localname(a.scheme), LoanApplication.scheme_id),
        Column("enterprise", _l("企业"), lambda a: localname(a.enterprise)),
        Column("department", _l("主管部门"), lambda a: localname(a.department)),
        Column("bank", _l("推荐银行"), lambda a: localname(a.recommended_bank)),
        Column("amount", _l("金额（元）"), lambda a: a.amount, LoanApplication.amount, "money"),
        Column("term", _l("期限（月）"), lambda a: a.term_months, LoanApplication.term_months, "int"),
        Column("status", _l("状态"), lambda a: a.status_label, LoanApplication.status),
        Column("created", _l("提交时间"), lambda a: a.created_at, LoanApplication.created_at, "datetime"),
    ),
    filters=(
        Filter("q", _l("编号或企业名称"), "text", lambda q, t: q.where(or_(
            LoanApplication.no.contains(t, autoescape=True), LoanApplication.enterprise_id.in_(_firms_named(t))))),
        Filter("scheme", _l("政策"), "int_choice", lambda q, v: q.where(LoanApplication.scheme_id == v), scheme_choices),
        Filter("bank", _l("银行"), "int_choice", lambda q, v: q.where(LoanApplication.recommended_bank_id == v),
               bank_choices),
        Filter("status", _l("状态"), "choice", lambda q, v: q.where(LoanApplication.status == v), _labels(APP_STATUS)),
        *_date_filters(LoanApplication.created_at, _l("提交日期自"), _l("提交日期至"), timestamp=True),
        *_amount_filters(LoanApplication.amount),
    ))

# ------------------------------------------------------------------ loans

LOANS = Register(
    name="loans", title=_l("贷款台账"), query=scope.loans, may_view=scope.may_see_applications,
    id_column=Loan.id, default_sort="-disbursed",
    options=(selectinload(Loan.enterprise), selectinload(Loan.bank), selectinload(Loan.scheme)),
    columns=(
        Column("no", _l("编号"), lambda loan: loan.no, Loan.no, link=lambda loan: url_for("loans.show", loan_id=loan.id)),
        Column("contract", _l("合同编号"), lambda loan: loan.contract_no, Loan.contract_no),
        Column("scheme", _l("政策"), lambda loan: localname(loan.scheme), Loan.scheme_id),
        Column("enterprise", _l("企业"), lambda loan: localname(loan.enterprise)),
        Column("bank", _l("银行"), lambda loan: localname(loan.bank), Loan.bank_id),
        Column("amount", _l("金额（元）"), lambda loan: loan.amount, Loan.amount, "money"),
        Column("outstanding", _l("贷款余额（元）"), figures.outstanding_of, figures.outstanding(), "money"),
        Column("rate", _l("年利率（%）"), lambda loan: loan.annual_rate, Loan.annual_rate, "money"),
        Column("term", _l("期限（月）"), lambda loan: loan.term_months, Loan.term_months, "int"),
        Column("disbursed", _l("放款日期"), lambda loan: loan.disbursed_on, Loan.disbursed_on, "date"),
        Column("classification", _l("五级分类"), lambda loan: _(CLASSIFICATIONS.get(figures.classification_of(loan), "—")),
               figures.classification()),
        Column("status", _l("状态"), lambda loan: loan.status_label, Loan.status),
        Column("eligible", _l("补偿资格"), lambda loan: _("是") if loan.eligible else _("否"), Loan.eligible),
    ),
    filters=(
        Filter("q", _l("编号、合同或企业名称"), "text", lambda q, t: q.where(or_(
            Loan.no.contains(t, autoescape=True), Loan.contract_no.contains(t, autoescape=True),
            Loan.enterprise_id.in_(_firms_named(t))))),
        Filter("scheme", _l("政策"), "int_choice", lambda q, v: q.where(Loan.scheme_id == v), scheme_choices),
        Filter("bank", _l("银行"), "int_choice", lambda q, v: q.where(Loan.bank_id == v), bank_choices),
        Filter("status", _l("状态"), "choice", lambda q, v: q.where(Loan.status == v), _labels(LOAN_STATUS)),
        Filter("classification", _l("五级分类"), "choice", lambda q, v: q.where(figures.classification() == v),
               _labels(CLASSIFICATIONS)),
        Filter("eligible", _l("补偿资格"), "choice", lambda q, v: q.where(Loan.eligible.is_(v == "yes")), _labels(YES_NO)),
        *_date_filters(Loan.disbursed_on, _l("放款日期自"), _l("放款日期至")),
        *_amount_filters(Loan.amount),
    ))

# ------------------------------------------------------------------ claims

CLAIMS = Register(
    name="claims", title=_l("风险补偿台账"), query=scope.claims, may_view=scope.may_see_claims,
    id_column=CompensationClaim.id, default_sort="-created",
    options=(selectinload(CompensationClaim.loan).selectinload(Loan.enterprise), selectinload(CompensationClaim.bank),
             selectinload(CompensationClaim.scheme)),
    columns=(
        Column("no", _l("编号"), lambda c: c.no, CompensationClaim.no,
               link=lambda c: url_for("compensation.show", claim_id=c.id)),
        Column("loan", _l("贷款"), lambda c: c.loan.no, CompensationClaim.loan_id),
        Column("enterprise", _l("企业"), lambda c: localname(c.loan.enterprise)),
        Column("scheme", _l("政策"), lambda c: localname(c.scheme), CompensationClaim.scheme_id),
        Column("bank", _l("银行"), lambda c: localname(c.bank), CompensationClaim.bank_id),
        Column("overdue_on", _l("逾期日期"), lambda c: c.overdue_on, CompensationClaim.overdue_on, "date"),
        Column("overdue_principal", _l("逾期本金"), lambda c: c.overdue_principal, CompensationClaim.overdue_principal,
               "money"),
        Column("status", _l("状态"), lambda c: c.status_label, CompensationClaim.status),
        Column("recovery_ended_on", _l("司法追偿结束"), lambda c: c.recovery_ended_on, CompensationClaim.recovery_ended_on,
               "date"),
        Column("fund_share", _l("基金承担（元）"), lambda c: c.fund_share_amount, CompensationClaim.fund_share_amount,
               "money"),
        Column("payout", _l("拨付金额"), lambda c: c.payout_amount, CompensationClaim.payout_amount, "money"),
        Column("created", _l("报告时间"), lambda c: c.created_at, CompensationClaim.created_at, "datetime"),
    ),
    filters=(
        Filter("q", _l("案件或贷款编号"), "text", lambda q, t: q.where(or_(
            CompensationClaim.no.contains(t, autoescape=True),
            CompensationClaim.loan_id.in_(select(Loan.id).where(Loan.no.contains(t, autoescape=True)))))),
        Filter("scheme", _l("政策"), "int_choice", lambda q, v: q.where(CompensationClaim.scheme_id == v),
               scheme_choices),
        Filter("bank", _l("银行"), "int_choice", lambda q, v: q.where(CompensationClaim.bank_id == v), bank_choices),
        Filter("status", _l("状态"), "choice", lambda q, v: q.where(CompensationClaim.status == v),
               _labels(CLAIM_STATUS)),
        Filter("stage", _l("办理阶段"), "choice", lambda q, v: q.where(
            CompensationClaim.status.in_(OPEN_STATUSES) if v == "open" else CompensationClaim.status.not_in(OPEN_STATUSES)),
            _labels(STAGES)),
        Filter("loan", _l("贷款"), "int", lambda q, v: q.where(CompensationClaim.loan_id == v)),
        *_date_filters(CompensationClaim.overdue_on, _l("逾期日期自"), _l("逾期日期至")),
        *_amount_filters(CompensationClaim.overdue_principal),
    ))

# ------------------------------------------------------------------ fund movements


FUND = Register(
    name="fund", title=_l("资金台账"), query=scope.fund_entries, may_view=scope.may_see_fund,
    id_column=FundEntry.id, default_sort="-id",
    options=(selectinload(FundEntry.actor), selectinload(FundEntry.actor_org)),
    columns=(
        Column("id", _l("序号"), lambda e: e.id, FundEntry.id, "int"),
        Column("scheme", _l("政策"), lambda e: localname(db.session.get(Scheme, e.scheme_id)), FundEntry.scheme_id),
        Column("booked_on", _l("到账/记账日期"), lambda e: e.booked_on, FundEntry.booked_on, "date"),
        Column("kind", _l("类型"), lambda e: e.kind_label, FundEntry.kind),
        Column("direction", _l("方向"), lambda e: str(DIRECTION_LABELS[e.direction]), FundEntry.direction),
        Column("amount", _l("金额（元）"), lambda e: e.signed_amount, FundEntry.amount, "money"),
        Column("balance_after", _l("记账后余额（元）"), lambda e: e.balance_after, None, "money"),
        Column("memo", _l("说明"), lambda e: shown(e.memo)),
        Column("actor_org", _l("经办单位"), lambda e: localname(e.actor_org) if e.actor_org else _("系统")),
        Column("posted_at", _l("记账时间"), lambda e: e.posted_at, FundEntry.posted_at, "datetime"),
    ),
    filters=(
        Filter("q", _l("说明包含"), "text", lambda q, t: q.where(FundEntry.memo.contains(t, autoescape=True))),
        Filter("scheme", _l("政策"), "int_choice", lambda q, v: q.where(FundEntry.scheme_id == v), scheme_choices),
        Filter("kind", _l("类型"), "choice", lambda q, v: q.where(FundEntry.kind == v), _labels(KIND_LABELS)),
        Filter("direction", _l("方向"), "choice", lambda q, v: q.where(FundEntry.direction == v),
               _labels(DIRECTION_LABELS)),
        *_date_filters(FundEntry.booked_on, _l("记账日期自"), _l("记账日期至")),
        *_amount_filters(FundEntry.amount),
    ))

REGISTERS = {r.name: r for r in (APPLICATIONS, LOANS, CLAIMS, FUND)}
