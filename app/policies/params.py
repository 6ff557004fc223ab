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

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from app.core.i18n import _
from app.core.money import ROUNDING_RULES

# organisation roles a scheme knows (the member roles, same names as organisation kinds)
KNOWN_ROLES = ("bank", "finance_bureau", "financial_office", "service_centre", "guarantee", "pboc", "regulator")
REFERENCE_RATE_KINDS = ("pboc_benchmark", "lpr")
JOINT_MEETING_RULES = ("all", "majority")
LOSS_BASES = ("principal_after_recovery", "overdue_principal", "principal")
CLAIMABLE_WHEN = ("recovery_ended", "overdue", "loss_class")
RECOVERY_KINDS = ("share_principal", "net_of_costs_by_ratio")
ACTIVITIES = ("general", "working_capital", "equipment", "real_estate_development", "futures")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
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


class Product(_Part):
    code: str
    name: str
    name_en: str = ""
    fund_share: Decimal


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
    return {**value, "fund_share": _ratio(value.get("fund_share"), required=True, sub="fund_share")}


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
    """Suspend (or end) a bank's cooperation when its NPL ratio reaches the threshold."""
    threshold: Decimal
    inclusive: bool = True


def _npl(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(_("应为 {\"threshold\": \"0.03\", \"inclusive\": true} 形式"))
    threshold = _ratio(value.get("threshold"), required=True, sub="threshold")
    inclusive = value.get("inclusive", True)
    if not isinstance(inclusive, bool):
        raise Problem(_("应为 true 或 false"), "inclusive")
    return {"threshold": threshold, "inclusive": inclusive}


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


# ---------------------------------------------------------------------------- the model

class SchemeParams(BaseModel):
    """Every number and rule of one scheme.  Frozen: an edit is a new validated instance."""
    model_config = ConfigDict(frozen=True, extra="forbid")

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

    # worked examples, replayed before go-live (app/policies/replay.py)
    examples: Annotated[tuple[Annotated[Example, BeforeValidator(_example)], ...], BeforeValidator(_examples)] = ()

    @field_validator("loss_basis", "claimable_when", mode="before")
    @classmethod
    def _null_is_default(cls, value, info):
        return cls.model_fields[info.field_name].default if value is None else value

    # --- reading

    def product(self, code: str | None) -> Product | None:
        return next((p for p in self.products if p.code == code), None)

    def to_json(self) -> str:
        """The stored form: money and ratios as strings, every parameter explicit."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2)


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
