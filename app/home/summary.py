"""What a role's home page shows: its work for today and a few figures of the state of its work.

Read-only queries, each scoped to the user's organisation (tasks and duties of the organisation;
applications, loans and claims through :mod:`app.registers.scope`, the registers' own rule).  Charts
stay on the dashboards (app/dashboards): the page links there rather than drawing them again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import case, func, select

from app.accounts import operations as account_ops
from app.applications.models import LoanApplication
from app.compensation.models import OPEN_STATUSES as CLAIM_OPEN, CompensationClaim
from app.core.db import db
from app.core.i18n import N_
from app.core.money import FEN
from app.core.timeutil import SHANGHAI, now, today
from app.dashboards import data as dashboard_data
from app.duties.models import Duty
from app.loans.models import Loan
from app.fund import ledger
from app.policies.models import Scheme, SchemeMember
from app.registers import scope
from app.workflow.models import HumanTask

HOME_KINDS = ("bank", "department", "finance_bureau", "financial_office", "pboc", "regulator",
              "service_centre", "guarantee", "district_government", "data_source")
DASHBOARD_KINDS = ("bank",) + scope.SCHEME_KINDS          # as app/dashboards/views.may_view
DUTY_OVERSEERS = ("financial_office", "finance_bureau", "pboc")
TASK_LIMIT = 15
APPLICATION_OPEN = ("submitted", "returned", "recommended", "approved")
LOAN_LIVE = ("filing", "active", "overdue")


@dataclass
class Figure:
    label: str                 # a msgid, translated in the template
    value: object
    link: str | None = None
    money: bool = False
    alert: bool = False
    scheme: Scheme | None = None   # the figure is of one scheme (its name is shown beside the label)


@dataclass
class Home:
    tasks: list[HumanTask]
    task_total: int
    overdue: int
    due_today: int
    duties: list[Duty]
    figures: list[Figure] = field(default_factory=list)
    suspended: list[SchemeMember] = field(default_factory=list)   # a bank's suspensions (shown as a banner)
    paused: list[Scheme] = field(default_factory=list)            # paused schemes the organisation belongs to
    dashboard: bool = False


def _end_of_today() -> datetime:
    return datetime.combine(today(), time(23, 59, 59), tzinfo=SHANGHAI)


def open_tasks(org_id: int, limit: int = TASK_LIMIT) -> list[HumanTask]:
    """The organisation's open tasks, overdue first, then by deadline (none last), then oldest."""
    at = now()
    late = case((HumanTask.overdue.is_(True), 0), (HumanTask.due_at < at, 0), else_=1)
    return list(db.session.scalars(select(HumanTask).where(HumanTask.org_id == org_id, HumanTask.status == "open")
                                   .order_by(late, HumanTask.due_at.asc().nulls_last(), HumanTask.created_at,
                                             HumanTask.id).limit(limit)))


def task_counts(org_id: int) -> tuple[int, int, int]:
    """(open, overdue, due by the end of today) tasks of the organisation."""
    at = now()
    overdue = (HumanTask.overdue.is_(True)) | (HumanTask.due_at < at)
    row = db.session.execute(select(
        func.count(HumanTask.id), func.count(HumanTask.id).filter(overdue),
        func.count(HumanTask.id).filter(~overdue, HumanTask.due_at <= _end_of_today()))
        .where(HumanTask.org_id == org_id, HumanTask.status == "open")).one()
    return row[0], row[1], row[2]


def open_duties(org_id: int) -> list[Duty]:
    return list(db.session.scalars(select(Duty).where(Duty.org_id == org_id, Duty.status == "open")
                                   .order_by(Duty.due_at, Duty.id).limit(TASK_LIMIT)))


def _count(q) -> int:
    return db.session.scalar(select(func.count()).select_from(q.subquery())) or 0


def figures(user) -> list[Figure]:
    """A few figures of the state of the organisation's work, each linking to its register or list."""
    kind = user.organisation.kind
    apps = scope.applications(user)
    out = []
    if kind in ("bank", "department") + scope.SCHEME_KINDS:
        from_apps = apps.where(LoanApplication.status.in_(APPLICATION_OPEN))
        out.append(Figure(N_("在办贷款申请"), _count(from_apps), "/applications/"))
    if kind == "department":
        waiting = len(account_ops.firms_to_verify(user))
        out.append(Figure(N_("待核验的企业注册"), waiting, "/firms/verification", alert=waiting > 0))
        out.append(Figure(N_("已推荐"), _count(apps.where(LoanApplication.status.in_(
            ("recommended", "approved", "filed")))), "/applications/"))
    if kind in ("bank",) + scope.SCHEME_KINDS + scope.FILING_KINDS:
        loans = scope.loans(user).where(Loan.status.in_(LOAN_LIVE))
        sub = loans.subquery()
        n, total = db.session.execute(select(func.count(), func.coalesce(func.sum(sub.c.outstanding_principal), 0))
                                      .select_from(sub)).one()
        out.append(Figure(N_("在贷笔数"), n, "/loans/"))
        out.append(Figure(N_("在贷余额（元）"), Decimal(str(total)).quantize(FEN), "/loans/", money=True))
    if kind in ("bank",) + scope.SCHEME_KINDS:
        claims = scope.claims(user).where(CompensationClaim.status.in_(CLAIM_OPEN))
        out.append(Figure(N_("在办补偿案件"), _count(claims), "/compensation/"))
    if kind in scope.SCHEME_KINDS:
        schemes = member_schemes(user.organisation_id)
        late = len(dashboard_data.overdue_steps(schemes).rows)
        out.append(Figure(N_("逾期未办步骤"), late, "/dashboards/", alert=late > 0))
        if kind in DUTY_OVERSEERS:     # as duties.operations.visible_duties: every organisation's duties
            late_duties = db.session.scalar(select(func.count(Duty.id)).where(
                Duty.status == "open", Duty.due_at < now())) or 0
            out.append(Figure(N_("逾期未报送的定期任务"), late_duties, "/duties/?status=overdue", alert=late_duties > 0))
        for s in schemes:
            out.append(Figure(N_("基金余额（元）"), ledger.balance(s.id), f"/fund/{s.id}", money=True, scheme=s))
    return out


def member_schemes(org_id: int) -> list[Scheme]:
    return list(db.session.scalars(select(Scheme).where(Scheme.id.in_(scope.member_schemes(org_id)))
                                   .order_by(Scheme.id)))


def suspensions(org_id: int) -> list[SchemeMember]:
    """The bank's memberships that are suspended (or ended) now."""
    return list(db.session.scalars(select(SchemeMember).where(
        SchemeMember.organisation_id == org_id, SchemeMember.role == "bank", SchemeMember.suspended.is_(True))
        .order_by(SchemeMember.scheme_id)))


def home(user) -> Home:
    org_id = user.organisation_id
    total, overdue, due_today = task_counts(org_id)
    kind = user.organisation.kind
    return Home(tasks=open_tasks(org_id), task_total=total, overdue=overdue, due_today=due_today,
                duties=open_duties(org_id), figures=figures(user),
                suspended=suspensions(org_id) if kind == "bank" else [],
                paused=[s for s in member_schemes(org_id) if s.paused], dashboard=kind in DASHBOARD_KINDS)
