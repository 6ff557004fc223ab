"""Validation of policy parameters, without HTTP or a database: every preset passes, each bad value
is refused with the key it belongs to."""
import copy
import json
from decimal import Decimal

import pytest

from app.policies.presets import load_preset, preset_codes
from app.policies.params import ParamsInvalid, SchemeParams, parse_params, validate_params


@pytest.mark.parametrize("code", preset_codes())
def test_every_preset_is_valid(code):
    assert validate_params(load_preset(code)) == {}


def _with(preset="jiangjin_2020", **changes):
    p = copy.deepcopy(load_preset(preset))
    for k, v in changes.items():
        if v is KeyError:
            p.pop(k)
        else:
            p[k] = v
    return p


@pytest.mark.parametrize("changes, key, words", [
    ({"fund_size": "30000000.005"}, "fund_size", "两位小数"),
    ({"fund_size": 30000000.0}, "fund_size", "字符串"),
    ({"max_loan_amount": "-1.00"}, "max_loan_amount", "负数"),
    ({"cap_per_bank": "abc"}, "cap_per_bank", "字符串"),
    ({"fund_share": "1.2"}, "fund_share", "0 到 1"),
    ({"pause_at_payout_ratio": "-0.1"}, "pause_at_payout_ratio", "0 到 1"),
    ({"rate_cap": {"kind": "benchmark_minus", "points": "1"}}, "rate_cap.kind", "benchmark_plus"),
    ({"rate_cap": {"kind": "benchmark_times", "factor": "0.5"}}, "rate_cap.factor", "1 到 10"),
    ({"rate_cap": {"kind": "benchmark_plus"}}, "rate_cap.points", "字符串"),
    ({"rounding": "ceiling"}, "rounding", "half_up"),
    ({"joint_meeting_rule": "two_thirds"}, "joint_meeting_rule", "majority"),
    ({"joint_meeting_roles": ["financial_office", "mayor"]}, "joint_meeting_roles", "mayor"),
    ({"joint_meeting_roles": []}, "joint_meeting_roles", "非空"),
    ({"filing_recipient_roles": ["tax_bureau"]}, "filing_recipient_roles", "tax_bureau"),
    ({"products": []}, "products", "至少"),
    ({"products": [{"code": "x", "name": "X", "fund_share": "1.5"}]}, "products[0].fund_share", "0 到 1"),
    ({"products": [{"code": "x", "name": "X", "fund_share": "0.5"},
                   {"code": "x", "name": "Y", "fund_share": "0.5"}]}, "products[1].code", "重复"),
    ({"payout_working_days": 0}, "payout_working_days", "整数"),
    ({"report_deadlines": {"weekly": {"working_days": 3}}}, "report_deadlines", "未知的报表"),
    ({"report_deadlines": {"quarterly_bulletin": {"working_days": 31}}}, "report_deadlines.quarterly_bulletin.working_days", "整数"),
    ({"report_deadlines": {"quarterly_bulletin": {"days": 3}}}, "report_deadlines.quarterly_bulletin", "day_of_month"),
    ({"max_term_months": "24"}, "max_term_months", "整数"),
    ({"require_whitelist": "yes"}, "require_whitelist", "true"),
    ({"recovery_after_payout": {"kind": "share_principal", "fund_share": "2"}},
     "recovery_after_payout.fund_share", "0 到 1"),
    ({"suspend_bank_npl": {"threshold": "3%"}}, "suspend_bank_npl.threshold", "字符串"),
    ({"excluded_activities": ["gambling"]}, "excluded_activities", "real_estate_development"),
    ({"reference_rate_kind": "shibor"}, "reference_rate_kind", "lpr"),
    ({"rounding": KeyError}, "rounding", "缺少"),
])
def test_bad_value_is_named_by_its_key(changes, key, words):
    errors = validate_params(_with(**changes))
    assert key in errors, errors
    assert words in errors[key]
    assert len(errors) == 1, errors      # only the bad key, nothing else flagged
    with pytest.raises(ParamsInvalid) as exc:
        parse_params(_with(**changes))
    assert key in str(exc.value)


def test_not_an_object():
    assert "(root)" in validate_params(["not", "a", "dict"])


def test_good_edits_pass():
    p = _with(fund_share="0.7", rate_cap={"kind": "benchmark_plus", "points": "2.5"}, rounding="down",
              joint_meeting_rule="majority", cap_per_loan="500000.00", max_loan_amount=None)
    parsed = parse_params(p)
    assert isinstance(parsed, SchemeParams)
    assert parsed.fund_share == Decimal("0.7") and parsed.rate_cap.points == Decimal("2.5")
    assert parsed.cap_per_loan == Decimal("500000.00") and parsed.max_loan_amount is None


def test_every_stored_parameter_is_read_somewhere():
    """A parameter the model stores is read by the code or shown on a page: no dead settings."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    sources = [p for p in (root / "app").rglob("*.py") if p.name != "params.py"] + list((root / "templates").rglob("*.html"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    unread = [f for f in SchemeParams.model_fields if not re.search(rf"\b(params|p)\.{f}\b", text)]
    assert unread == [], f"stored but never read: {unread}"


def test_a_ratio_not_entered_is_valid_but_blocks_go_live():
    """永川: the seed gives no sharing ratio, so the preset leaves it empty (no invented default)."""
    p = parse_params(_with(fund_share=None, products=[{"code": "x", "name": "X"}]))
    assert p.products[0].fund_share is None and p.missing_for_go_live() == ["products[0].fund_share"]
    # a scheme-wide share covers products without their own
    assert parse_params(_with(fund_share="0.5", products=[{"code": "x", "name": "X"}])).missing_for_go_live() == []


def test_sources_round_trip_under_their_json_name():
    p = parse_params(_with(_sources={"fund_size": "seed line 1"}))
    assert p.sources == {"fund_size": "seed line 1"}
    assert '"_sources"' in p.to_json() and parse_params(json.loads(p.to_json())).sources == p.sources
