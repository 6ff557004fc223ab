"""Policy gates checked when a bank approves a loan.

Pure functions: the caller gathers the facts, :func:`check_gates` applies the scheme's parameters
and explains each rule with its numbers.  *Hard* gates (scheme paused, bank suspended, firm
blacklisted, excluded activity) always block.  The others block approval as a scheme loan; a bank
may still approve the loan at its own risk, and then the loan is recorded as not eligible for
compensation, with the reasons.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.core.money import fmt_yuan

ACTIVITY_LABELS = {
    "general": "一般生产经营",
    "working_capital": "流动资金周转",
    "equipment": "设备购置与技术改造",
    "real_estate_development": "房地产开发",
    "futures": "期货投资",
}
RATING_ORDER = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C"]


@dataclass
class LoanFacts:
    amount: Decimal
    annual_rate: Decimal            # percent
    term_months: int
    disbursed_on: date
    activity: str
    reference_rate: Decimal | None
    reference_label: str = ""
    firm_blacklisted: bool = False
    firm_blacklist_reason: str = ""
    bank_suspended: bool = False
    bank_suspended_reason: str = ""
    scheme_paused: bool = False
    scheme_paused_reason: str = ""
    credit_rating: str | None = None
    whitelisted: bool = True
    first_loan: bool = True
    product: str | None = None


@dataclass
class GateResult:
    rule: str
    passed: bool
    message: str
    hard: bool = False


@dataclass
class GateReport:
    results: list[GateResult] = field(default_factory=list)

    @property
    def hard_failures(self):
        return [r for r in self.results if not r.passed and r.hard]

    @property
    def soft_failures(self):
        return [r for r in self.results if not r.passed and not r.hard]

    @property
    def eligible(self) -> bool:
        return all(r.passed for r in self.results)


def rate_cap(params: dict, reference: Decimal | None) -> Decimal | None:
    cap = params.get("rate_cap")
    if not cap or reference is None:
        return None
    if cap["kind"] == "benchmark_plus":
        return (reference + Decimal(cap["points"])).quantize(Decimal("0.0001"))
    if cap["kind"] == "benchmark_times":
        return (reference * Decimal(cap["factor"])).quantize(Decimal("0.0001"))
    raise ValueError(f"unknown rate cap kind {cap['kind']!r}")


def _pct(d: Decimal) -> str:
    return f"{d.normalize():f}%"


def check_gates(params: dict, f: LoanFacts) -> GateReport:
    rep = GateReport()
    add = rep.results.append

    add(GateResult("scheme_paused", not f.scheme_paused,
                   "风险补偿业务已暂停，暂不受理新贷款" + (f"：{f.scheme_paused_reason}" if f.scheme_paused_reason else "")
                   if f.scheme_paused else "风险补偿业务正常开展", hard=True))
    add(GateResult("bank_suspended", not f.bank_suspended,
                   "本行已被暂停开展该项业务" + (f"：{f.bank_suspended_reason}" if f.bank_suspended_reason else "")
                   if f.bank_suspended else "合作银行业务状态正常", hard=True))
    add(GateResult("blacklisted", not f.firm_blacklisted,
                   "企业已被列入失信黑名单" + (f"：{f.firm_blacklist_reason}" if f.firm_blacklist_reason else "")
                   if f.firm_blacklisted else "企业未列入黑名单", hard=True))
    excluded = params.get("excluded_activities") or []
    if excluded:
        bad = f.activity in excluded
        names = "、".join(ACTIVITY_LABELS.get(a, a) for a in excluded)
        add(GateResult("excluded_activity", not bad,
                       f"贷款用途“{ACTIVITY_LABELS.get(f.activity, f.activity)}”属于政策排除的经营行为（{names}）"
                       if bad else f"贷款用途不属于排除行为（{names}）", hard=True))

    cap = params.get("max_loan_amount")
    if cap:
        cap = Decimal(cap)
        inclusive = params.get("max_loan_inclusive", True)
        ok = f.amount <= cap if inclusive else f.amount < cap
        add(GateResult("max_loan_amount", ok,
                       f"贷款金额 {fmt_yuan(f.amount)} 元{'未超过' if ok else '超过'}单笔上限 {fmt_yuan(cap)} 元"
                       f"（{'含' if inclusive else '不含'}）"))

    if params.get("rate_cap"):
        if f.reference_rate is None:
            add(GateResult("rate_cap", False, "缺少适用的参考利率，无法校验利率上限"))
        else:
            limit = rate_cap(params, f.reference_rate)
            c = params["rate_cap"]
            how = (f"{f.reference_label} {_pct(f.reference_rate)} + {Decimal(c['points']).normalize():f} 个百分点"
                   if c["kind"] == "benchmark_plus"
                   else f"{f.reference_label} {_pct(f.reference_rate)} × {Decimal(c['factor']).normalize():f}")
            ok = f.annual_rate <= limit
            add(GateResult("rate_cap", ok,
                           f"年利率 {_pct(f.annual_rate)} {'未超过' if ok else '超过'}上限 {_pct(limit)}（{how}）"))

    max_term = params.get("max_term_months")
    if max_term:
        ok = f.term_months <= int(max_term)
        add(GateResult("max_term", ok,
                       f"贷款期限 {f.term_months} 个月{'未超过' if ok else '超过'}最长期限 {max_term} 个月"))

    need = params.get("require_credit_rating")
    if need:
        ok = (f.credit_rating in RATING_ORDER and
              RATING_ORDER.index(f.credit_rating) <= RATING_ORDER.index(need))
        add(GateResult("credit_rating", ok,
                       f"企业信用等级 {f.credit_rating or '未评级'}{'达到' if ok else '未达到'} {need} 级及以上"))
    if params.get("first_loan_only"):
        add(GateResult("first_loan", f.first_loan,
                       "首贷企业" if f.first_loan else "企业已有银行贷款，不属于首贷（政策仅补偿首贷）"))
    if params.get("require_whitelist"):
        add(GateResult("whitelist", f.whitelisted,
                       "企业在主管部门推荐名单（白名单）内" if f.whitelisted else "企业不在推荐名单（白名单）内"))
    return rep
