"""The money rules of a compensation, as pure functions over policy parameters (no database).

Every computation returns a :class:`Computation`: the lines a reviewer reads (label, formula,
amount), the rounding rule used and the result.  The numbers come from the scheme's parameters
(app/policies/presets/*.json); nothing here knows a district by name.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from app.core.errors import DomainError
from app.core.i18n import N_
from app.core.money import ROUNDING_LABELS, round_fen
from app.workflow.sandbox import helper

ZERO = Decimal("0.00")

LOSS_BASIS_LABELS = {
    "principal_after_recovery": "追偿处置结束后最终确认的损失本金",
    "overdue_principal": "逾期贷款本金（先行代偿，追偿后据实清算）",
    "principal": "贷款本金损失（划分至损失类后申报）",
}


@dataclass
class Line:
    label: str
    formula: str
    amount: str
    kind: str = "money"   # money | ratio

    @classmethod
    def of(cls, label: str, amount: Decimal, formula: str = "", kind: str = "money") -> "Line":
        return cls(label, formula, str(amount), kind)


@dataclass
class Computation:
    rounding: str
    rounding_label: str
    lines: list[Line] = field(default_factory=list)
    result: str = "0.00"
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, amount: Decimal, formula: str = "", kind: str = "money") -> Decimal:
        self.lines.append(Line.of(label, amount, formula, kind))
        return amount

    def to_dict(self) -> dict:
        return asdict(self)


def rounding_of(params: dict) -> str:
    return params.get("rounding") or "half_up"


def _new(params: dict) -> Computation:
    rule = rounding_of(params)
    return Computation(rounding=rule, rounding_label=ROUNDING_LABELS.get(rule, rule))


def fund_share(params: dict, product: str) -> tuple[Decimal, str]:
    """The fund's share for a loan's product (永川: by product), else the scheme's share."""
    for p in params.get("products", []):
        if p.get("code") == product and p.get("fund_share") not in (None, ""):
            return Decimal(str(p["fund_share"])), f"产品“{p.get('name', product)}”分担比例"
    if params.get("fund_share") not in (None, ""):
        return Decimal(str(params["fund_share"])), "政策分担比例"
    raise DomainError(f"政策未规定产品 {product} 的基金分担比例")   # a policy gap, shown to the user


def pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def advance_amount(params: dict, product: str, overdue_principal: Decimal) -> Computation:
    c = _new(params)
    share, source = fund_share(params, product)
    c.add(N_("逾期本金"), overdue_principal)
    c.add(f"基金分担比例（{source}）", share, pct(share), "ratio")
    raw = overdue_principal * share
    adv = round_fen(raw, c.rounding)
    c.add(N_("先行代偿金额"), adv, f"{overdue_principal} × {pct(share)} = {raw}，{c.rounding_label}")
    c.add(N_("银行承担"), overdue_principal - adv, f"{overdue_principal} − {adv}")
    c.result = str(adv)
    return c


def nets_costs(params: dict) -> bool:
    rule = params.get("recovery_after_payout") or {}
    return rule.get("kind") == "net_of_costs_by_ratio"


@dataclass
class ClaimFacts:
    loan_amount: Decimal
    product: str
    overdue_principal: Decimal
    recovered: Decimal              # principal recovered up to the claim
    costs: Decimal                  # litigation costs up to the claim
    advanced: Decimal = ZERO        # paid out already as an advance
    returned: Decimal = ZERO        # already returned to the fund from recoveries after the advance
    bank_paid_so_far: Decimal = ZERO  # this bank's compensation in the scheme so far (for a cap)


def claim_amount(params: dict, f: ClaimFacts) -> Computation:
    """Fund share of the confirmed principal loss, caps, minus what the fund already paid net."""
    c = _new(params)
    basis = params.get("loss_basis") or "principal_after_recovery"
    c.notes.append("补偿基数：" + LOSS_BASIS_LABELS.get(basis, basis))
    c.add(N_("贷款金额"), f.loan_amount)
    c.add(N_("逾期本金"), f.overdue_principal)
    c.add(N_("已追偿收回本金"), f.recovered)
    recovered = f.recovered
    if nets_costs(params):
        c.add(N_("诉讼等费用"), f.costs)
        recovered = max(ZERO, f.recovered - f.costs)
        c.add(N_("扣除费用后的收回额"), recovered, f"max(0, {f.recovered} − {f.costs})")
    loss = max(ZERO, f.overdue_principal - recovered)
    c.add(N_("最终本金损失"), loss, f"{f.overdue_principal} − {recovered}")
    share, source = fund_share(params, f.product)
    c.add(f"基金分担比例（{source}）", share, pct(share), "ratio")
    raw = loss * share
    due = round_fen(raw, c.rounding)
    c.add(N_("基金应分担"), due, f"{loss} × {pct(share)} = {raw}，{c.rounding_label}")
    if params.get("cap_per_loan"):
        cap = Decimal(str(params["cap_per_loan"]))
        if due > cap:
            due = cap
        c.add(N_("单笔代偿上限"), cap, f"取较小者 → {due}")
    if params.get("cap_per_bank"):
        cap = Decimal(str(params["cap_per_bank"]))
        left = max(ZERO, cap - f.bank_paid_so_far)
        c.add(N_("该银行累计代偿上限剩余"), left, f"{cap} − 已代偿 {f.bank_paid_so_far}")
        if due > left:
            due = left
            c.add(N_("按累计上限调整后基金应分担"), due)
    c.add(N_("银行承担"), loss - due, f"{loss} − {due}")
    net = due
    if f.advanced:
        c.add(N_("已先行代偿"), f.advanced)
        c.add(N_("已返还基金"), f.returned)
        net = due - f.advanced + f.returned
        c.add(N_("据实清算差额"), net, f"{due} − {f.advanced} + {f.returned}")
    pay = max(ZERO, net)
    c.add(N_("本次应拨付"), pay)
    if net < 0:
        c.add(N_("银行应退回基金"), -net)
    c.result = str(net)
    return c


def recovery_return(params: dict, ratio_share: Decimal | None, recovered_after: Decimal,
                    costs_after: Decimal, returned_before: Decimal, amount: Decimal) -> Computation | None:
    """What a recovery after the payout (or advance) gives back to the fund; None if the policy is silent.

    Computed on the cumulative amounts after the payout, minus what was already returned, so
    that costs recorded later and rounding never drift.
    """
    rule = params.get("recovery_after_payout") or None
    if not rule:
        return None
    c = _new(params)
    c.add(N_("本次收回本金"), amount)
    c.add(N_("代偿后累计收回本金"), recovered_after)
    if rule.get("kind") == "share_principal":
        share = Decimal(str(rule["fund_share"]))
        base = recovered_after
        c.notes.append(N_("追回本金按比例存回基金"))
    elif rule.get("kind") == "net_of_costs_by_ratio":
        share = ratio_share if ratio_share is not None else Decimal("0")
        c.add(N_("代偿后累计诉讼等费用"), costs_after)
        base = max(ZERO, recovered_after - costs_after)
        c.add(N_("扣除费用后"), base, f"max(0, {recovered_after} − {costs_after})")
        c.notes.append(N_("收回款扣除诉讼等费用后按代偿比例分配"))
    else:
        raise ValueError(f"unknown recovery_after_payout kind {rule.get('kind')!r}")
    raw = base * share
    total = round_fen(raw, c.rounding)
    c.add(N_("基金应得累计"), total, f"{base} × {pct(share)} = {raw}，{c.rounding_label}")
    c.add(N_("此前已返还"), returned_before)
    ret = max(ZERO, total - returned_before)
    c.add(N_("本次返还基金"), ret, f"{total} − {returned_before}")
    c.result = str(ret)
    return c


RATING_ORDER = ["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB", "B", "CCC", "CC", "C", "D"]


def rating_at_least(rating: str | None, required: str) -> bool:
    if not rating:
        return False
    r, q = rating.strip().upper(), required.strip().upper()
    if r not in RATING_ORDER or q not in RATING_ORDER:
        return False
    return RATING_ORDER.index(r) <= RATING_ORDER.index(q)


@helper("joint_review_outcome")
def joint_review_outcome(decisions, rule, members) -> str:
    """pass | return | reject for one joint-meeting round ("all" or "majority" of the members)."""
    decisions = list(decisions or [])
    if "return" in decisions:
        return "return"
    approvals = sum(1 for d in decisions if d == "approve")
    if rule == "majority":
        return "pass" if approvals * 2 > int(members) else "reject"
    return "pass" if approvals == int(members) else "reject"
