"""The money rules of a compensation, without database or HTTP."""
from decimal import Decimal as D

import pytest

from app.compensation import rules
from app.core.errors import DomainError
from app.policies.presets import preset_params as load_preset


def entered_yongchuan():
    """永川 with sharing ratios an administrator entered (the seed gives none; these are test entries)."""
    raw = load_preset("yongchuan_2023").model_dump(mode="json", by_alias=True)
    for product, share in zip(raw["products"], ("0.50", "0.60", "0.30")):
        product["fund_share"] = share
    raw["products"][2].update(bank_share="0.40", guarantee_share="0.30")   # 担保贷: three ways
    return load_preset("yongchuan_2023", products=raw["products"])


def facts(**kw):
    base = dict(loan_amount=D("1000000.00"), product="standard", overdue_principal=D("1000000.00"),
                recovered=D("0.00"), costs=D("0.00"))
    base.update(kw)
    return rules.ClaimFacts(**base)


def amount(comp, key):
    return comp.amount(key)


def test_qianjiang_half_of_loss_after_recovery():
    c = rules.claim_amount(load_preset("qianjiang_2018"), facts(recovered=D("150000.00"), costs=D("8000.00")))
    assert amount(c, "final_loss") == D("850000.00")   # costs do not reduce the loss under 黔江
    assert D(c.result) == D("425000.00") and c.rounding == "half_up"


def test_lingyuan_cap_per_bank_left():
    p = load_preset("lingyuan_2020")
    c = rules.claim_amount(p, facts(product="xinyidai", bank_paid_so_far=D("1800000.00")))
    assert amount(c, "cap_per_loan") == D("500000.00")
    assert amount(c, "cap_per_bank_left") == D("200000.00") and D(c.result) == D("200000.00")
    c = rules.claim_amount(p, facts(product="xinyidai", bank_paid_so_far=D("2000000.00")))
    assert D(c.result) == D("0.00")


@pytest.mark.parametrize("preset,expected", [("qianjiang_2018", "50000.00"), ("lingyuan_2020", "29999.99")])
def test_rounding_follows_policy(preset, expected):
    p = load_preset(preset)
    product = p.products[0].code
    # 99,999.99 × 50% = 49,999.995 → 50,000.00 half up; × 30% = 29,999.997 → 29,999.99 down
    c = rules.claim_amount(p, facts(product=product, overdue_principal=D("99999.99")))
    assert D(c.result) == D(expected)
    assert c.rounding_label in ("四舍五入到分", "向下舍去到分")


def test_jiangjin_settlement_after_advance_and_returns():
    p = load_preset("jiangjin_2020")
    adv = rules.advance_amount(p, "zengxindai", D("1000000.00"))
    assert D(adv.result) == D("650000.00") and amount(adv, "bank_bears") == D("350000.00")
    ret = rules.recovery_return(p, D("0.65"), D("200000.00"), D("0"), D("0"), D("200000.00"))
    assert D(ret.result) == D("130000.00")
    c = rules.claim_amount(p, facts(product="zengxindai", recovered=D("200000.00"), advanced=D("650000.00"),
                                    returned=D("130000.00")))
    assert D(c.result) == D("0.00")
    # a recovery before the advance was paid is not returned, so the bank owes the difference
    c = rules.claim_amount(p, facts(product="zengxindai", recovered=D("200000.00"), advanced=D("650000.00")))
    assert D(c.result) == D("-130000.00") and amount(c, "bank_refund") == D("130000.00")


def test_net_of_costs_return_is_cumulative():
    p = load_preset("lingyuan_2020")
    first = rules.recovery_return(p, D("0.30"), D("100000.00"), D("30000.00"), D("0"), D("100000.00"))
    assert D(first.result) == D("21000.00")
    second = rules.recovery_return(p, D("0.30"), D("150000.00"), D("30000.00"), D("21000.00"), D("50000.00"))
    assert D(second.result) == D("15000.00")
    assert rules.recovery_return(load_preset("qianjiang_2018"), D("0.5"), D("1"), D("0"), D("0"), D("1")) is None


def test_yongchuan_ratios_not_entered_are_not_invented():
    p = load_preset("yongchuan_2023")
    assert [x.fund_share for x in p.products] == [None, None, None] and p.fund_share is None
    assert p.missing_for_go_live() == ["products[0].fund_share", "products[1].fund_share", "products[2].fund_share",
                                       "products[2].bank_share", "products[2].guarantee_share"]
    with pytest.raises(DomainError):
        rules.fund_share(p, "danbaodai")


def test_yongchuan_guaranteed_loan_is_shared_three_ways_at_the_entered_ratios():
    p = entered_yongchuan()
    assert p.product("danbaodai").three_way and not p.product("xinyongdai").three_way
    c = rules.claim_amount(p, facts(product="danbaodai", overdue_principal=D("500000.01")))
    fund, guarantee, bank = c.amount("fund_due"), c.amount("guarantee_bears"), c.amount("bank_bears")
    assert fund == D("150000.00") and guarantee == D("150000.00")     # 500,000.01 × 30% = 150,000.003, 四舍五入到分
    assert bank == D("200000.01") and fund + guarantee + bank == D("500000.01")   # the bank bears the remainder
    assert c.amount("bank_share") == D("0.40") and c.amount("guarantee_share") == D("0.30")
    assert c.results["guarantee_bears"] == "150000.00" and D(c.result) == fund
    assert "四舍五入到分" in next(l.formula for l in c.lines if l.key == "guarantee_bears")
    # a two-way product has no guarantee line
    c = rules.claim_amount(p, facts(product="xinyongdai"))
    assert c.amount("guarantee_bears") is None and c.amount("bank_bears") == D("500000.00")


def test_three_way_ratios_are_validated_and_never_defaulted():
    from app.policies.params import ParamsInvalid, parse_params
    raw = load_preset("yongchuan_2023").model_dump(mode="json", by_alias=True)
    raw["products"][2].update(fund_share="0.30", bank_share="0.40", guarantee_share="0.40")
    with pytest.raises(ParamsInvalid) as exc:
        parse_params(raw)
    assert "之和应为 1" in exc.value.errors["products[2].guarantee_share"]
    raw["products"][2].update(guarantee_share="0.30")
    raw["products"][0].update(bank_share="0.50")       # a two-way product has no bank or guarantee ratio
    with pytest.raises(ParamsInvalid) as exc:
        parse_params(raw)
    assert "products[0].loss_split" in exc.value.errors
    raw["products"][0].pop("bank_share")
    raw["products"][2].update(guarantee_share=None)
    p = parse_params(raw)
    assert "products[2].guarantee_share" in p.missing_for_go_live()
    with pytest.raises(DomainError):                   # a claim never invents the missing ratio
        rules.claim_amount(p, facts(product="danbaodai"))


def test_yongchuan_share_by_product_and_unknown_product():
    p = entered_yongchuan()
    assert p.missing_for_go_live() == []
    share, product = rules.fund_share(p, "danbaodai")
    assert share == D("0.30") and product.code == "danbaodai"
    with pytest.raises(DomainError):
        rules.fund_share(p, "nope")


@pytest.mark.parametrize("decisions,rule,outcome", [
    (["approve"] * 4, "all", "pass"), (["approve"] * 3 + ["reject"], "all", "reject"),
    (["approve"] * 3 + ["reject"], "majority", "pass"), (["approve"] * 2 + ["reject"] * 2, "majority", "reject"),
    (["approve", "return"], "majority", "return")])
def test_joint_review_outcome(decisions, rule, outcome):
    assert rules.joint_review_outcome(decisions, rule, 4) == outcome


def test_rating_order():
    assert rules.rating_at_least("AA", "A") and rules.rating_at_least("A", "A")
    assert not rules.rating_at_least("BBB", "A") and not rules.rating_at_least(None, "A")


def test_amounts_are_read_by_stable_line_ids_and_labels_translate_with_their_arguments():
    c = rules.claim_amount(entered_yongchuan(), facts(product="danbaodai", recovered=D("100000.00")))
    assert c.result_of("final_loss") == D("900000.00") and c.result_of("fund_due") == D("270000.00")
    line = next(l for l in c.lines if l.key == "fund_share")
    assert "{product}" in line.label and line.args["product"]
    assert len({l.key for l in c.lines}) == len(c.lines), "line ids are unique within a computation"
    assert c.amount("no_such_line") is None
