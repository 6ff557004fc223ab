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
from app.policies.params import Product, SchemeParams, rating_at_least as params_rating_at_least
from app.workflow.sandbox import helper

ZERO = Decimal("0.00")

LOSS_BASIS_NOTES = {   # stored in the computation's notes, translated where shown
    "principal_after_recovery": N_("补偿基数：追偿处置结束后最终确认的损失本金"),
    "overdue_principal": N_("补偿基数：逾期贷款本金（先行代偿，追偿后据实清算）"),
    "principal": N_("补偿基数：贷款本金损失（划分至损失类后申报）"),
}


@dataclass
class Line:
    """One line a reviewer reads.  ``key`` is its stable id (code reads amounts by key, never by
    label); ``label`` is a msgid translated where shown, with ``args`` filled in after translation."""
    key: str
    label: str
    formula: str
    amount: str
    kind: str = "money"   # money | ratio
    args: dict = field(default_factory=dict)


@dataclass
class Computation:
    rounding: str
    rounding_label: str
    lines: list[Line] = field(default_factory=list)
    result: str = "0.00"
    notes: list[str] = field(default_factory=list)
    #: named results by stable id (e.g. "final_loss", "fund_due"), for the code that stores them
    results: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, label: str, amount: Decimal, formula: str = "", kind: str = "money",
            **args) -> Decimal:
        self.lines.append(Line(key, label, formula, str(amount), kind, args))
        return amount

    def amount(self, key: str) -> Decimal | None:
        """The amount of the line ``key`` (None when the computation has no such line)."""
        line = next((l for l in self.lines if l.key == key), None)
        return Decimal(line.amount) if line is not None else None

    def result_of(self, key: str) -> Decimal:
        return Decimal(self.results[key])

    def to_dict(self) -> dict:
        return asdict(self)


def _new(params: SchemeParams) -> Computation:
    rule = params.rounding
    return Computation(rounding=rule, rounding_label=ROUNDING_LABELS.get(rule, rule))


def fund_share(params: SchemeParams, product: str | None) -> tuple[Decimal, Product | None]:
    """The fund's share for a loan's product (永川: by product) and the product it comes from,
    else the scheme's share (product None)."""
    p = params.product(product)
    if p is not None and p.fund_share is not None:
        return p.fund_share, p
    if params.fund_share is not None:
        return params.fund_share, None
    raise DomainError(f"政策未规定产品 {product} 的基金分担比例")   # a policy gap, shown to the user


def _share_line(c: Computation, params: SchemeParams, product: str | None) -> Decimal:
    share, source = fund_share(params, product)
    if source is None:
        c.add("fund_share", N_("基金分担比例（政策分担比例）"), share, pct(share), "ratio")
    else:
        c.add("fund_share", N_("基金分担比例（产品“{product}”分担比例）"), share, pct(share), "ratio",
              product={"name": source.name, "name_en": source.name_en or ""})
    return share


def pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def advance_amount(params: SchemeParams, product: str, overdue_principal: Decimal) -> Computation:
    c = _new(params)
    c.add("overdue_principal", N_("逾期本金"), overdue_principal)
    share = _share_line(c, params, product)
    raw = overdue_principal * share
    adv = round_fen(raw, c.rounding)
    c.add("advance", N_("先行代偿金额"), adv, f"{overdue_principal} × {pct(share)} = {raw}，{c.rounding_label}")
    c.add("bank_bears", N_("银行承担"), overdue_principal - adv, f"{overdue_principal} − {adv}")
    c.result = str(adv)
    c.results = {"advance": str(adv)}
    return c


def _three_way_lines(c: Computation, prod: Product, loss: Decimal, fund_due: Decimal) -> None:
    """永川 担保贷: what the fund does not bear is shared by the guarantee company and the bank at the
    product's ratios (data; no default).  The guarantee company's part is rounded by the scheme's rule;
    the bank bears the rest, so the three parts add up to the loss to the fen."""
    if prod.bank_share is None or prod.guarantee_share is None:
        raise DomainError(f"政策未规定产品 {prod.name} 的银行和担保公司分担比例")   # a policy gap, shown to the user
    c.add("bank_share", N_("银行分担比例（产品“{product}”）"), prod.bank_share, pct(prod.bank_share), "ratio",
          product=prod.name)
    c.add("guarantee_share", N_("担保公司分担比例（产品“{product}”）"), prod.guarantee_share,
          pct(prod.guarantee_share), "ratio", product=prod.name)
    raw = loss * prod.guarantee_share
    guarantee = min(round_fen(raw, c.rounding), loss - fund_due)
    c.add("guarantee_bears", N_("担保公司承担"), guarantee,
          f"{loss} × {pct(prod.guarantee_share)} = {raw}，{c.rounding_label}")
    c.add("bank_bears", N_("银行承担"), loss - fund_due - guarantee, f"{loss} − {fund_due} − {guarantee}")
    c.results["guarantee_bears"] = str(guarantee)


def nets_costs(params: SchemeParams) -> bool:
    rule = params.recovery_after_payout
    return rule is not None and rule.kind == "net_of_costs_by_ratio"


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


def claim_amount(params: SchemeParams, f: ClaimFacts) -> Computation:
    """Fund share of the confirmed principal loss, caps, minus what the fund already paid net.

    ``results``: ``final_loss``, ``fund_due`` (the fund's share after every cap) and ``net``."""
    c = _new(params)
    basis = params.loss_basis
    c.notes.append(LOSS_BASIS_NOTES.get(basis, basis))
    c.add("loan_amount", N_("贷款金额"), f.loan_amount)
    c.add("overdue_principal", N_("逾期本金"), f.overdue_principal)
    c.add("recovered", N_("已追偿收回本金"), f.recovered)
    recovered = f.recovered
    if nets_costs(params):
        c.add("costs", N_("诉讼等费用"), f.costs)
        recovered = max(ZERO, f.recovered - f.costs)
        c.add("recovered_net", N_("扣除费用后的收回额"), recovered, f"max(0, {f.recovered} − {f.costs})")
    loss = max(ZERO, f.overdue_principal - recovered)
    c.add("final_loss", N_("最终本金损失"), loss, f"{f.overdue_principal} − {recovered}")
    share = _share_line(c, params, f.product)
    raw = loss * share
    due = round_fen(raw, c.rounding)
    c.add("fund_due", N_("基金应分担"), due, f"{loss} × {pct(share)} = {raw}，{c.rounding_label}")
    if params.cap_per_loan:
        cap = params.cap_per_loan
        if due > cap:
            due = cap
        c.add("cap_per_loan", N_("单笔代偿上限"), cap, f"取较小者 → {due}")
    if params.cap_per_bank:
        cap = params.cap_per_bank
        left = max(ZERO, cap - f.bank_paid_so_far)
        c.add("cap_per_bank_left", N_("该银行累计代偿上限剩余"), left, f"{cap} − 已代偿 {f.bank_paid_so_far}")
        if due > left:
            due = left
            c.add("fund_due_bank_capped", N_("按累计上限调整后基金应分担"), due)
    if (prod := params.product(f.product)) is not None and prod.three_way:
        _three_way_lines(c, prod, loss, due)
    else:
        c.add("bank_bears", N_("银行承担"), loss - due, f"{loss} − {due}")
    net = due
    if f.advanced:
        c.add("advanced", N_("已先行代偿"), f.advanced)
        c.add("returned", N_("已返还基金"), f.returned)
        net = due - f.advanced + f.returned
        c.add("settlement", N_("据实清算差额"), net, f"{due} − {f.advanced} + {f.returned}")
    pay = max(ZERO, net)
    c.add("pay_now", N_("本次应拨付"), pay)
    if net < 0:
        c.add("bank_refund", N_("银行应退回基金"), -net)
    c.result = str(net)
    c.results.update({"final_loss": str(loss), "fund_due": str(due), "net": str(net)})
    return c


def recovery_return(params: SchemeParams, ratio_share: Decimal | None, recovered_after: Decimal,
                    costs_after: Decimal, returned_before: Decimal, amount: Decimal) -> Computation | None:
    """What a recovery after the payout (or advance) gives back to the fund; None if the policy is silent.

    Computed on the cumulative amounts after the payout, minus what was already returned, so
    that costs recorded later and rounding never drift.
    """
    rule = params.recovery_after_payout
    if rule is None:
        return None
    c = _new(params)
    c.add("recovered_now", N_("本次收回本金"), amount)
    c.add("recovered_after_payout", N_("代偿后累计收回本金"), recovered_after)
    if rule.kind == "share_principal":
        share = rule.fund_share
        base = recovered_after
        c.notes.append(N_("追回本金按比例存回基金"))
    else:   # net_of_costs_by_ratio
        share = ratio_share if ratio_share is not None else Decimal("0")
        c.add("costs_after_payout", N_("代偿后累计诉讼等费用"), costs_after)
        base = max(ZERO, recovered_after - costs_after)
        c.add("recovered_net", N_("扣除费用后"), base, f"max(0, {recovered_after} − {costs_after})")
        c.notes.append(N_("收回款扣除诉讼等费用后按代偿比例分配"))
    raw = base * share
    total = round_fen(raw, c.rounding)
    c.add("fund_entitled", N_("基金应得累计"), total, f"{base} × {pct(share)} = {raw}，{c.rounding_label}")
    c.add("returned_before", N_("此前已返还"), returned_before)
    ret = max(ZERO, total - returned_before)
    c.add("return_now", N_("本次返还基金"), ret, f"{total} − {returned_before}")
    c.result = str(ret)
    c.results = {"return": str(ret)}
    return c


rating_at_least = params_rating_at_least   # one scale everywhere (app/policies/params.py RATINGS)


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
