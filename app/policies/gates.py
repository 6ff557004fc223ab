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
from app.policies.params import RATINGS, SchemeParams, rating_at_least

ACTIVITY_LABELS = {   # shown as _(label)
    "general": N_("一般生产经营"),
    "working_capital": N_("流动资金周转"),
    "equipment": N_("设备购置与技术改造"),
    "real_estate_development": N_("房地产开发"),
    "futures": N_("期货投资"),
}
RATING_ORDER = list(RATINGS)   # one scale everywhere (app/policies/params.py)
# words of a registered business scope (经营范围) that put a firm in an excluded activity (江津 art.11.3:
# 无购买期货、从事房地产开发等经营行为)
SCOPE_WORDS = {"real_estate_development": ("房地产开发", "房地产经营", "房地产"), "futures": ("期货",)}


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
    firm_business_scope: str = ""   # the firm's registered business scope (经营范围)
    term_reason: str = ""           # why the term is longer than the normal term
    bank_ended: bool = False        # the bank's cooperation was stopped (江津 art.10)
    bank_ended_reason: str = ""
    # the credit side (app/credit): blacklisted persons of the firm, the recommended list on the approval date
    persons_blacklisted: tuple[str, ...] = ()   # "实际控制人 张三（110101********1234）：reason", one a person
    listed: bool = True
    listed_reason: str = ""
    commitment_valid: bool = True
    commitment_reason: str = ""
    # credit facts from the data loaded from source units (app/credit/sources.py); ``declared_rating`` is
    # what the firm typed on its form: shown beside a mismatch, never decisive
    credit_rating_source: str = ""
    declared_rating: str | None = None
    credit_report: bool = True
    dishonesty_records: tuple[str, ...] = ()


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


def _credit_note(f: LoanFacts) -> str:
    """Where the rating came from, and the firm's own declaration when it differs (shown, never decisive)."""
    note = _("（依据{source}）").format(source=f.credit_rating_source) if f.credit_rating_source else ""
    declared = (f.declared_rating or "").strip().upper()
    if declared and declared != (f.credit_rating or ""):
        note += _("（企业申报 {declared} 级，与已归集信用信息不符）").format(declared=declared)
    return note


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
    if f.bank_ended:
        add(GateResult("bank_ended", False, _because(_("区政府已停止与本行的合作，不再受理新贷款"), f.bank_ended_reason),
                       hard=True))
    add(GateResult("blacklisted", not f.firm_blacklisted,
                   _because(_("企业已被列入失信黑名单"), f.firm_blacklist_reason)
                   if f.firm_blacklisted else _("企业未列入黑名单"), hard=True))
    add(GateResult("persons_blacklisted", not f.persons_blacklisted,
                   _("企业法定代表人、实际控制人或大股东已被列入黑名单：{who}").format(who=_("；").join(f.persons_blacklisted))
                   if f.persons_blacklisted else _("企业法定代表人、实际控制人、大股东未列入黑名单"), hard=True))
    excluded = params.excluded_activities
    if excluded:
        bad = f.activity in excluded
        names = _("、").join(_(ACTIVITY_LABELS.get(a, a)) for a in excluded)
        add(GateResult("excluded_activity", not bad,
                       _("贷款用途“{activity}”属于政策排除的经营行为（{names}）").format(
                           activity=_(ACTIVITY_LABELS.get(f.activity, f.activity)), names=names)
                       if bad else _("贷款用途不属于排除行为（{names}）").format(names=names), hard=True))
        if params.exclude_by_business_scope:
            scope = f.firm_business_scope or ""
            hits = [a for a in excluded if any(w in scope for w in SCOPE_WORDS.get(a, ()))]
            add(GateResult("excluded_business", not hits,
                           _("企业登记的经营范围含政策排除的经营行为（{names}）").format(
                               names=_("、").join(_(ACTIVITY_LABELS.get(a, a)) for a in hits))
                           if hits else _("企业登记的经营范围不含排除行为（{names}）").format(names=names), hard=True))

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
        # 凌源: "一般为 2 年，最长不超过 3 年" — longer than usual is allowed with a stated reason
        reason = (f.term_reason or "").strip()
        add(GateResult("normal_term", bool(reason),
                       _("贷款期限 {term} 个月长于一般期限 {normal} 个月，理由：{reason}").format(
                           term=f.term_months, normal=normal, reason=reason) if reason else
                       _("贷款期限 {term} 个月长于一般期限 {normal} 个月，须说明理由").format(
                           term=f.term_months, normal=normal), hard=not reason))

    need = params.require_credit_rating
    if need:
        ok = rating_at_least(f.credit_rating, need)
        add(GateResult("credit_rating", ok,
                       (_("企业信用等级 {rating}达到 {need} 级及以上") if ok else _("企业信用等级 {rating}未达到 {need} 级及以上"))
                       .format(rating=f.credit_rating or _("未评级"), need=need) + _credit_note(f)))
    if params.require_credit_report:
        add(GateResult("credit_report", f.credit_report,
                       _("已归集企业信用报告") if f.credit_report else _("没有已归集的企业信用报告")))
    if params.require_no_dishonesty_record:
        add(GateResult("dishonesty_record", not f.dishonesty_records,
                       _("企业有失信记录：{records}").format(records=_("；").join(f.dishonesty_records))
                       if f.dishonesty_records else _("已归集的信用信息中没有企业失信记录")))
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
    if params.require_recommended_list:
        add(GateResult("recommended_list", f.listed,
                       _("企业在推荐名单内（审批日有效）") if f.listed
                       else _because(_("企业不在推荐名单内（审批日无有效名单记录）"), f.listed_reason)))
    if params.require_credit_commitment:
        add(GateResult("credit_commitment", f.commitment_valid,
                       _("企业已作出信用承诺（经确认且有效）") if f.commitment_valid
                       else _because(_("企业没有有效的信用承诺"), f.commitment_reason)))
    return rep
