"""A scheme's policy parameters as one validated model (:class:`SchemeParams`).

Presets (``presets/*.json``, one per seed) and the administrator's edits load into it; the rest of
the code reads typed attributes (``params.fund_share`` is a Decimal), never dictionary keys.
Stored form (``Scheme.params_json``): JSON in which money and ratios are *strings* ("5000000.00",
"0.65"), never JSON numbers — a float would lose fen.

:func:`validate_params` reports every problem as ``{key: message}`` in the user's language, the
key naming the parameter (``rate_cap.factor``, ``products[1].fund_share``), so the administrator
sees which value is wrong.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from app.core.i18n import _
from app.core.money import ROUNDING_RULES

# organisation roles a scheme knows (the member roles, same names as organisation kinds)
KNOWN_ROLES = ("bank", "finance_bureau", "financial_office", "service_centre", "guarantee", "pboc", "regulator",
               "district_government",   # 区政府 (江津 art.8/9: every withdrawal from the pool needs its approval)
               "leading_group_office", "leading_group")
# roles that are not an organisation kind: any (non-enterprise) organisation may hold them (凌源 领导小组)
COMMITTEE_ROLES = ("leading_group_office", "leading_group")
REFERENCE_RATE_KINDS = ("pboc_benchmark", "lpr")
JOINT_MEETING_RULES = ("all", "majority")
LOSS_BASES = ("principal_after_recovery", "overdue_principal", "principal")
CLAIMABLE_WHEN = ("recovery_ended", "overdue", "loss_class")
RECOVERY_KINDS = ("share_principal", "net_of_costs_by_ratio")
ACTIVITIES = ("general", "working_capital", "equipment", "real_estate_development", "futures")
# One credit-rating scale for the whole app (gates, compensation rules, forms), best first: the PBoC
# scale (信贷市场和银行间债券市场信用评级规范) in which every grade from AA to B may carry + or -,
# AAA and CCC and below may not.
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
           "B+", "B", "B-", "CCC", "CC", "C")
APPLICATION_ROUTES = ("department_recommendation", "direct_to_bank")
NPL_ACTIONS = ("suspend", "stop")
MAX_MONTHS = 1200


class Problem(ValueError):
    """A parameter value is wrong; ``sub`` names the part inside it (``points``, ``[1].code``)."""

    def __init__(self, message: str, sub: str | None = None):
        super().__init__(message)
        self.message, self.sub = message, sub


# ---------------------------------------------------------------------------- value checks

def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    try:
        d = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _money(value, *, required=False):
    if value is None:
        if required:
            raise Problem(_("必须填写金额"))
        return None
    d = _decimal(value)
    if d is None:
        raise Problem(_("金额应写成字符串形式的数字（如 \"5000000.00\"），不能是 JSON 数字：{v}").format(v=value))
    if d != d.quantize(Decimal("0.01")):
        raise Problem(_("金额最多保留两位小数（分）：{v}").format(v=value))
    if d < 0:
        raise Problem(_("金额不能为负数：{v}").format(v=value))
    return d


def _ratio(value, *, required=False, sub=None):
    if value is None:
        if required:
            raise Problem(_("必须填写比例"), sub)
        return None
    d = _decimal(value)
    if d is None:
        raise Problem(_("比例应写成字符串形式的小数（如 \"0.65\"）：{v}").format(v=value), sub)
    if not Decimal(0) <= d <= Decimal(1):
        raise Problem(_("比例应在 0 到 1 之间：{v}").format(v=value), sub)
    return d


def _int(value, *, maximum=MAX_MONTHS, required=False):
    if value is None:
        if required:
            raise Problem(_("必须填写"))
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise Problem(_("应为 1 到 {m} 之间的整数：{v}").format(m=maximum, v=value))
    return value


def _bool(value):
    if not isinstance(value, bool):
        raise Problem(_("应为 true 或 false：{v}").format(v=value))
    return value


def _choice(choices, *, required=False):
    def check(value):
        if value is None and not required:
            return None
        if value not in choices:
            raise Problem(_("取值“{v}”无效，可选：{c}").format(v=value, c="、".join(choices)))
        return value
    return check


def _roles(value):
    if not isinstance(value, list) or not value:
        raise Problem(_("应为非空的角色列表"))
    unknown = [r for r in value if r not in KNOWN_ROLES]
    if unknown:
        raise Problem(_("未知角色：{r}（可用：{known}）").format(r="、".join(map(str, unknown)),
                                                           known="、".join(KNOWN_ROLES)))
    if len(set(value)) != len(value):
        raise Problem(_("角色重复"))
    return tuple(value)


def _text(value):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Problem(_("应为文字"))
    return value


def _name(value):
    if not isinstance(value, str) or not value.strip():
        raise Problem(_("政策名称不能为空"))
    return value


def _v(fn, **kw):
    return BeforeValidator(lambda value: fn(value, **kw))


Money = Annotated[Decimal | None, _v(_money)]
Ratio = Annotated[Decimal | None, _v(_ratio)]
Months = Annotated[int | None, _v(_int)]
Flag = Annotated[bool, BeforeValidator(_bool)]
Roles = Annotated[tuple[str, ...], BeforeValidator(_roles)]
Role = Annotated[str | None, BeforeValidator(_choice(KNOWN_ROLES))]


# ---------------------------------------------------------------------------- parts

class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


LOSS_SPLITS = ("fund_bank", "fund_bank_guarantee")
SUBSIDY_BASES = ("interest_share", "principal_rate")
SUBSIDY_PERIODS = ("month", "quarter", "year")
DAY_COUNTS = (360, 365)


class Product(_Part):
    code: str
    name: str
    name_en: str = ""
    fund_share: Decimal | None = None      # None: not entered yet (永川: the seed gives no ratio)
    # 永川 担保贷: the loss is shared by the fund, the bank and the guarantee company (三方分担);
    # the bank's and the guarantee company's shares are data, entered like ``fund_share``
    loss_split: Literal["fund_bank", "fund_bank_guarantee"] = "fund_bank"
    bank_share: Decimal | None = None
    guarantee_share: Decimal | None = None

    @property
    def three_way(self) -> bool:
        return self.loss_split == "fund_bank_guarantee"


def _product(value):
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"code\", \"name\", \"fund_share\"} 对象"))
    if not isinstance(value.get("code"), str) or not value["code"].strip():
        raise Problem(_("产品代码不能为空"), "code")
    if not isinstance(value.get("name"), str) or not value["name"].strip():
        raise Problem(_("产品名称不能为空"), "name")
    unknown = sorted(set(value) - set(Product.model_fields))
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    split = value.get("loss_split", "fund_bank")
    if split not in LOSS_SPLITS:
        raise Problem(_("取值“{v}”无效，可选：{c}").format(v=split, c="、".join(LOSS_SPLITS)), "loss_split")
    out = {**value, "loss_split": split}
    for key in ("fund_share", "bank_share", "guarantee_share"):
        out[key] = _ratio(value.get(key), sub=key)
    if split == "fund_bank" and (out["bank_share"] is not None or out["guarantee_share"] is not None):
        raise Problem(_("只有三方分担（fund_bank_guarantee）的产品才填写银行和担保公司比例"), "loss_split")
    shares = (out["fund_share"], out["bank_share"], out["guarantee_share"])
    if split == "fund_bank_guarantee" and None not in shares and sum(shares) != Decimal(1):
        raise Problem(_("基金、银行、担保公司三方比例之和应为 1（现为 {s}）").format(s=sum(shares)), "guarantee_share")
    return out


def _products(value):
    if not isinstance(value, list) or not value:
        raise Problem(_("至少需要一个贷款产品"))
    seen = set()
    for i, p in enumerate(value):
        code = p.get("code") if isinstance(p, dict) else None
        if isinstance(code, str) and code in seen:
            raise Problem(_("产品代码重复：{c}").format(c=code), f"[{i}].code")
        seen.add(code)
    return value


class RateCap(_Part):
    """Interest cap: benchmark + points (percentage points) or benchmark × factor."""
    kind: Literal["benchmark_plus", "benchmark_times"]
    points: Decimal | None = None
    factor: Decimal | None = None

    def limit(self, reference: Decimal) -> Decimal:
        if self.kind == "benchmark_plus":
            return (reference + self.points).quantize(Decimal("0.0001"))
        return (reference * self.factor).quantize(Decimal("0.0001"))


def _rate_cap(value):
    if value is None:
        return None
    kinds = {"benchmark_plus": "points", "benchmark_times": "factor"}
    if not isinstance(value, dict) or value.get("kind") not in kinds:
        raise Problem(_("利率上限类型应为 benchmark_plus（基准加点）或 benchmark_times（基准倍数）"), "kind")
    field = kinds[value["kind"]]
    d = _decimal(value.get(field))
    if d is None:
        raise Problem(_("应写成字符串形式的数字：{v}").format(v=value.get(field)), field)
    if field == "points" and not Decimal(0) <= d <= Decimal(100):
        raise Problem(_("加点应在 0 到 100 个百分点之间：{v}").format(v=value.get(field)), field)
    if field == "factor" and not Decimal(1) <= d <= Decimal(10):
        raise Problem(_("倍数应在 1 到 10 之间：{v}").format(v=value.get(field)), field)
    return {"kind": value["kind"], field: d}


class RecoveryRule(_Part):
    """What recoveries after the payout give back to the fund."""
    kind: Literal["share_principal", "net_of_costs_by_ratio"]
    fund_share: Decimal | None = None     # share_principal: the fund's share of recovered principal


def _recovery(value):
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("kind") not in RECOVERY_KINDS:
        raise Problem(_("取值无效，可选：{c}").format(c="、".join(RECOVERY_KINDS)), "kind")
    if value["kind"] == "share_principal":
        return {"kind": value["kind"], "fund_share": _ratio(value.get("fund_share"), required=True, sub="fund_share")}
    return {"kind": value["kind"]}


class NplRule(_Part):
    """Suspend (or end) a bank's cooperation when its NPL ratio reaches the threshold.

    ``action``: ``suspend`` until a rectification is approved (黔江), or ``stop`` — the cooperation
    ends and no rectification brings it back (江津 art.10: 区政府停止与该银行的合作)."""
    threshold: Decimal
    inclusive: bool = True
    action: Literal["suspend", "stop"] = "suspend"


def _npl(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"threshold\": \"0.03\", \"inclusive\": true} 形式"))
    threshold = _ratio(value.get("threshold"), required=True, sub="threshold")
    inclusive = value.get("inclusive", True)
    if not isinstance(inclusive, bool):
        raise Problem(_("应为 true 或 false"), "inclusive")
    action = value.get("action", "suspend")
    if action not in NPL_ACTIONS:
        raise Problem(_("取值“{v}”无效，可选：{c}").format(v=action, c="、".join(NPL_ACTIONS)), "action")
    unknown = sorted(set(value) - {"threshold", "inclusive", "action"})
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    return {"threshold": threshold, "inclusive": inclusive, "action": action}


def _multiple(value):
    if value is None:
        return None
    d = _decimal(value)
    if d is None or d <= 0:
        raise Problem(_("应为字符串形式的正数（如 \"10\"）：{v}").format(v=value))
    return d


def _activities(value):
    if value is None:
        return ()
    if not isinstance(value, list) or any(a not in ACTIVITIES for a in value):
        raise Problem(_("应为贷款用途列表，可选：{c}").format(c="、".join(ACTIVITIES)))
    return tuple(value)


EXAMPLE_KINDS = ("gates", "compensation", "payout_due")
_EXAMPLE_VALUE = (str, int, bool, type(None))


class Example(_Part):
    """A worked example of the scheme (app/policies/replay.py runs it): the inputs and the expected
    outcome, money and ratios as strings like every parameter.  ``kind`` says what it exercises:
    ``gates`` (the approval gates and the loan diagram), ``compensation`` (shares, caps, advance,
    settlement and the compensation diagram), ``payout_due`` (the payout deadline in working days)."""
    name: str
    kind: Literal["gates", "compensation", "payout_due"]
    source: str = ""                     # where the numbers come from (article, test)
    inputs: dict[str, Any] = {}
    expected: dict[str, Any]


def _example(value):
    if not isinstance(value, dict):
        raise Problem(_("算例应为 {\"name\", \"kind\", \"inputs\", \"expected\"} 对象"))
    if not isinstance(value.get("name"), str) or not value["name"].strip():
        raise Problem(_("算例名称不能为空"), "name")
    if value.get("kind") not in EXAMPLE_KINDS:
        raise Problem(_("取值“{v}”无效，可选：{c}").format(v=value.get("kind"), c="、".join(EXAMPLE_KINDS)), "kind")
    unknown = sorted(set(value) - set(Example.model_fields))
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    for part in ("inputs", "expected"):
        items = value.get(part, {})
        if not isinstance(items, dict) or (part == "expected" and not items):
            raise Problem(_("应为非空的 JSON 对象"), part)
        for k, v in items.items():
            ok = isinstance(v, _EXAMPLE_VALUE) or (isinstance(v, list) and all(isinstance(x, _EXAMPLE_VALUE) for x in v))
            if not ok:
                raise Problem(_("应为文字、整数、true/false 或它们的列表（金额写成字符串）"), f"{part}.{k}")
    return value


def _examples(value):
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Problem(_("应为算例列表"))
    names = [e.get("name") for e in value if isinstance(e, dict)]
    dup = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if dup:
        raise Problem(_("算例名称重复：{n}").format(n="、".join(dup)))
    return tuple(value)


class BatchRules(_Part):
    """A yearly batch of claims reviewed and published together (凌源 办法 art.17): who does each step
    and the step deadlines (working days).  Roles are scheme-member roles."""
    period: Literal["year"] = "year"
    department_opinion: bool = True            # the bank's 申请表 carries the relevant department's opinion
    office_role: str = "leading_group_office"  # 初审; issues the payout with the finance bureau
    verifier_roles: tuple[str, ...] = ("financial_office", "pboc")   # 核查 where the office doubts
    approver_roles: tuple[str, ...] = ("leading_group",)             # 领导小组 approval
    approval_rule: Literal["all", "majority"] = "majority"
    payer_role: str = "finance_bureau"
    publicity_working_days: int = 5
    step_working_days: dict[str, int] = {}     # form key → working days (default deadlines)


def _batch(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(_("应为 JSON 对象"))
    unknown = sorted(set(value) - set(BatchRules.model_fields))
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    out = dict(value)
    for key in ("office_role", "payer_role"):
        if key in out:
            _choice(KNOWN_ROLES, required=True)(out[key])
    for key in ("verifier_roles", "approver_roles"):
        if key in out:
            try:
                out[key] = _roles(out[key])
            except Problem as exc:
                raise Problem(exc.message, key) from None
    if "approval_rule" in out:
        _choice(JOINT_MEETING_RULES, required=True)(out["approval_rule"])
    if "publicity_working_days" in out:
        try:
            _int(out["publicity_working_days"], maximum=90, required=True)
        except Problem as exc:
            raise Problem(exc.message, "publicity_working_days") from None
    steps = out.get("step_working_days", {})
    if not isinstance(steps, dict):
        raise Problem(_("应为 {\"任务表单键\": 工作日数} 对象"), "step_working_days")
    for k, v in steps.items():
        try:
            _int(v, maximum=90, required=True)
        except Problem as exc:
            raise Problem(exc.message, f"step_working_days.{k}") from None
    return out


def _sources(value):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise Problem(_("应为 {\"参数名\": \"出处\"} 对象（文字）"))
    return value


# the reports of app/reports/operations.py (REPORTS) a scheme may owe; their deadlines are scheme data
REPORT_KINDS = ("monthly_statistics", "jiangjin_monthly", "quarterly_bulletin")
DEADLINE_RULES = {"day_of_month": 28, "working_days": 30}      # rule → largest value


def _report_deadlines(value):
    """report kind → its deadline after the period: ``{"day_of_month": 5}`` (that day of the next month,
    or the next working day) or ``{"working_days": 10}`` (the nth working day of the next period)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"报表\": {\"day_of_month\": 日} 或 {\"working_days\": 天数}} 对象"))
    out = {}
    for kind, rule in value.items():
        if kind not in REPORT_KINDS:
            raise Problem(_("未知的报表：{k}（可选：{c}）").format(k=kind, c="、".join(REPORT_KINDS)))
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in DEADLINE_RULES:
            raise Problem(_("应为 {\"day_of_month\": 日} 或 {\"working_days\": 天数}"), kind)
        (key, n), = rule.items()
        try:
            out[kind] = {key: _int(n, maximum=DEADLINE_RULES[key], required=True)}
        except Problem as exc:
            raise Problem(exc.message, f"{kind}.{key}") from None
    return out


def _processes(value):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                              for k, v in value.items()):
        raise Problem(_("应为 {\"流程类别\": \"流程 id\"} 对象"))
    return value


class SubsidyProgramme(_Part):
    """One interest-subsidy programme (贴息, 永川 seed 004 lines 83, 95), paid from its own budget
    (app/subsidies).  Every number is data with no default: a programme with a value missing
    (:meth:`missing`) takes no application until an administrator enters it.

    ``basis``: ``interest_share`` — the subsidy is ``rate`` × the interest actually paid in the
    period; ``principal_rate`` — ``rate`` a year on the loan's principal for the period's days
    (``day_count`` days a year), never more than the interest actually paid.  ``cap_per_period``
    caps one period's subsidy of one loan.  A loan is eligible when its product is in
    ``eligible_products`` and (if any are named) its purpose is in ``eligible_activities``."""
    code: str
    name: str
    name_en: str = ""
    basis: Literal["interest_share", "principal_rate"] | None = None
    rate: Decimal | None = None
    day_count: int | None = None
    period: Literal["month", "quarter", "year"] | None = None
    cap_per_period: Decimal | None = None
    eligible_products: tuple[str, ...] = ()
    eligible_activities: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """The parameters still to be entered before the programme takes applications."""
        out = [k for k in ("basis", "rate", "period") if getattr(self, k) is None]
        if self.basis == "principal_rate" and self.day_count is None:
            out.append("day_count")
        if not self.eligible_products:
            out.append("eligible_products")
        return out


def _programme(value):
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"code\", \"name\", \"basis\", \"rate\", …} 对象"))
    unknown = sorted(set(value) - set(SubsidyProgramme.model_fields))
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    for key in ("code", "name"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise Problem(_("不能为空"), key)
    out = dict(value)
    for key, choices in (("basis", SUBSIDY_BASES), ("period", SUBSIDY_PERIODS), ("day_count", DAY_COUNTS)):
        if out.get(key) is not None and out[key] not in choices:
            raise Problem(_("取值“{v}”无效，可选：{c}").format(v=out[key], c="、".join(map(str, choices))), key)
    out["rate"] = _ratio(value.get("rate"), sub="rate")
    try:
        out["cap_per_period"] = _money(value.get("cap_per_period"))
    except Problem as exc:
        raise Problem(exc.message, "cap_per_period") from None
    for key, allowed in (("eligible_products", None), ("eligible_activities", ACTIVITIES)):
        items = value.get(key) or []
        if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items) \
                or (allowed and any(x not in allowed for x in items)):
            raise Problem(_("应为代码列表") + (("：" + "、".join(allowed)) if allowed else ""), key)
        out[key] = tuple(items)
    return out


def _programmes(value):
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Problem(_("应为贴息项目列表"))
    codes = [p.get("code") for p in value if isinstance(p, dict)]
    dup = sorted({c for c in codes if isinstance(c, str) and codes.count(c) > 1})
    if dup:
        raise Problem(_("贴息项目代码重复：{c}").format(c="、".join(dup)))
    return tuple(value)


# ---------------------------------------------------------------------------- performance targets (绩效评价)

# metric → direction: "at_least" (a target to reach) or "at_most" (a ceiling).  What each metric
# measures is defined once in app/performance/metrics.py and shown on the evaluation page.
PERFORMANCE_METRICS = {
    "balance_growth": "at_least",      # scheme-loan balance at the period's end minus at its start (yuan)
    "new_borrowers": "at_least",       # firms with a scheme balance at the end minus at the start (户)
    "npl_ratio": "at_most",            # non-performing share of the balance at the period's end
    "first_loan_share": "at_least",    # 首贷占比: first loans among the loans disbursed in the period
    "volume": "at_least",              # 总量: amount of scheme loans disbursed in the period (yuan)
    "growth_rate": "at_least",         # 增速: balance growth ÷ balance at the start
}
PERFORMANCE_MONEY = ("balance_growth", "volume")
PERFORMANCE_COUNTS = ("new_borrowers",)


def _metric_value(metric: str, value, sub: str):
    """A target value of ``metric``: money (yuan, fen), a count, or a ratio; None = not entered."""
    if value is None:
        return None
    if metric in PERFORMANCE_COUNTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Problem(_("应为不小于 0 的整数：{v}").format(v=value), sub)
        return value
    if metric in PERFORMANCE_MONEY:
        try:
            return _money(value)
        except Problem as exc:
            raise Problem(exc.message, sub) from None
    d = _decimal(value)
    if d is None or d < 0 or (metric != "growth_rate" and d > 1):
        raise Problem(_("比例应写成字符串形式的小数（如 \"0.018\"）：{v}").format(v=value), sub)
    return d


class PerformanceTarget(_Part):
    """One target: ``bank_value`` applies to every cooperating bank unless ``bank_values`` (organisation
    code → value) names the bank; ``scheme_value`` applies to the scheme's total.  None: not entered
    (the target is then shown as not evaluated)."""
    metric: Literal["balance_growth", "new_borrowers", "npl_ratio", "first_loan_share", "volume", "growth_rate"]
    bank_value: Decimal | int | None = None
    bank_values: dict[str, Decimal | int] = {}
    scheme_value: Decimal | int | None = None

    @property
    def direction(self) -> str:
        return PERFORMANCE_METRICS[self.metric]

    def value_for(self, org_code: str | None):
        """The bank's target (its own entry, else the common one); ``None`` for the scheme total row."""
        if org_code is None:
            return self.scheme_value
        return self.bank_values.get(org_code, self.bank_value)


class PoolFill(_Part):
    """江津 第七条: the pool is filled per bank by its completion of the target ``metric``
    (rule in app/performance/operations.py).  ``total`` is the pool; ``rounding`` names the fen rule."""
    metric: Literal["balance_growth", "new_borrowers", "volume"] = "balance_growth"
    total: Decimal
    rounding: str = "down"


class Performance(_Part):
    period: Literal["year"] = "year"
    targets: tuple[PerformanceTarget, ...] = ()
    pool_fill: PoolFill | None = None

    def target(self, metric: str) -> PerformanceTarget | None:
        return next((t for t in self.targets if t.metric == metric), None)


def _performance(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"period\", \"targets\", \"pool_fill\"} 对象"))
    unknown = sorted(set(value) - set(Performance.model_fields))
    if unknown:
        raise Problem(_("未知参数：{k}").format(k="、".join(unknown)))
    out = dict(value)
    if out.get("period", "year") != "year":
        raise Problem(_("取值“{v}”无效，可选：{c}").format(v=out.get("period"), c="year"), "period")
    targets = out.get("targets", [])
    if not isinstance(targets, list):
        raise Problem(_("应为目标列表"), "targets")
    seen, checked = set(), []
    for i, t in enumerate(targets):
        sub = f"targets[{i}]"
        if not isinstance(t, dict) or t.get("metric") not in PERFORMANCE_METRICS:
            raise Problem(_("指标无效，可选：{c}").format(c="、".join(PERFORMANCE_METRICS)), f"{sub}.metric")
        m = t["metric"]
        if m in seen:
            raise Problem(_("指标重复：{m}").format(m=m), f"{sub}.metric")
        seen.add(m)
        extra = sorted(set(t) - set(PerformanceTarget.model_fields))
        if extra:
            raise Problem(_("未知参数：{k}").format(k="、".join(extra)), sub)
        per_bank = t.get("bank_values") or {}
        if not isinstance(per_bank, dict) or not all(isinstance(k, str) and k.strip() for k in per_bank):
            raise Problem(_("应为 {\"机构代码\": 目标值} 对象"), f"{sub}.bank_values")
        checked.append({"metric": m,
                        "bank_value": _metric_value(m, t.get("bank_value"), f"{sub}.bank_value"),
                        "scheme_value": _metric_value(m, t.get("scheme_value"), f"{sub}.scheme_value"),
                        "bank_values": {k: _metric_value(m, v, f"{sub}.bank_values.{k}")
                                        for k, v in per_bank.items()}})
    out["targets"] = checked
    fill = out.get("pool_fill")
    if fill is not None:
        if not isinstance(fill, dict):
            raise Problem(_("应为 {\"metric\", \"total\", \"rounding\"} 对象"), "pool_fill")
        extra = sorted(set(fill) - set(PoolFill.model_fields))
        if extra:
            raise Problem(_("未知参数：{k}").format(k="、".join(extra)), "pool_fill")
        metric = fill.get("metric", "balance_growth")
        if metric not in ("balance_growth", "new_borrowers", "volume"):
            raise Problem(_("取值“{v}”无效，可选：{c}").format(v=metric, c="balance_growth、new_borrowers、volume"),
                          "pool_fill.metric")
        if metric not in seen:
            raise Problem(_("按目标完成比例存入须有该指标的目标：{m}").format(m=metric), "pool_fill.metric")
        try:
            total = _money(fill.get("total"), required=True)
        except Problem as exc:
            raise Problem(exc.message, "pool_fill.total") from None
        rounding = fill.get("rounding", "down")
        if rounding not in ROUNDING_RULES:
            raise Problem(_("取值“{v}”无效，可选：{c}").format(v=rounding, c="、".join(ROUNDING_RULES)),
                          "pool_fill.rounding")
        out["pool_fill"] = {"metric": metric, "total": total, "rounding": rounding}
    return out


# ---------------------------------------------------------------------------- the model

class SchemeParams(BaseModel):
    """Every number and rule of one scheme.  Frozen: an edit is a new validated instance."""
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # where each value comes from: parameter name → seed citation, or "default, not in the seed"
    sources: Annotated[dict[str, str], BeforeValidator(_sources)] = Field(default={}, alias="_sources")

    # what the scheme is (documentation shown on the scheme's pages)
    name: Annotated[str, BeforeValidator(_name)]
    name_en: Annotated[str, _v(_text)] = ""
    source: Annotated[str, _v(_text)] = ""          # the policy text it comes from
    notes: Annotated[str, _v(_text)] = ""

    # the fund
    fund_size: Annotated[Decimal, _v(_money, required=True)]
    guarantee_capital: Money = None                # 江津: the guarantee company's own capital
    yearly_tax_allocation_ratio: Ratio = None      # 凌源: share of local financial-sector tax revenue
    bank_interest_contribution_ratio: Ratio = None  # 凌源: banks' share of their 信易贷 interest income

    # what a scheme loan may be (the approval gates)
    max_loan_amount: Money = None
    max_loan_inclusive: Flag = True
    rate_cap: Annotated[RateCap | None, BeforeValidator(_rate_cap)] = None
    reference_rate_kind: Annotated[str, BeforeValidator(_choice(REFERENCE_RATE_KINDS, required=True))]
    max_term_months: Months = None
    normal_term_months: Months = None
    excluded_activities: Annotated[tuple[str, ...], BeforeValidator(_activities)] = ()
    exclude_by_business_scope: Flag = False        # 江津: also the firm's registered business scope
    application_route: Annotated[str, BeforeValidator(_choice(APPLICATION_ROUTES, required=True))] = \
        "department_recommendation"                # 黔江 art.10: the firm applies directly to a bank
    require_credit_rating: Annotated[str | None, BeforeValidator(_choice(RATINGS))] = None
    require_whitelist: Flag = False
    require_joint_guarantee: Flag = False          # controllers give a joint-liability guarantee
    pure_credit_only: Flag = False                 # pure credit loans only (no collateral)
    first_loan_only: Flag = False
    products: Annotated[tuple[Annotated[Product, BeforeValidator(_product)], ...], BeforeValidator(_products)]

    # sharing a loss
    fund_share: Ratio = None
    loss_basis: Annotated[str, BeforeValidator(_choice(LOSS_BASES, required=True))] = "principal_after_recovery"
    claimable_when: Annotated[str, BeforeValidator(_choice(CLAIMABLE_WHEN, required=True))] = "recovery_ended"
    advance_at_overdue: Flag = False
    advance_payer_role: Role = None
    advance_approver_role: Role = None
    advance_reviewer_role: Role = None             # who accepts the advance application (default: finance bureau)
    cap_per_loan: Money = None
    cap_per_bank: Money = None
    recovery_after_payout: Annotated[RecoveryRule | None, BeforeValidator(_recovery)] = None
    borrower_sees_claim_details: Flag = False      # members' opinions and the bank's materials (default: not shown)
    rounding: Annotated[str, BeforeValidator(_choice(tuple(ROUNDING_RULES), required=True))]

    # thresholds
    pause_at_payout_ratio: Ratio = None
    suspend_bank_npl: Annotated[NplRule | None, BeforeValidator(_npl)] = None
    loans_to_fund_review_multiple: Annotated[Decimal | None, BeforeValidator(_multiple)] = None

    # who does what
    filing_recipient_roles: Roles
    joint_meeting_roles: Roles
    joint_meeting_rule: Annotated[str, BeforeValidator(_choice(JOINT_MEETING_RULES, required=True))]
    payout_working_days: Annotated[int, _v(_int, maximum=90, required=True)]
    payout_deadline_wording: Annotated[str, _v(_text)] = ""   # the seed's own words (凌源 "及时")
    # the banks' monthly filing duty (app/duties): due on this working day of the month (黔江 art. 12)
    filing_working_days: Annotated[int, _v(_int, maximum=30, required=True)] = 5
    batch: Annotated[BatchRules | None, BeforeValidator(_batch)] = None   # 凌源: yearly batch of claims
    # process kind → process id this scheme runs unless the administrator binds another (bindings.py)
    processes: Annotated[dict[str, str], BeforeValidator(_processes)] = {}
    # the reports this scheme owes (app/reports) and each one's deadline after its period
    report_deadlines: Annotated[dict[str, dict[str, int]], BeforeValidator(_report_deadlines)] = {}

    # the credit side (app/credit): the recommended list and blacklists
    require_recommended_list: Flag = False         # firm on the recommended list on the approval date (凌源 arts. 8, 11)
    require_credit_commitment: Flag = False        # a confirmed 信用承诺书, not lapsed (凌源 实施方案 四(四)2)
    # credit facts read from the data loaded from source units (app/credit/sources.py), never the firm's form
    require_credit_report: Flag = False            # a loaded credit report exists (凌源 实施方案 四(二)5)
    require_no_dishonesty_record: Flag = False     # no 失信 record in force (凌源 实施方案 四(二)5)
    list_notice_working_days: Annotated[int | None, _v(_int, maximum=90)] = None  # 公示 window (working days)
    list_review_months: Months = None              # a listing is valid this long, then reviewed again
    list_office_role: Role = None                  # 领导小组办公室: reviews nominations, decides listing
    list_credit_check_role: Role = None            # 信用核查 of nominated firms (凌源: 发改局)
    blacklist_years: Annotated[int | None, _v(_int, maximum=50)] = None  # a scheme violation's listing (江津: 5)

    # interest subsidies (贴息, 永川 seed 004 lines 83, 95), each paid from its own budget (app/subsidies)
    subsidy_programmes: Annotated[tuple[Annotated[SubsidyProgramme, BeforeValidator(_programme)], ...],
                                  BeforeValidator(_programmes)] = ()
    # performance evaluation (绩效评价, app/performance): targets per bank and for the scheme, and
    # 江津's pool filled per bank by target completion
    performance: Annotated[Performance | None, BeforeValidator(_performance)] = None

    # worked examples, replayed before go-live (app/policies/replay.py)
    examples: Annotated[tuple[Annotated[Example, BeforeValidator(_example)], ...], BeforeValidator(_examples)] = ()

    @field_validator("loss_basis", "claimable_when", "application_route", mode="before")
    @classmethod
    def _null_is_default(cls, value, info):
        return cls.model_fields[info.field_name].default if value is None else value

    # --- reading

    def product(self, code: str | None) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    def programme(self, code: str | None) -> SubsidyProgramme | None:
        return next((p for p in self.subsidy_programmes if p.code == code), None)

    def missing_for_go_live(self) -> list[str]:
        """Parameters an administrator must still enter before the scheme may go live (永川: the seed
        gives no sharing ratio), as parameter keys; empty when complete."""
        missing = []
        if self.fund_share is None:
            missing += [f"products[{i}].fund_share" for i, p in enumerate(self.products) if p.fund_share is None]
        for i, p in enumerate(self.products):   # a three-way product needs all three shares
            if p.three_way:
                missing += [f"products[{i}].{k}" for k in ("fund_share", "bank_share", "guarantee_share")
                            if getattr(p, k) is None and f"products[{i}].{k}" not in missing]
        return missing

    def to_json(self) -> str:
        """The stored form: money and ratios as strings, every parameter explicit."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2)


def rating_at_least(rating: str | None, required: str) -> bool:
    """``rating`` is ``required`` or better on the one scale :data:`RATINGS` (unrated: no)."""
    if not rating:
        return False
    r, q = rating.strip().upper(), required.strip().upper()
    if r not in RATINGS or q not in RATINGS:
        return False
    return RATINGS.index(r) <= RATINGS.index(q)


# ---------------------------------------------------------------------------- validation API

class ParamsInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _key(loc: tuple, sub: str | None) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    if sub:
        key += sub if sub.startswith("[") else f".{sub}"
    return key or "(root)"


def _message(err: dict) -> tuple[str, str | None]:
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, Problem):
        return error.message, error.sub
    kind = err["type"]
    if kind == "missing":
        return _("缺少必填参数"), None
    if kind == "extra_forbidden":
        return _("未知参数"), None
    return _("取值无效：{v}").format(v=err.get("input")), None


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        message, sub = _message(err)
        out.setdefault(_key(tuple(err["loc"]), sub), message)
    return out


def parse_params(params: Any) -> SchemeParams:
    """A :class:`SchemeParams` from a dict (a preset, an edit), else :class:`ParamsInvalid`."""
    if isinstance(params, SchemeParams):
        return params
    if not isinstance(params, dict):
        raise ParamsInvalid({"(root)": _("参数应为 JSON 对象")})
    try:
        return SchemeParams.model_validate(params)
    except ValidationError as exc:
        raise ParamsInvalid(_errors(exc)) from None


def validate_params(params: Any) -> dict[str, str]:
    """Every problem of a parameter set, as {key: message}; empty when valid."""
    try:
        parse_params(params)
    except ParamsInvalid as exc:
        return exc.errors
    return {}


def load_params(params_json: str) -> SchemeParams:
    """The stored parameters (validated when they were saved)."""
    return SchemeParams.model_validate(json.loads(params_json))
