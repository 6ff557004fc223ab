"""Computing and confirming a performance evaluation (绩效评价), and who sees which row.

* :func:`compute` (finance bureau or financial office of the scheme) builds the evaluation of a
  year from the loan book and the task history (:mod:`app.performance.metrics`) against the
  targets of the scheme's current policy version (``params.performance``).  A target no seed gives
  and the administrator has not entered is shown as *not evaluated*.  Recomputing replaces the
  period's open draft; after a confirmation it opens a new draft (the next revision).
* :func:`confirm` (the finance bureau only) freezes the draft and, where the scheme fills its pool by
  target completion (江津 第七条, ``params.performance.pool_fill``), posts each bank's deposit to
  the fund ledger once (idempotent key per evaluation and bank, the evaluation row locked).

The pool rule (江津 第七条, seed 001 lines 167-171: 区政府根据各合作银行完成“增信贷”绩效目标比例存入):
each member bank's slice of the pool is ``total × its target ÷ the sum of the banks' targets``; what
is due to it is its slice × its completion of the target (actual ÷ target, between 0 and 1),
rounded to the fen with the named rule (``pool_fill.rounding``, "down" by default so that the
slices never add up to more than the pool); the deposit is what is due minus what earlier
confirmed evaluations already deposited for the bank, never negative (the pool is only filled here:
a withdrawal needs 区政府's approval, 第八条 line 189).  If any member bank has no target entered, no
deposit is computed and the page says which bank lacks one.
"""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import Organisation
from app.core import audit
from app.core.db import db
from app.core.errors import DomainError, NotAllowed
from app.core.i18n import N_, _, stored
from app.core.money import FEN, ROUNDING_LABELS, fmt_yuan, round_fen
from app.core.timeutil import now, today
from app.fund import operations as fund
from app.performance import metrics
from app.performance.models import Evaluation, EvaluationRow
from app.policies.models import Scheme
from app.policies.params import PerformanceTarget

SUBJECT = "performance_evaluation"
READER_KINDS = ("finance_bureau", "financial_office")
COMPUTER_KINDS = ("finance_bureau", "financial_office")
CONFIRMER_KIND = "finance_bureau"
FUND_KIND = "performance_deposit"


class PerformanceError(DomainError):
    pass


# ---------------------------------------------------------------------------- who may do what

def _member(scheme: Scheme, user, kinds) -> bool:
    kind = user.organisation.kind
    return kind in kinds and scheme.member(user.organisation_id, kind) is not None


def can_read_all(scheme: Scheme, user) -> bool:
    return user.organisation.kind == "admin" or _member(scheme, user, READER_KINDS)


def can_compute(scheme: Scheme, user) -> bool:
    return _member(scheme, user, COMPUTER_KINDS)


def can_confirm(scheme: Scheme, user) -> bool:
    return _member(scheme, user, (CONFIRMER_KIND,))


def visible_rows(ev: Evaluation, user) -> list[EvaluationRow] | None:
    """The rows ``user`` may see: all for the finance bureau, the financial office and administrators;
    its own row for a bank or a department; None when it may see nothing of this evaluation."""
    if can_read_all(ev.scheme, user):
        return list(ev.rows)
    kind = user.organisation.kind
    if kind not in ("bank", "department"):
        return None
    own = [r for r in ev.rows if r.kind == kind and r.org_id == user.organisation_id]
    return own or None


def evaluations_for(user, limit: int = 200) -> list[Evaluation]:
    """The evaluations ``user`` has something to see in, newest first."""
    kind = user.organisation.kind
    q = select(Evaluation).order_by(Evaluation.period.desc(), Evaluation.scheme_id, Evaluation.revision.desc())
    if kind in ("bank", "department"):
        q = q.where(Evaluation.id.in_(select(EvaluationRow.evaluation_id).where(
            EvaluationRow.kind == kind, EvaluationRow.org_id == user.organisation_id)))
    return [e for e in db.session.scalars(q.limit(limit)) if visible_rows(e, user) is not None]


# ---------------------------------------------------------------------------- targets against actuals

def _text(value) -> str | int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else str(value)


def judge(target: PerformanceTarget, value, actual) -> dict:
    """One target against its actual: evaluated or why not, met, and the completion ratio."""
    out = {"metric": target.metric, "direction": target.direction, "target": _text(value), "actual": _text(actual),
           "evaluated": False, "met": None, "completion": None, "reason": None}
    if value is None:
        out["reason"] = "not_entered"
        return out
    if actual is None:
        out["reason"] = "no_actual"
        return out
    t, a = Decimal(value), Decimal(actual)
    out["evaluated"] = True
    if target.direction == "at_least":
        out["met"] = a >= t
        out["completion"] = str(metrics.q(a / t)) if t > 0 else ("1.0000" if a >= 0 else None)
    else:
        out["met"] = a <= t
        out["completion"] = "1.0000" if a <= t else str(metrics.q(t / a))
    return out


def _targets(scheme: Scheme, code: str | None, actuals: dict) -> list[dict]:
    perf = scheme.params.performance
    if perf is None:
        return []
    return [judge(t, t.value_for(code), actuals.get(t.metric)) for t in perf.targets]


def _dump(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, default=lambda v: str(v) if isinstance(v, Decimal) else v)


# ---------------------------------------------------------------------------- the pool (江津 第七条)

def already_deposited(scheme_id: int, bank_id: int) -> Decimal:
    v = db.session.scalar(select(func.coalesce(func.sum(EvaluationRow.deposit), 0)).join(
        Evaluation, Evaluation.id == EvaluationRow.evaluation_id).where(
        Evaluation.scheme_id == scheme_id, Evaluation.status == "confirmed",
        EvaluationRow.kind == "bank", EvaluationRow.org_id == bank_id))
    return Decimal(str(v or 0)).quantize(FEN)


def pool_due(scheme: Scheme, bank_rows: list[tuple[Organisation, dict]]) -> tuple[dict[int, dict], dict | None]:
    """Per member bank: slice, completion and what is due by 江津 第七条; or why nothing is computed
    (``{"reason": "missing_targets" | "zero_total", "banks": [organisation ids]}``)."""
    perf = scheme.params.performance
    fill = perf.pool_fill if perf else None
    if fill is None:
        return {}, None
    target = perf.target(fill.metric)
    members = {m.organisation_id for m in scheme.members if m.role == "bank"}
    banks = [(o, a) for o, a in bank_rows if o.id in members]
    values = {o.id: target.value_for(o.code) for o, _a in banks}
    missing = [o for o, _a in banks if values[o.id] is None]
    if missing:
        return {}, {"reason": "missing_targets", "banks": [o.id for o in missing]}
    total_target = sum((Decimal(v) for v in values.values()), Decimal(0))
    if total_target <= 0:
        return {}, {"reason": "zero_total", "banks": []}
    out = {}
    for o, actuals in banks:
        t = Decimal(values[o.id])
        share = fill.total * t / total_target
        actual = Decimal(actuals.get(fill.metric) or 0)
        completion = min(Decimal(1), max(Decimal(0), actual / t)) if t > 0 else Decimal(0)
        due = round_fen(share * completion, fill.rounding)
        out[o.id] = {"metric": fill.metric, "pool_total": str(fill.total), "target": str(t),
                     "targets_total": str(total_target), "share": str(round_fen(share, fill.rounding)),
                     "actual": str(actual), "completion": str(metrics.q(completion)), "due": str(due),
                     "rounding": fill.rounding}
    return out, None


# ---------------------------------------------------------------------------- compute

def _latest(scheme_id: int, period: str, *, lock: bool = False) -> Evaluation | None:
    q = select(Evaluation).where(Evaluation.scheme_id == scheme_id, Evaluation.period == period) \
        .order_by(Evaluation.revision.desc()).limit(1)
    if lock:     # a recomputation waits for a confirmation running on the same draft, then sees it confirmed
        q = q.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(q)


def compute(scheme_id: int, period: str, user) -> Evaluation:
    """The period's draft evaluation, (re)computed now; see the module docstring."""
    scheme = db.session.scalar(select(Scheme).where(Scheme.id == scheme_id).with_for_update()
                               .execution_options(populate_existing=True))
    if scheme is None:
        raise PerformanceError(_("没有该政策"), "scheme_id")
    if not can_compute(scheme, user):
        raise NotAllowed(_("只有该政策的财政局或金融办可以计算绩效评价"))
    problem = metrics.period_problem(period)
    if problem:
        raise PerformanceError(_(problem), "period")
    if int(period) > today().year:
        raise PerformanceError(_("评价年度尚未开始：{p}").format(p=period), "period")
    perf = scheme.params.performance
    latest = _latest(scheme.id, period, lock=True)
    if latest is not None and latest.status == "draft":
        ev = latest
        ev.rows.clear()
        db.session.flush()
    else:
        ev = Evaluation(scheme_id=scheme.id, period=period, revision=(latest.revision + 1) if latest else 1)
        db.session.add(ev)
    ev.params_version = scheme.params_version
    ev.computed_at, ev.computed_by_id = now(), user.id
    ev.basis_json = _dump({"targets": perf.model_dump(mode="json")["targets"] if perf else [],
                           "pool_fill": perf.model_dump(mode="json")["pool_fill"] if perf else None,
                           "as_of_now": int(period) == today().year})

    per_bank, total = metrics.book(scheme.id, period)
    decisions = metrics.bank_decisions(scheme.id, period)
    bank_ids = [m.organisation_id for m in scheme.members if m.role == "bank"]
    bank_ids += sorted((set(per_bank) | set(decisions)) - set(bank_ids))
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(bank_ids or [0])))}
    bank_rows = []
    for bank_id in bank_ids:
        o = orgs[bank_id]
        actuals = {**per_bank[bank_id].actuals(), **decisions.get(bank_id, {"decided": 0, "accepted": 0,
                   "acceptance_rate": None, "median_days": None, "mean_days": None})}
        bank_rows.append((o, actuals))
    due, why_not = pool_due(scheme, bank_rows)
    for o, actuals in bank_rows:
        ev.rows.append(EvaluationRow(kind="bank", org_id=o.id, figures_json=_dump(
            {"actuals": actuals, "targets": _targets(scheme, o.code, actuals), "pool": due.get(o.id)})))
    decided = sum(d["decided"] for d in decisions.values())
    accepted = sum(d["accepted"] for d in decisions.values())
    scheme_actuals = {**total.actuals(), "decided": decided, "accepted": accepted,
                      "acceptance_rate": metrics.q(Decimal(accepted) / decided) if decided else None}
    ev.rows.append(EvaluationRow(kind="scheme", org_id=None, figures_json=_dump(
        {"actuals": scheme_actuals, "targets": _targets(scheme, None, scheme_actuals), "pool_not_computed": why_not})))
    for dept_id, figs in sorted(metrics.department_turnaround(scheme.id, period).items()):
        ev.rows.append(EvaluationRow(kind="department", org_id=dept_id, figures_json=_dump({"actuals": figs})))
    db.session.flush()
    audit.record(SUBJECT, ev.id, "performance_computed", user, details={
        "scheme_id": scheme.id, "period": period, "revision": ev.revision, "params_version": ev.params_version},
        visible_to_enterprise=False)
    return ev


# ---------------------------------------------------------------------------- confirm

def confirm(evaluation_id: int, user, note: str = "") -> Evaluation:
    """Freeze the draft and post each bank's pool deposit once; see the module docstring."""
    ev = db.session.scalar(select(Evaluation).where(Evaluation.id == evaluation_id).with_for_update()
                           .execution_options(populate_existing=True))
    if ev is None:
        raise PerformanceError(_("没有该绩效评价"))
    if not can_confirm(ev.scheme, user):
        raise NotAllowed(_("只有该政策的财政局可以确认绩效评价"))
    if ev.status != "draft":
        err = PerformanceError(_("该绩效评价已于 {at} 确认，不能再次确认；如需更正请重新计算（生成新的修订稿）").format(
            at=ev.confirmed_at.strftime("%Y-%m-%d") if ev.confirmed_at else ""))
        err.status = 409
        raise err
    newer = _latest(ev.scheme_id, ev.period)
    if newer is not None and newer.id != ev.id:
        raise PerformanceError(_("该评价已有更新的修订稿，请确认最新的修订稿"))
    note = (note or "").strip()
    if len(note) > 2000:
        raise PerformanceError(_("说明最多 2000 字"), "note")
    posted = []
    for row in ev.rows:
        pool = row.figures.get("pool") if row.kind == "bank" else None
        if not pool:
            continue
        deposit = max(Decimal("0.00"), Decimal(pool["due"]) - already_deposited(ev.scheme_id, row.org_id))
        row.deposit = deposit
        if deposit > 0:
            rule = ROUNDING_LABELS[pool["rounding"]]
            memo = stored(N_("{period} 年度绩效评价（第 {rev} 稿）：按目标完成比例 {c} 存入，{rule}"),
                          period=ev.period, rev=ev.revision, c=pool["completion"], rule={"msgid": rule})
            entry = fund.post(ev.scheme_id, FUND_KIND, deposit, key=f"performance:{ev.id}:bank:{row.org_id}",
                              actor=user, ref_type="performance_row", ref_id=row.id, memo=memo)
            row.fund_entry_id = entry.id
            posted.append({"bank_id": row.org_id, "amount": fmt_yuan(deposit), "entry_id": entry.id})
    db.session.flush()
    ev.status, ev.confirmed_at, ev.confirmed_by_id, ev.confirm_note = "confirmed", now(), user.id, note or None
    db.session.flush()
    audit.record(SUBJECT, ev.id, "performance_confirmed", user, note, details={
        "scheme_id": ev.scheme_id, "period": ev.period, "revision": ev.revision, "deposits": posted},
        visible_to_enterprise=False)
    return ev
