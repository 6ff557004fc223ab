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

from app.core.i18n import N_, _
from app.core.money import fmt_yuan
from app.policies.params import SchemeParams

ACTIVITY_LABELS = {   # shown as _(label)
    "general": N_("一般生产经营"),
    "working_capital": N_("流动资金周转"),
    "equipment": N_("设备购置与技术改造"),
    "real_estate_development": N_("房地产开发"),
    "futures": N_("期货投资"),
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
    joint_guarantee: bool = False   # the firm's controllers give a joint-liability guarantee
    pure_credit: bool = True        # no collateral and no third-party guarantee


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


def rate_cap(params: SchemeParams, reference: Decimal | None) -> Decimal | None:
    if params.rate_cap is None or reference is None:
        return None
    return params.rate_cap.limit(reference)


def _pct(d: Decimal) -> str:
    return f"{d.normalize():f}%"


def _because(message: str, reason: str) -> str:
    return _("{message}：{reason}").format(message=message, reason=reason) if reason else message


def check_gates(params: SchemeParams, f: LoanFacts) -> GateReport:
    """Messages are in the current locale; wrap the call in ``i18n.source_language()`` to store them."""
    rep = GateReport()
    add = rep.results.append

    add(GateResult("scheme_paused", not f.scheme_paused,
                   _because(_("风险补偿业务已暂停，暂不受理新贷款"), f.scheme_paused_reason)
                   if f.scheme_paused else _("风险补偿业务正常开展"), hard=True))
    add(GateResult("bank_suspended", not f.bank_suspended,
                   _because(_("本行已被暂停开展该项业务"), f.bank_suspended_reason)
                   if f.bank_suspended else _("合作银行业务状态正常"), hard=True))
    add(GateResult("blacklisted", not f.firm_blacklisted,
                   _because(_("企业已被列入失信黑名单"), f.firm_blacklist_reason)
                   if f.firm_blacklisted else _("企业未列入黑名单"), hard=True))
    excluded = params.excluded_activities
    if excluded:
        bad = f.activity in excluded
        names = _("、").join(_(ACTIVITY_LABELS.get(a, a)) for a in excluded)
        add(GateResult("excluded_activity", not bad,
                       _("贷款用途“{activity}”属于政策排除的经营行为（{names}）").format(
                           activity=_(ACTIVITY_LABELS.get(f.activity, f.activity)), names=names)
                       if bad else _("贷款用途不属于排除行为（{names}）").format(names=names), hard=True))

    cap = params.max_loan_amount
    if cap:
        inclusive = params.max_loan_inclusive
        ok = f.amount <= cap if inclusive else f.amount < cap
        add(GateResult("max_loan_amount", ok,
                       (_("贷款金额 {amount} 元未超过单笔上限 {cap} 元") if ok else _("贷款金额 {amount} 元超过单笔上限 {cap} 元"))
                       .format(amount=fmt_yuan(f.amount), cap=fmt_yuan(cap)) +
                       (_("（含）") if inclusive else _("（不含）"))))

    if params.rate_cap is not None:
        if f.reference_rate is None:
            add(GateResult("rate_cap", False, _("缺少适用的参考利率，无法校验利率上限")))
        else:
            limit = rate_cap(params, f.reference_rate)
            c = params.rate_cap
            ref = f"{_(f.reference_label) if f.reference_label else ''} {_pct(f.reference_rate)}".strip()
            how = (_("{ref} + {points} 个百分点").format(ref=ref, points=f"{c.points.normalize():f}")
                   if c.kind == "benchmark_plus"
                   else f"{ref} × {c.factor.normalize():f}")
            ok = f.annual_rate <= limit
            add(GateResult("rate_cap", ok,
                           (_("年利率 {rate} 未超过上限 {limit}（{how}）") if ok else _("年利率 {rate} 超过上限 {limit}（{how}）"))
                           .format(rate=_pct(f.annual_rate), limit=_pct(limit), how=how)))

    max_term = params.max_term_months
    if max_term:
        ok = f.term_months <= max_term
        add(GateResult("max_term", ok,
                       (_("贷款期限 {term} 个月未超过最长期限 {max} 个月") if ok else _("贷款期限 {term} 个月超过最长期限 {max} 个月"))
                       .format(term=f.term_months, max=max_term)))
    normal = params.normal_term_months
    if normal and f.term_months > normal and (not max_term or f.term_months <= max_term):
        # 凌源: "一般为 2 年，最长不超过 3 年" — longer than usual is allowed, and said so
        add(GateResult("normal_term", True, _("贷款期限 {term} 个月长于一般期限 {normal} 个月，请在贷前调查意见中说明理由")
                       .format(term=f.term_months, normal=normal)))

    need = params.require_credit_rating
    if need:
        ok = (f.credit_rating in RATING_ORDER and
              RATING_ORDER.index(f.credit_rating) <= RATING_ORDER.index(need))
        add(GateResult("credit_rating", ok,
                       (_("企业信用等级 {rating}达到 {need} 级及以上") if ok else _("企业信用等级 {rating}未达到 {need} 级及以上"))
                       .format(rating=f.credit_rating or _("未评级"), need=need)))
    if params.require_joint_guarantee:
        add(GateResult("joint_guarantee", f.joint_guarantee,
                       _("企业实际控制人提供连带责任保证") if f.joint_guarantee
                       else _("企业实际控制人未提供连带责任保证（政策要求）")))
    if params.pure_credit_only:
        add(GateResult("pure_credit", f.pure_credit,
                       _("纯信用贷款") if f.pure_credit else _("贷款有抵押或第三方担保，不属于纯信用贷款（政策仅支持纯信用贷款）")))
    if params.first_loan_only:
        add(GateResult("first_loan", f.first_loan,
                       _("首贷企业") if f.first_loan else _("企业已有银行贷款，不属于首贷（政策仅补偿首贷）")))
    if params.require_whitelist:
        add(GateResult("whitelist", f.whitelisted,
                       _("企业在主管部门推荐名单（白名单）内") if f.whitelisted else _("企业不在推荐名单（白名单）内")))
    return rep
