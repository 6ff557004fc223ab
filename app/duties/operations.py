"""Recurring duties: the monthly filing of cooperating banks, the quarterly credit-data upload.

Creation is idempotent by data: each duty has a unique key per kind, period, scheme and
organisation; each is created (duty row, process instance, notifications) in its own transaction,
so a run that dies half-way leaves whole duties behind and the next run creates the rest.
The deadline is a property of the period (the n-th working day of the month or quarter), not of
when the job happened to run.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Organisation, OrgKind
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, name_param, stored
from app.core.money import yuan
from app.core.timeutil import SHANGHAI, local, now
from app.core.workdays import calendar
from app.credit import sources as credit_sources
from app.duties.models import KIND_LABELS, Duty
from app.loanbook import operations as book_ops
from app.loans.models import Loan
from app.notifications.operations import notify, users_of_org
from app.policies.models import Scheme, SchemeMember
from app.policies import bindings
from app.workflow import engine
from app.workflow.models import HumanTask

SUBJECT = "duty"
# the data-source units' quarterly collection (黔江 seed 000 line 51: 下季度前5个工作日内); the units serve every
# scheme of the deployment, so this one is not a scheme's parameter
COLLECTION_WORKING_DAYS = 5


class DutyError(DomainError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def _prev_month(d: date) -> tuple[date, date]:
    first_this = d.replace(day=1)
    last_prev = first_this - timedelta(days=1)
    return last_prev.replace(day=1), last_prev


def deadline(rule: dict, opens: date) -> datetime:
    """The end of the day a report (or the filing's statistics) is due, by the scheme's rule (``params.report_deadlines``):
    ``day_of_month`` — that day of the month the period's duty opens in, or the next working day
    (黔江 次月5日前, seed 000 line 59); ``working_days`` — the nth working day counted from the day it opens."""
    cal = calendar()
    if "day_of_month" in rule:
        return _end_of(cal.first_working_day_on_or_after(opens.replace(day=rule["day_of_month"])))
    return _end_of(cal.add_working_days(opens, rule["working_days"] - 1))


@dataclass
class Period:
    code: str
    start: date           # first day covered
    end: date             # last day covered
    opens: date           # first working day of the following month / quarter
    due_at: datetime
    stats_due_at: datetime | None = None


def monthly_period(on: date, scheme: Scheme | None = None) -> Period | None:
    """The filing period a run on ``on`` is for (the previous month), or None before it opens.

    Its deadline is the scheme's: ``filing_working_days`` into the month (黔江 art. 12: 每月初5个工作日内),
    and no later than its monthly statistics report when it owes one (黔江: 次月5日前, the next working day
    when the 5th is not one).  Without a scheme: the period and the defaults (5 working days, no statistics)."""
    cal = calendar()
    opens = cal.first_working_day_on_or_after(on.replace(day=1))
    if on < opens:
        return None
    start, end = _prev_month(on)
    days = scheme.params.filing_working_days if scheme is not None else 5
    filing_due = _end_of(cal.add_working_days(opens, days - 1))
    stats_rule = scheme.params.report_deadlines.get("monthly_statistics") if scheme is not None else None
    stats_due = deadline(stats_rule, opens) if stats_rule else None
    due = min(filing_due, stats_due) if stats_due else filing_due
    return Period(start.strftime("%Y-%m"), start, end, opens, due, stats_due)


def quarterly_period(on: date) -> Period | None:
    cal = calendar()
    q_start = date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    opens = cal.first_working_day_on_or_after(q_start)
    if on < opens:
        return None
    end = q_start - timedelta(days=1)
    start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    code = f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return Period(code, start, end, opens, _end_of(cal.add_working_days(opens, COLLECTION_WORKING_DAYS - 1)))


def _create(key: str, kind: str, period: Period, org: Organisation, scheme: Scheme | None,
            process_kind: str, title: str, data: dict) -> Duty | None:
    """Create one duty with its process instance; None if it exists.  Commits."""
    if db.session.scalar(select(Duty.id).where(Duty.key == key)) is not None:
        return None
    duty = Duty(key=key, kind=kind, period=period.code, scheme_id=scheme.id if scheme else None,
                org_id=org.id, due_at=period.due_at, stats_due_at=period.stats_due_at, created_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(duty)
            db.session.flush()
    except IntegrityError:          # a concurrent run created it first
        db.session.rollback()
        return None
    inst = bindings.start_for(scheme, process_kind, SUBJECT, duty.id, {
        "title": title, "duty_id": duty.id, "period": period.code, "scheme_id": duty.scheme_id,
        "due_iso": period.due_at.isoformat(), **data})
    duty.instance_id = inst.id
    tasks = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                            HumanTask.status == "open")))
    for ht in tasks:
        ht.due_at = period.due_at      # the period's deadline, whenever the job ran
    audit.record(SUBJECT, duty.id, "duty_created", None, details={"period": period.code, "org": org.name})
    link = f"/tasks/{tasks[0].id}" if tasks else None
    notify(users_of_org(org.id), f"duty:{key}", "duty", title,
           stored(N_("期限：{due}"), due=local(period.due_at).strftime("%Y-%m-%d")), link)
    db.session.commit()
    return duty


create_duty = _create      # the reports' duties (app/reports/operations.py) are opened the same way


def monthly_key(period: Period, scheme_id: int, org_id: int) -> str:
    return f"monthly_filing:{period.code}:s{scheme_id}:o{org_id}"


def credit_data_key(period: Period, org_id: int) -> str:
    return f"credit_data:{period.code}:o{org_id}"


def create_monthly_filing_duties(at: datetime) -> list[Duty]:
    if monthly_period(local(at).date()) is None:
        return []
    rows = db.session.execute(
        select(SchemeMember.scheme_id, SchemeMember.organisation_id)
        .join(Scheme, Scheme.id == SchemeMember.scheme_id)
        .where(SchemeMember.role == "bank", SchemeMember.suspended.is_(False), Scheme.active.is_(True))
        .order_by(SchemeMember.scheme_id, SchemeMember.organisation_id)).all()
    created = []
    for scheme_id, org_id in rows:
        scheme = db.session.get(Scheme, scheme_id)
        period = monthly_period(local(at).date(), scheme)       # the scheme's own deadline
        key = monthly_key(period, scheme_id, org_id)
        if db.session.scalar(select(Duty.id).where(Duty.key == key)) is not None:
            continue
        org = db.session.get(Organisation, org_id)
        title = stored(N_("{period} 月度项目备案与统计 · {scheme} · {org}"), period=period.code, scheme=name_param(scheme),
                       org=name_param(org))
        d = _create(key, "monthly_filing", period, org, scheme, "monthly_filing", title,
                    {"bank_org_id": org.id})
        if d:
            created.append(d)
    return created


def create_credit_data_duties(at: datetime) -> list[Duty]:
    period = quarterly_period(local(at).date())
    if period is None:
        return []
    orgs = list(db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.data_source.value)
                                   .order_by(Organisation.id)))
    created = []
    for org in orgs:
        key = credit_data_key(period, org.id)
        title = stored(N_("{period} 季度信用信息采集 · {org}"), period=period.code, org=name_param(org))
        d = _create(key, "credit_data", period, org, None, "credit_data_collection", title,
                    {"source_org_id": org.id})
        if d:
            created.append(d)
        _pause()
    return created


def _pause():
    # lets a test kill a worker half-way through a run (config; 0 in production)
    pause = float(current_app.config.get("DUTY_JOB_PAUSE_SECONDS") or 0)
    if pause:
        import time as _time
        _time.sleep(pause)


# ------------------------------------------------------------------ the task pages

def duty_of(ht: HumanTask) -> Duty:
    duty = db.session.get(Duty, ht.subject_id) if ht.subject_type == SUBJECT else None
    if duty is None:
        raise DutyError(_("任务不存在"))
    return duty


def period_loans(duty: Duty) -> list[Loan]:
    """The bank's scheme loans disbursed in the duty's month."""
    start = date.fromisoformat(duty.period + "-01")
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return list(db.session.scalars(select(Loan).where(
        Loan.scheme_id == duty.scheme_id, Loan.bank_id == duty.org_id,
        Loan.disbursed_on >= start, Loan.disbursed_on < end).order_by(Loan.disbursed_on, Loan.id)))


def book_coverage(duty: Duty) -> book_ops.Coverage:
    """The bank's loan book for the duty's month, for the scheme: what is reported, what is missing."""
    return book_ops.coverage(duty.org_id, duty.period, duty.scheme_id)


def loan_totals(loans: list[Loan]) -> tuple[int, int, Decimal]:
    eligible = [l for l in loans if l.eligible]
    return len({l.enterprise_id for l in eligible}), len(eligible), sum((l.amount for l in eligible), Decimal("0.00"))


@dataclass
class MonthlyFilingInput:
    confirmed: bool
    firm_count: int
    loan_count: int
    total_amount: Decimal
    note: str = ""


def _check_actor(ht: HumanTask, user) -> Duty:
    duty = duty_of(ht)
    if user.organisation_id != duty.org_id:
        raise DutyError(_("只有任务所属单位可以办理"))
    return duty


def submit_monthly_filing(task_id: int, user, data: MonthlyFilingInput) -> Duty:
    ht = db.session.get(HumanTask, task_id)
    duty = _check_actor(ht, user)
    if not data.confirmed:
        raise DutyError(_("请确认上月政策内贷款清单"), "confirmed")
    book = book_coverage(duty)
    if not book.complete:
        raise DutyError(_("{period} 月度贷款台账尚缺 {n} 笔贷款（{nos}），请先报送").format(
            period=duty.period, n=len(book.missing), nos="、".join(l.no for l in book.missing[:10])))
    loans = period_loans(duty)
    result = {"loan_ids": [l.id for l in loans], "loan_nos": [l.no for l in loans],
              "firm_count": data.firm_count, "loan_count": data.loan_count,
              "total_amount": str(yuan(data.total_amount)), "note": data.note.strip(),
              "loan_book_rows": len(book.reported),
              "loan_book_outstanding": str(sum((r.outstanding_principal for r in book.reported), Decimal("0.00")))}
    engine.complete(task_id, user, {"filing": result})
    _finish(duty, user, result, "monthly_filed")
    return duty


def submit_credit_data(task_id: int, user, file_name: str, data: bytes, note: str = "") -> Duty:
    """The source unit's file for its category, validated row by row and loaded into credit records
    (``app/credit/sources.py``); a file with any problem is refused whole (:class:`sources.FileRefused`)."""
    ht = db.session.get(HumanTask, task_id)
    duty = _check_actor(ht, user)
    if not data:
        raise DutyError(_("请上传本季度信用信息文件"), "file")
    upload = credit_sources.load_file(user, duty.organisation, duty.period, file_name, data, duty_id=duty.id)
    result = {"upload_id": upload.id, "category": upload.category, "record_count": upload.row_count,
              "files": [upload.file_name], "sha256": upload.sha256, "note": (note or "").strip()}
    engine.complete(task_id, user, {"upload": result})
    _finish(duty, user, result, "credit_data_uploaded")
    return duty


def _finish(duty: Duty, user, result: dict, action: str) -> None:
    t = now()
    duty.status, duty.completed_at, duty.completed_by_id = "done", t, user.id
    duty.late = t > duty.due_at
    duty.result_json = json.dumps(result, ensure_ascii=False)
    audit.record(SUBJECT, duty.id, action, user, details=result)
    db.session.flush()


PERIOD_PATTERN = re.compile(r"\d{4}(-(0[1-9]|1[0-2])|Q[1-4])?")
STATUSES = {"open": N_("待办"), "overdue": N_("已逾期"), "done": N_("已完成")}


@dataclass
class DutyFilter:
    """The duties page's filters as asked (``raw``) and as applied; a value that is not valid is named in
    ``errors`` and not applied, so the list never silently shows a different set than the one asked for."""
    raw: dict = field(default_factory=dict)
    kind: str | None = None
    period: str | None = None
    status: str | None = None
    errors: list = field(default_factory=list)


def parse_filter(args) -> DutyFilter:
    f = DutyFilter()
    for name in ("kind", "period", "status"):
        raw = args.get(name, "")
        f.raw[name] = raw.strip() if isinstance(raw, str) else ""
    if f.raw["kind"]:
        if f.raw["kind"] in KIND_LABELS:
            f.kind = f.raw["kind"]
        else:
            f.errors.append(_("类型：不是可选的值"))
    if f.raw["period"]:
        if PERIOD_PATTERN.fullmatch(f.raw["period"]):
            f.period = f.raw["period"]
        else:
            f.errors.append(_("期间：格式应为 YYYY、YYYY-MM 或 YYYYQn"))
    if f.raw["status"]:
        if f.raw["status"] in STATUSES:
            f.status = f.raw["status"]
        else:
            f.errors.append(_("状态：不是可选的值"))
    return f


def visible_duties(user, flt: DutyFilter | None = None):
    """The query of the duties the user sees (newest period first), narrowed by the page's filters."""
    q = select(Duty).order_by(Duty.period.desc(), Duty.id.desc())
    if user.organisation.kind not in ("admin", "financial_office", "finance_bureau", "pboc"):
        q = q.where(Duty.org_id == user.organisation_id)
    if flt is not None:
        if flt.kind:
            q = q.where(Duty.kind == flt.kind)
        if flt.period:
            q = q.where(Duty.period.startswith(flt.period, autoescape=True))
        if flt.status == "done":
            q = q.where(Duty.status == "done")
        elif flt.status == "open":
            q = q.where(Duty.status != "done")
        elif flt.status == "overdue":
            q = q.where(Duty.status != "done", Duty.due_at < now())
    return q
