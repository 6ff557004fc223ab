"""The money rules of an interest subsidy and the programmes' parameters, without database or HTTP."""
from datetime import date
from decimal import Decimal as D

import pytest

from app.policies.params import ParamsInvalid, SubsidyProgramme, parse_params
from app.policies.presets import load_preset, preset_params, preset_sources
from app.subsidies import rules
from app.subsidies.rules import SubsidyError


def prog(**kw) -> SubsidyProgramme:
    base = dict(code="x", name="测试贴息", basis="interest_share", rate=D("0.5"), period="quarter",
                eligible_products=("xinyongdai",))
    base.update(kw)
    return SubsidyProgramme(**base)


def test_yongchuan_programmes_cite_the_seed_and_invent_no_rate():
    p = preset_params("yongchuan_2023")
    by_code = {x.code: x for x in p.subsidy_programmes}
    assert set(by_code) == {"xinyongcun", "green_micro", "equipment_central"}
    # 信用村 and 普惠小微绿色: the seed names them (line 95) with no number
    for code in ("xinyongcun", "green_micro"):
        assert by_code[code].rate is None and by_code[code].basis is None
        assert by_code[code].missing() == ["basis", "rate", "period", "eligible_products"]
    # the central subsidy: 2.5% (line 83) for equipment renewal loans; period, day count and products to be entered
    central = by_code["equipment_central"]
    assert central.rate == D("0.025") and central.basis == "principal_rate"
    assert central.eligible_activities == ("equipment",)
    assert central.missing() == ["period", "day_count", "eligible_products"]
    sources = preset_sources("yongchuan_2023")["values"]
    assert "第83行" in sources["subsidy_programmes"] and "2.5%" in sources["subsidy_programmes"]
    assert "第95行" in sources["subsidy_programmes"]
    assert sources["subsidy_programmes[].period"].startswith("not entered")


def test_a_programme_with_values_missing_computes_nothing():
    with pytest.raises(SubsidyError, match="尚未录入"):
        rules.subsidy_amount(prog(rate=None), "half_up", D("100.00"), D("1000.00"), date(2025, 1, 1), date(2025, 3, 31))


def test_share_of_interest_rounded_by_the_named_rule():
    c = rules.subsidy_amount(prog(rate=D("0.3")), "half_up", D("1234.55"), D("100000.00"),
                             date(2025, 1, 1), date(2025, 3, 31))
    assert D(c.result) == D("370.37")                  # 370.365 → 四舍五入到分
    assert c.rounding_label == "四舍五入到分" and "四舍五入到分" in c.lines[-2].formula
    c = rules.subsidy_amount(prog(rate=D("0.3")), "down", D("1234.55"), D("100000.00"),
                             date(2025, 1, 1), date(2025, 3, 31))
    assert D(c.result) == D("370.36") and c.rounding_label == "向下舍去到分"


def test_central_rate_on_principal_for_the_days_never_more_than_the_interest_paid():
    central = prog(basis="principal_rate", rate=D("0.025"), day_count=360)
    # 1,000,000 × 2.5% × 90/360 = 6,250.00
    c = rules.subsidy_amount(central, "half_up", D("9000.00"), D("1000000.00"), date(2025, 1, 1), date(2025, 3, 31))
    assert c.amount("computed") == D("6250.00") and D(c.result) == D("6250.00")
    # the same with 365 days a year: 6,164.383… → 6,164.38
    c = rules.subsidy_amount(prog(basis="principal_rate", rate=D("0.025"), day_count=365), "half_up", D("9000.00"),
                             D("1000000.00"), date(2025, 1, 1), date(2025, 3, 31))
    assert D(c.result) == D("6164.38")
    # a firm that paid less interest than the subsidy gets at most what it paid
    c = rules.subsidy_amount(central, "half_up", D("5000.00"), D("1000000.00"), date(2025, 1, 1), date(2025, 3, 31))
    assert D(c.result) == D("5000.00") and c.amount("capped_interest") == D("5000.00")


def test_cap_per_period():
    c = rules.subsidy_amount(prog(cap_per_period=D("1500.00")), "half_up", D("4000.00"), D("1.00"),
                             date(2025, 1, 1), date(2025, 3, 31))
    assert D(c.result) == D("1500.00") and c.amount("capped_period") == D("1500.00")


@pytest.mark.parametrize("kind,label,bounds", [
    ("quarter", "2025q1", (date(2025, 1, 1), date(2025, 3, 31))),
    ("quarter", "2024Q4", (date(2024, 10, 1), date(2024, 12, 31))),
    ("month", "2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
    ("year", "2025", (date(2025, 1, 1), date(2025, 12, 31))),
])
def test_period_bounds(kind, label, bounds):
    assert rules.period_bounds(kind, label) == bounds


@pytest.mark.parametrize("kind,label", [("quarter", "2025Q5"), ("quarter", "2025-01"), ("month", "2025-13"),
                                        ("year", "25"), ("month", "")])
def test_a_wrong_period_is_refused_with_the_expected_form(kind, label):
    with pytest.raises(SubsidyError) as exc:
        rules.period_bounds(kind, label)
    assert exc.value.field == "period"


def test_eligibility_by_product_and_purpose():
    central = prog(eligible_products=("xinyongdai", "zengxindai"), eligible_activities=("equipment",))
    assert rules.eligible(central, "xinyongdai", "equipment") is None
    assert "产品" in rules.eligible(central, "danbaodai", "equipment")
    assert "用途" in rules.eligible(central, "xinyongdai", "working_capital")


def test_programme_parameters_are_validated():
    raw = load_preset("yongchuan_2023")
    bad = dict(raw["subsidy_programmes"][0], rate="1.5", period="week", eligible_activities=["moon"])
    with pytest.raises(ParamsInvalid) as exc:
        parse_params({**raw, "subsidy_programmes": [bad]})
    assert "subsidy_programmes[0].rate" in exc.value.errors or "subsidy_programmes[0].period" in exc.value.errors
    dup = [raw["subsidy_programmes"][0], raw["subsidy_programmes"][0]]
    with pytest.raises(ParamsInvalid) as exc:
        parse_params({**raw, "subsidy_programmes": dup})
    assert "重复" in exc.value.errors["subsidy_programmes"]
    with pytest.raises(ParamsInvalid) as exc:
        parse_params({**raw, "subsidy_programmes": [dict(raw["subsidy_programmes"][0], cap_per_period=10)]})
    assert "subsidy_programmes[0].cap_per_period" in exc.value.errors
