"""Reports routed as duties: which report each scheme owes, who reports it, who receives it, by when;
the duties the scheduler opens for them; issuing (archiving) a report, which completes its duty.

The catalogue (:data:`REPORTS`), by seed:

* ``monthly_statistics`` — 黔江 (000) 实施方案 line 59: 《成果统计表》 "次月5日前将上月数据报送人行黔江中心支行";
  line 61 责任单位 人行黔江中心支行、各合作银行; line 133: 人行 "每月定期统计试点合作银行的贷款发放情况". The banks
  file their own figures in the monthly filing duty (app/duties); the compiled table is the duty of the
  scheme's 人民银行 member, due by the end of the 5th of the next month (calendar day, moved to the next
  working day when it is not one: the filing duty's rule).  The financial office may issue it as well.
* ``jiangjin_monthly`` — 江津 (001) 第六条 4 (lines 137-139: the guarantee company) and 5 (lines 153-155: each
  bank): "按月向区财政局、人行江津中心支行及江津银保监分局报送'增信贷'收放情况".  The seed names no day: due at the
  end of the 5th working day of the next month (default, not in the seed: 黔江 art.12's filing window).
* ``quarterly_bulletin`` — 黔江 (000) 实施方案 （七） line 111: "金管办按季召开办公室成员单位联席会，通报……"; 金管办
  is 区金融办-led (line 91, 附件2 第六条 line 237), so the duty is the financial office's.  The seed names no day:
  due at the end of the 10th working day of the next quarter (default, not in the seed).  Received by the
  金管办 members (财政局, 人行, 银监: 附件2 第六条).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Organisation
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import N_, _, name_param, source_language, stored
from app.core.timeutil import local, now, today
from app.duties import operations as duty_ops
from app.duties.models import Duty
from app.policies.models import Scheme
from app.reports import monthly, render, tables
from app.reports.models import ArchivedReport, report_key
from app.workflow import engine
from app.workflow.models import HumanTask

PROCESS_KIND = "report_duty"
QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


class ReportError(DomainError):
    pass


deadline = duty_ops.deadline      # one rule for duties and reports (app/duties/operations.py)


@dataclass(frozen=True)
class ReportType:
    kind: str
    label: str                      # msgid
    cadence: str                    # monthly | quarterly
    reporter_roles: tuple[str, ...]  # scheme roles that report: one report per organisation when per_org
    per_org: bool
    issuer_roles: tuple[str, ...]   # scheme-wide reports: the roles that may issue (the duty: the first)
    recipient_roles: tuple[str, ...]
    source: str                     # what the seed says of the report (its deadline: the scheme's parameters)


REPORTS: dict[str, ReportType] = {r.kind: r for r in (
    ReportType("monthly_statistics", N_("月度成果统计表（报人民银行）"), "monthly", ("pboc",), False,
               ("pboc", "financial_office"), ("pboc", "financial_office", "finance_bureau", "regulator"),
               "黔江实施方案 000:59,61,133"),
    ReportType("jiangjin_monthly", N_("增信贷月度收放情况（报财政局、人民银行、银保监）"), "monthly",
               ("bank", "guarantee"), True, (), ("finance_bureau", "pboc", "regulator"),
               "江津第六条4-5 001:137-139,153-155"),
    ReportType("quarterly_bulletin", N_("季度通报（金管办成员单位联席会）"), "quarterly",
               ("financial_office",), False, ("financial_office",),
               ("financial_office", "finance_bureau", "pboc", "regulator"),
               "黔江实施方案 000:111"),
)}


def report_type(kind: str) -> ReportType | None:
    return REPORTS.get(kind)


def applies(rtype: ReportType, scheme: Scheme) -> bool:
    """Whether the scheme owes the report: its parameters give the report a deadline."""
    return rtype.kind in scheme.params.report_deadlines


def kinds_of(scheme: Scheme) -> list[ReportType]:
    return [r for r in REPORTS.values() if applies(r, scheme)]


# ------------------------------------------------------------------ periods

def parse_period(rtype: ReportType, raw: str) -> str | None:
    """The period if it is a finished month (monthly) or quarter (quarterly) since 2000, else None."""
    if rtype.cadence == "monthly":
        return raw if monthly.parse_period(raw) else None
    m = QUARTER_RE.match(raw or "")
    if not m or int(m.group(1)) < 2000:
        return None
    return raw if tables.bounds(raw)[1] <= today() else None


def recent_periods(rtype: ReportType, n: int | None = None) -> list[str]:
    if rtype.cadence == "monthly":
        return monthly.recent_periods(n or 6)
    out, d = [], today()
    for _i in range(n or 4):
        q_start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        d = q_start - timedelta(days=1)
        out.append(f"{d.year}Q{(d.month - 1) // 3 + 1}")
    return out


def duty_period(rtype: ReportType, on: date, scheme: Scheme) -> duty_ops.Period | None:
    """The period a scheduler run on ``on`` opens the scheme's duties for, with the deadline its
    parameters give; None before it opens."""
    base = duty_ops.monthly_period(on) if rtype.cadence == "monthly" else duty_ops.quarterly_period(on)
    if base is None:
        return None
    due = deadline(scheme.params.report_deadlines[rtype.kind], base.opens)
    return duty_ops.Period(base.code, base.start, base.end, base.opens, due)


# ------------------------------------------------------------------ who reports, reads, issues

def reporters(rtype: ReportType, scheme: Scheme) -> list[Organisation]:
    """The organisations that owe the report (a bank whose cooperation ended owes nothing)."""
    return [m.organisation for m in scheme.members if m.role in rtype.reporter_roles and m.ended_at is None
            and not (m.role == "bank" and m.suspended)] if rtype.per_org else \
        [m.organisation for m in scheme.members if m.role == rtype.reporter_roles[0]][:1]


def _member_role(scheme: Scheme, user) -> str | None:
    m = scheme.member(user.organisation_id)
    return m.role if m is not None else None


def may_read(rtype: ReportType, scheme: Scheme, org_id: int | None, user) -> bool:
    """A reporter reads its own; the recipients (and issuers) read all of their schemes; nobody else."""
    kind = user.organisation.kind
    if kind == "admin":
        return True
    if rtype.per_org and org_id == user.organisation_id:
        return True
    role = _member_role(scheme, user)
    return role is not None and role == kind and role in rtype.recipient_roles + rtype.issuer_roles


def may_issue(rtype: ReportType, scheme: Scheme, org_id: int | None, user) -> bool:
    if rtype.per_org:
        return org_id == user.organisation_id and scheme.member(user.organisation_id) is not None
    kind = user.organisation.kind
    return kind in rtype.issuer_roles and scheme.member(user.organisation_id, kind) is not None


def reporter_or_none(rtype: ReportType, scheme: Scheme, org_id: int) -> Organisation | None:
    """The reporting organisation of a per-organisation report (a reporter of the scheme), else None."""
    if not rtype.per_org:
        return None
    m = next((m for m in scheme.members if m.organisation_id == org_id and m.role in rtype.reporter_roles), None)
    return m.organisation if m else None


# ------------------------------------------------------------------ figures and files

def compute(rtype: ReportType, scheme: Scheme, period: str, org: Organisation | None, name=None) -> tables.Table:
    kw = {"name": name} if name else {}
    if rtype.kind == "jiangjin_monthly":
        fn = tables.guarantee_monthly if org.kind == "guarantee" else tables.bank_monthly
        return fn(scheme, org, period, rtype.kind, **kw)
    if rtype.kind == "quarterly_bulletin":
        return tables.quarterly(scheme, period, rtype.kind, **kw)
    raise ReportError(_("未知的报表类型"))


def title(rtype: ReportType, t: tables.Table) -> str:
    who = f" · {t.org}" if t.org else ""
    return _("{scheme} {report}（{period}）").format(scheme=t.scheme, report=_(rtype.label), period=t.period) + who


def archived(rtype: ReportType, scheme_id: int, period: str, org_id: int | None) -> ArchivedReport | None:
    return db.session.scalar(select(ArchivedReport).where(
        ArchivedReport.key == report_key(rtype.kind, scheme_id, period, org_id if rtype.per_org else None)))


def table_of(rtype: ReportType, scheme: Scheme, period: str, org: Organisation | None):
    """(table, archive row or None): as archived once issued, else computed now in the reader's language."""
    rep = archived(rtype, scheme.id, period, org.id if org else None)
    if rep is not None:
        return tables.Table.from_json(rep.figures_json), rep
    return compute(rtype, scheme, period, org), None


def xlsx_of(rtype, scheme, period, org) -> bytes:
    t, rep = table_of(rtype, scheme, period, org)
    return rep.xlsx if rep else render.workbook_bytes(t, title(rtype, t), _recipients(rtype))


def pdf_of(rtype, scheme, period, org) -> bytes:
    t, rep = table_of(rtype, scheme, period, org)
    return rep.pdf if rep else render.pdf_bytes(t, title(rtype, t), _recipients(rtype))


ROLE_NAMES = {"finance_bureau": N_("财政局"), "financial_office": N_("金融办"), "pboc": N_("人民银行"),
              "regulator": N_("银保监")}


def _recipients(rtype: ReportType) -> str:
    return "、".join(_(ROLE_NAMES[r]) for r in rtype.recipient_roles if r not in rtype.reporter_roles)


# ------------------------------------------------------------------ issuing

def issue(rtype: ReportType, scheme: Scheme, period: str, org: Organisation | None, user) -> tuple[ArchivedReport, bool]:
    """Archive the report of the period as issued (once), and complete its open duty."""
    org_id = org.id if rtype.per_org else None
    if not may_issue(rtype, scheme, org_id, user):
        raise ReportError(_("无权报送该报表"))
    if parse_period(rtype, period) is None:
        raise ReportError(_("期间无效或尚未结束"))
    if rtype.kind == "monthly_statistics":
        rep, created = monthly.archive(scheme, period, user)
    else:
        rep, created = _archive(rtype, scheme, period, org, user)
    if created:
        audit.record("report", rep.id, "report_issued", user,
                     details={"kind": rtype.kind, "scheme": scheme.code, "period": period, "org_id": org_id})
    complete_duty(rtype, scheme, period, org_id, user, rep)
    return rep, created


def _archive(rtype, scheme, period, org, user) -> tuple[ArchivedReport, bool]:
    existing = archived(rtype, scheme.id, period, org.id if org else None)
    if existing is not None:
        return existing, False
    with source_language():               # issued in Chinese, whatever language the issuing user reads
        t = compute(rtype, scheme, period, org, name=lambda o: o.name)
        head, to = title(rtype, t), _recipients(rtype)
        xlsx, pdf = render.workbook_bytes(t, head, to), render.pdf_bytes(t, head, to)
    org_id = org.id if rtype.per_org else None
    rep = ArchivedReport(key=report_key(rtype.kind, scheme.id, period, org_id), kind=rtype.kind,
                         scheme_id=scheme.id, org_id=org_id, period=period, figures_json=t.to_json(),
                         xlsx=xlsx, pdf=pdf, archived_by_id=user.id, archived_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(rep)
    except IntegrityError:          # a concurrent issue of the same report won: keep that one
        existing = archived(rtype, scheme.id, period, org_id)
        if existing is None:
            raise
        return existing, False
    return rep, True


def open_duty(rtype: ReportType, scheme_id: int, period: str, org_id: int | None) -> Duty | None:
    q = select(Duty).where(Duty.kind == rtype.kind, Duty.scheme_id == scheme_id, Duty.period == period,
                           Duty.status == "open")
    if org_id is not None:
        q = q.where(Duty.org_id == org_id)
    return db.session.scalar(q.order_by(Duty.id).limit(1))


def complete_duty(rtype, scheme, period, org_id, user, rep: ArchivedReport) -> Duty | None:
    duty = open_duty(rtype, scheme.id, period, org_id)
    if duty is None:
        return None
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == duty.instance_id,
                                                   HumanTask.status == "open").limit(1)) if duty.instance_id else None
    result = {"report_id": rep.id, "kind": rtype.kind, "period": period}
    if ht is not None:
        engine.complete(ht.id, user, {"report": result})
    t = now()
    duty.status, duty.completed_at, duty.completed_by_id = "done", t, user.id
    duty.late = t > duty.due_at
    duty.result_json = json.dumps(result, ensure_ascii=False)
    audit.record(duty_ops.SUBJECT, duty.id, "report_issued", user, details=result)
    db.session.flush()
    return duty


def report_of_duty(duty: Duty) -> tuple[ReportType, Scheme, Organisation | None]:
    rtype = report_type(duty.kind)
    if rtype is None or duty.scheme is None:
        raise ReportError(_("任务不存在"))
    return rtype, duty.scheme, duty.organisation if rtype.per_org else None


# ------------------------------------------------------------------ the scheduler

def create_report_duties(at: datetime) -> list[Duty]:
    """Open each report duty of the period that has begun (once per kind, period, scheme and reporter)."""
    on = local(at).date()
    created = []
    schemes = list(db.session.scalars(select(Scheme).where(Scheme.active.is_(True)).order_by(Scheme.id)))
    for scheme in schemes:
        for rtype in kinds_of(scheme):
            period = duty_period(rtype, on, scheme)
            if period is None:
                continue
            for org in reporters(rtype, scheme):
                key = f"{rtype.kind}:{period.code}:s{scheme.id}:o{org.id}"
                if db.session.scalar(select(Duty.id).where(Duty.key == key)) is not None:
                    continue
                if rtype.per_org:
                    title_ = stored(N_("{period} {report} · {scheme} · {org}"), period=period.code,
                                    report={"msgid": rtype.label}, scheme=name_param(scheme), org=name_param(org))
                else:
                    title_ = stored(N_("{period} {report} · {scheme}"), period=period.code,
                                    report={"msgid": rtype.label}, scheme=name_param(scheme))
                d = duty_ops.create_duty(key, rtype.kind, period, org, scheme, PROCESS_KIND, title_,
                                         {"reporter_org_id": org.id, "report_kind": rtype.kind})
                if d:
                    created.append(d)
    return created

