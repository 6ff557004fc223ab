"""Replay before go-live: run a scheme's worked examples through its rules and bound diagrams.

Each example (``SchemeParams.examples``; the presets ship each seed's worked numbers) gives inputs
and the outcome expected.  Replay computes the outcome with the scheme's parameters — gates,
shares, caps, advance and settlement, payout deadline — and runs the scheme's *bound* process of
the example's kind (its current or pinned version) to its end, answering each user task as the
domain operation would.  Everything runs inside a SAVEPOINT that is rolled back: no instance,
task or timer row stays, on SQLite and PostgreSQL alike.  The result lists, per example, pass or
fail and every difference (expected vs actual) by key.

Outcome keys (an example lists only those it checks):

* ``gates``: ``eligible`` (bool), ``failed`` / ``hard_failed`` (rule ids, any order),
  ``rate_cap`` (percent), ``end`` / ``path`` (the loan diagram's end event and user tasks);
* ``compensation``: ``advance``, ``recovery_return``, ``final_loss``, ``fund_due``, ``net``,
  ``pay_now`` (yuan), ``end`` / ``path`` (the compensation diagram);
* ``payout_due``: ``due`` (the date ``payout_working_days`` working days after ``from``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.compensation import rules
from app.core.db import db
from app.core.errors import DomainError
from app.core.money import yuan
from app.core.timeutil import today
from app.core.workdays import calendar
from app.policies import bindings
from app.policies.gates import LoanFacts, check_gates, rate_cap
from app.policies.models import Scheme
from app.policies.params import Example, parse_params
from app.policies.rates import reference_rate
from app.workflow import engine

SUBJECT = "replay"
UNORDERED = {"failed", "hard_failed"}
DIAGRAM_KINDS = {"gates": "loan_application", "compensation": "compensation"}


@dataclass
class Difference:
    key: str
    expected: Any
    actual: Any


@dataclass
class ExampleResult:
    example: Example
    actual: dict = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None
    process: str | None = None           # "process_id vN" the example ran through

    @property
    def passed(self) -> bool:
        return self.error is None and not self.differences


@dataclass
class Report:
    scheme: Scheme
    results: list[ExampleResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]


# ---------------------------------------------------------------------------- comparing

def _norm(key: str, value):
    if isinstance(value, list):
        value = [_norm(key, v) for v in value]
        return sorted(value, key=str) if key in UNORDERED else value
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            d = Decimal(value)
        except InvalidOperation:
            return value
        return d if d.is_finite() else value
    if isinstance(value, date):
        return value.isoformat()
    return value


def compare(expected: dict, actual: dict) -> list[Difference]:
    """Each expected key whose actual value differs (money compared as Decimal: "425000" == "425000.00")."""
    out = []
    for key, want in expected.items():
        got = actual.get(key)
        if _norm(key, want) != _norm(key, got):
            out.append(Difference(key, want, got))
    return out


# ---------------------------------------------------------------------------- running examples

def _d(inputs: dict, key: str, default="0.00") -> Decimal:
    return yuan(str(inputs.get(key, default)))


def _date(inputs: dict, key: str) -> date:
    value = inputs.get(key)
    return date.fromisoformat(value) if value else today()


def _members(scheme: Scheme, roles) -> list:
    """Member organisation ids of these roles (a placeholder per role where the scheme has none yet)."""
    out = []
    for role in roles:
        orgs = scheme.member_orgs(role)
        out.extend(o.id for o in orgs) if orgs else out.append(None)
    return out


def _first(scheme: Scheme, role: str):
    orgs = scheme.member_orgs(role)
    return orgs[0].id if orgs else None


def _run_diagram(scheme: Scheme, spec, data: dict, answers: dict, created: list) -> dict:
    """Start the bound version with ``data`` and answer its user tasks from ``answers``
    (bpmn id → dict, or a list of dicts used one after another)."""
    inst = engine.start_spec(spec, SUBJECT, 0, data)
    created.append(inst.id)
    used: dict[str, int] = {}

    def answer(bpmn_id, _task_data):
        value = answers.get(bpmn_id)
        if isinstance(value, list):
            i = used.get(bpmn_id, 0)
            used[bpmn_id] = i + 1
            return value[i] if i < len(value) else None
        return value
    return engine.drive(engine.locked_instance(inst.id), answer)


def _gates(scheme: Scheme, ex: Example, spec, created: list) -> dict:
    p, i = scheme.params, ex.inputs
    term = int(i.get("term_months", 12))
    on = _date(i, "disbursed_on")
    if "reference_rate" in i:
        ref, ref_label = Decimal(str(i["reference_rate"])), ""
    else:
        row = reference_rate(p.reference_rate_kind, term, on)
        ref, ref_label = row.rate, ""
    facts = LoanFacts(
        amount=_d(i, "amount"), annual_rate=Decimal(str(i.get("annual_rate", "0"))), term_months=term,
        disbursed_on=on, activity=i.get("activity", "working_capital"), reference_rate=ref,
        reference_label=ref_label, credit_rating=i.get("credit_rating"), whitelisted=i.get("whitelisted", True),
        first_loan=i.get("first_loan", True), product=i.get("product"), joint_guarantee=i.get("joint_guarantee", False),
        pure_credit=i.get("pure_credit", True), firm_blacklisted=i.get("firm_blacklisted", False),
        bank_suspended=i.get("bank_suspended", False), scheme_paused=i.get("scheme_paused", False),
        # a worked example beyond the normal term assumes the bank states its reason unless it says otherwise
        term_reason=i.get("term_reason", "算例：贷前调查意见中说明的理由"),
        firm_business_scope=i.get("business_scope", ""))
    report = check_gates(p, facts)
    cap = rate_cap(p, ref)
    actual = {"eligible": report.eligible,
              "failed": sorted(r.rule for r in report.results if not r.passed),
              "hard_failed": sorted(r.rule for r in report.hard_failures),
              "rate_cap": str(cap) if cap is not None else None}
    bank = _first(scheme, "bank")   # direct_to_bank diagrams (黔江) start at the bank
    run = _run_diagram(scheme, spec, {
        "title": ex.name, "application_id": 0, "enterprise_org_id": None,
        "department_org_id": None, "bank_org_id": bank}, {
        "department_review": {"dept_decision": "recommend", "bank_org_id": bank},
        "bank_due_diligence": {"bank_decision": "decline" if report.hard_failures else "approve",
                               "loan_id": 0, "filing_recipients": _members(scheme, p.filing_recipient_roles)},
        "filing_ack": {"filing_ack_by": None},
    }, created)
    actual.update(end=run["end"], path=run["path"])
    return actual


def _compensation(scheme: Scheme, ex: Example, spec, created: list) -> dict:
    p, i = scheme.params, ex.inputs
    product = i.get("product") or p.products[0].code
    overdue = _d(i, "overdue_principal")
    recovered, costs = _d(i, "recovered"), _d(i, "costs")
    actual: dict = {}
    advanced = returned = rules.ZERO
    if p.advance_at_overdue:
        advanced = rules.advance_amount(p, product, overdue).result_of("advance")
        actual["advance"] = str(advanced)
        # recoveries after the advance go back to the fund by the policy's rule
        share, _src = rules.fund_share(p, product)
        ret = rules.recovery_return(p, share, recovered, costs, rules.ZERO, recovered) if recovered else None
        if ret is not None:
            returned = ret.result_of("return")
            actual["recovery_return"] = str(returned)
    comp = rules.claim_amount(p, rules.ClaimFacts(
        loan_amount=_d(i, "loan_amount", str(overdue)), product=product, overdue_principal=overdue,
        recovered=recovered, costs=costs, advanced=advanced, returned=returned,
        bank_paid_so_far=_d(i, "bank_paid_so_far")))
    net = Decimal(comp.results["net"])
    actual.update(final_loss=comp.results["final_loss"], fund_due=comp.results["fund_due"], net=str(net),
                  pay_now=str(max(rules.ZERO, net)))
    members = _members(scheme, p.joint_meeting_roles)
    decisions = i.get("joint_decisions") or ["approve"] * len(members)
    approve = {"advance_decision": "approve"}
    run = _run_diagram(scheme, spec, {
        "title": ex.name, "claim_id": 0, "bank_org_id": _first(scheme, "bank"),
        "advance_requested": bool(p.advance_at_overdue),
        "finance_org_id": _first(scheme, "finance_bureau"), "finoffice_org_id": _first(scheme, "financial_office"),
        "gov_org_id": _first(scheme, p.advance_approver_role or "financial_office"),
        "reviewer_org_id": _first(scheme, p.advance_reviewer_role or "finance_bureau"),
        "payer_org_id": _first(scheme, p.advance_payer_role or "guarantee"),
        "joint_members": members, "joint_meeting_rule": p.joint_meeting_rule}, {
        "advance_review": approve, "advance_approve": approve, "advance_pay": {},
        "recovery_close": {}, "dept_opinion": {"dept_decision": "agree"},   # 凌源: the department signs
        "claim_submit": [{"claim_eligible": True, "payout_positive": net > 0, "review_decisions": []}],
        "joint_review": [{"review_decision": d} for d in decisions],
        "payout_letter": {"letter_no": "REPLAY"}, "disburse": {},
    }, created)
    actual.update(end=run["end"], path=run["path"])
    return actual


def _payout_due(scheme: Scheme, ex: Example) -> dict:
    start = _date(ex.inputs, "from")
    return {"due": calendar().add_working_days(start, scheme.params.payout_working_days).isoformat()}


def _run(scheme: Scheme, ex: Example, specs: dict, created: list) -> ExampleResult:
    res = ExampleResult(ex)
    spec = specs.get(DIAGRAM_KINDS.get(ex.kind))
    if spec is not None:
        res.process = f"{spec.process_id} v{spec.version}"
    try:
        with db.session.begin_nested():
            if ex.kind == "gates":
                res.actual = _gates(scheme, ex, spec, created)
            elif ex.kind == "compensation":
                res.actual = _compensation(scheme, ex, spec, created)
            else:
                res.actual = _payout_due(scheme, ex)
    except (DomainError, ValueError, ArithmeticError, LookupError, TypeError) as exc:
        res.error = f"{type(exc).__name__}: {exc}"
        return res
    res.differences = compare(ex.expected, res.actual)
    return res


def replay(scheme: Scheme, examples=None) -> Report:
    """Run ``examples`` (default: the scheme's own) and roll everything back; returns the report."""
    if examples is None:
        examples = scheme.params.examples
    else:
        examples = parse_params({**scheme.params.model_dump(mode="json"), "examples": list(examples)}).examples
    # resolve the bound versions first: a deployment they may need must not be rolled back with the replay
    specs = {kind: bindings.spec_for(scheme, kind) for kind in DIAGRAM_KINDS.values()}
    created: list[int] = []
    outer = db.session.begin_nested()
    try:
        results = [_run(scheme, ex, specs, created) for ex in examples]
    finally:
        outer.rollback()
        engine.forget_instances(created)
    return Report(scheme, results)
