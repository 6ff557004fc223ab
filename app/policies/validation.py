"""Validation of a scheme's policy parameters (Scheme.params_json), without HTTP or a database.

:func:`validate_params` returns the problems as ``{key: message}``; the key names the parameter
(``rate_cap.factor``, ``products[1].fund_share``) so the administrator sees which value is wrong.
Money is a string with at most two decimals (never a JSON number: a float would lose fen),
ratios are strings between 0 and 1.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.core.i18n import _
from app.core.money import ROUNDING_RULES

# organisation roles a scheme knows (the member roles, same names as organisation kinds)
KNOWN_ROLES = ("bank", "finance_bureau", "financial_office", "service_centre", "guarantee", "pboc", "regulator")
RATE_CAP_KINDS = {"benchmark_plus": "points", "benchmark_times": "factor"}
REFERENCE_RATE_KINDS = ("pboc_benchmark", "lpr")
JOINT_MEETING_RULES = ("all", "majority")
LOSS_BASES = ("principal_after_recovery", "overdue_principal", "principal")
CLAIMABLE_WHEN = ("recovery_ended", "overdue", "loss_class")
RECOVERY_KINDS = ("share_principal", "net_of_costs_by_ratio")
ACTIVITIES = ("general", "working_capital", "equipment", "real_estate_development", "futures")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")

MONEY_KEYS = ("fund_size", "guarantee_capital", "max_loan_amount", "cap_per_loan", "cap_per_bank")
RATIO_KEYS = ("fund_share", "pause_at_payout_ratio", "yearly_tax_allocation_ratio",
              "bank_interest_contribution_ratio")
BOOL_KEYS = ("max_loan_inclusive", "require_whitelist", "require_joint_guarantee", "first_loan_only",
             "pure_credit_only", "advance_at_overdue", "borrower_sees_claim_details")
MONTH_KEYS = ("max_term_months", "normal_term_months")
REQUIRED_KEYS = ("name", "fund_size", "products", "joint_meeting_roles", "joint_meeting_rule",
                 "filing_recipient_roles", "payout_working_days", "rounding", "reference_rate_kind")


class ParamsInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    try:
        d = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _money(errors, key, value, required=False):
    if value is None:
        if required:
            errors[key] = _("必须填写金额")
        return
    d = _decimal(value)
    if d is None:
        errors[key] = _("金额应写成字符串形式的数字（如 \"5000000.00\"），不能是 JSON 数字：{v}").format(v=value)
    elif d != d.quantize(Decimal("0.01")):
        errors[key] = _("金额最多保留两位小数（分）：{v}").format(v=value)
    elif d < 0:
        errors[key] = _("金额不能为负数：{v}").format(v=value)


def _ratio(errors, key, value, required=False):
    if value is None:
        if required:
            errors[key] = _("必须填写比例")
        return
    d = _decimal(value)
    if d is None:
        errors[key] = _("比例应写成字符串形式的小数（如 \"0.65\"）：{v}").format(v=value)
    elif not Decimal(0) <= d <= Decimal(1):
        errors[key] = _("比例应在 0 到 1 之间：{v}").format(v=value)


def _positive_int(errors, key, value, required=False, maximum=1200):
    if value is None:
        if required:
            errors[key] = _("必须填写")
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        errors[key] = _("应为 1 到 {m} 之间的整数：{v}").format(m=maximum, v=value)


def _roles(errors, key, value, required=True):
    if value is None and not required:
        return
    if not isinstance(value, list) or (required and not value):
        errors[key] = _("应为非空的角色列表")
        return
    unknown = [r for r in value if r not in KNOWN_ROLES]
    if unknown:
        errors[key] = _("未知角色：{r}（可用：{known}）").format(
            r="、".join(map(str, unknown)), known="、".join(KNOWN_ROLES))
    elif len(set(value)) != len(value):
        errors[key] = _("角色重复")


def _choice(errors, key, value, choices, required=False):
    if value is None and not required:
        return
    if value not in choices:
        errors[key] = _("取值“{v}”无效，可选：{c}").format(v=value, c="、".join(choices))


def validate_params(params) -> dict[str, str]:
    """Every problem of a parameter set, as {key: message}; empty when valid."""
    errors: dict[str, str] = {}
    if not isinstance(params, dict):
        return {"(root)": _("参数应为 JSON 对象")}
    for key in REQUIRED_KEYS:
        if key not in params:
            errors[key] = _("缺少必填参数")

    if "name" in params and (not isinstance(params["name"], str) or not params["name"].strip()):
        errors["name"] = _("政策名称不能为空")
    for key in MONEY_KEYS:
        if key in params:
            _money(errors, key, params[key], required=(key == "fund_size"))
    for key in RATIO_KEYS:
        if key in params:
            _ratio(errors, key, params[key])
    for key in BOOL_KEYS:
        if key in params and not isinstance(params[key], bool):
            errors[key] = _("应为 true 或 false：{v}").format(v=params[key])
    for key in MONTH_KEYS:
        if key in params:
            _positive_int(errors, key, params[key])
    if "payout_working_days" in params:
        _positive_int(errors, "payout_working_days", params["payout_working_days"], required=True, maximum=90)

    cap = params.get("rate_cap")
    if cap is not None:
        if not isinstance(cap, dict) or cap.get("kind") not in RATE_CAP_KINDS:
            errors["rate_cap.kind"] = _("利率上限类型应为 benchmark_plus（基准加点）或 benchmark_times（基准倍数）")
        else:
            field = RATE_CAP_KINDS[cap["kind"]]
            d = _decimal(cap.get(field))
            if d is None:
                errors[f"rate_cap.{field}"] = _("应写成字符串形式的数字：{v}").format(v=cap.get(field))
            elif cap["kind"] == "benchmark_plus" and not Decimal(0) <= d <= Decimal(100):
                errors["rate_cap.points"] = _("加点应在 0 到 100 个百分点之间：{v}").format(v=cap.get(field))
            elif cap["kind"] == "benchmark_times" and not Decimal(1) <= d <= Decimal(10):
                errors["rate_cap.factor"] = _("倍数应在 1 到 10 之间：{v}").format(v=cap.get(field))

    if "rounding" in params:
        _choice(errors, "rounding", params["rounding"], tuple(ROUNDING_RULES), required=True)
    if "joint_meeting_rule" in params:
        _choice(errors, "joint_meeting_rule", params["joint_meeting_rule"], JOINT_MEETING_RULES, required=True)
    if "reference_rate_kind" in params:
        _choice(errors, "reference_rate_kind", params["reference_rate_kind"], REFERENCE_RATE_KINDS, required=True)
    _choice(errors, "loss_basis", params.get("loss_basis"), LOSS_BASES)
    _choice(errors, "claimable_when", params.get("claimable_when"), CLAIMABLE_WHEN)
    _choice(errors, "require_credit_rating", params.get("require_credit_rating"), RATINGS)
    for key in ("joint_meeting_roles", "filing_recipient_roles"):
        if key in params:
            _roles(errors, key, params[key])
    for key in ("advance_payer_role", "advance_approver_role"):
        if params.get(key) is not None:
            _choice(errors, key, params[key], KNOWN_ROLES)

    excluded = params.get("excluded_activities")
    if excluded is not None:
        if not isinstance(excluded, list) or any(a not in ACTIVITIES for a in excluded):
            errors["excluded_activities"] = _("应为贷款用途列表，可选：{c}").format(c="、".join(ACTIVITIES))

    rec = params.get("recovery_after_payout")
    if rec is not None:
        if not isinstance(rec, dict) or rec.get("kind") not in RECOVERY_KINDS:
            errors["recovery_after_payout.kind"] = _("取值无效，可选：{c}").format(c="、".join(RECOVERY_KINDS))
        elif rec["kind"] == "share_principal":
            _ratio(errors, "recovery_after_payout.fund_share", rec.get("fund_share"), required=True)

    npl = params.get("suspend_bank_npl")
    if npl is not None:
        if not isinstance(npl, dict):
            errors["suspend_bank_npl"] = _("应为 {\"threshold\": \"0.03\", \"inclusive\": true} 形式")
        else:
            _ratio(errors, "suspend_bank_npl.threshold", npl.get("threshold"), required=True)
            if not isinstance(npl.get("inclusive", True), bool):
                errors["suspend_bank_npl.inclusive"] = _("应为 true 或 false")

    mult = params.get("loans_to_fund_review_multiple")
    if mult is not None:
        d = _decimal(mult)
        if d is None or d <= 0:
            errors["loans_to_fund_review_multiple"] = _("应为字符串形式的正数（如 \"10\"）：{v}").format(v=mult)

    if "products" in params:
        products = params["products"]
        if not isinstance(products, list) or not products:
            errors["products"] = _("至少需要一个贷款产品")
        else:
            codes = set()
            for i, p in enumerate(products):
                key = f"products[{i}]"
                if not isinstance(p, dict):
                    errors[key] = _("应为 {\"code\", \"name\", \"fund_share\"} 对象")
                    continue
                code = p.get("code")
                if not isinstance(code, str) or not code.strip():
                    errors[f"{key}.code"] = _("产品代码不能为空")
                elif code in codes:
                    errors[f"{key}.code"] = _("产品代码重复：{c}").format(c=code)
                codes.add(code)
                if not isinstance(p.get("name"), str) or not p["name"].strip():
                    errors[f"{key}.name"] = _("产品名称不能为空")
                _ratio(errors, f"{key}.fund_share", p.get("fund_share"), required=True)
    return errors


def check_params(params) -> dict:
    """The parameters if valid, else :class:`ParamsInvalid` with every problem."""
    errors = validate_params(params)
    if errors:
        raise ParamsInvalid(errors)
    return params
