"""Every policy gate of every preset, with the preset's own numbers."""
from datetime import date
from decimal import Decimal

import pytest

from app.core.money import MoneyError, round_fen, yuan
from app.policies.gates import LoanFacts, check_gates, rate_cap
from app.policies.presets import preset_codes, preset_params as load_preset

BENCH_1Y = Decimal("4.35")


def facts(**kw):
    base = dict(amount=Decimal("1000000.00"), annual_rate=Decimal("5.00"), term_months=12,
                disbursed_on=date(2026, 11, 20), activity="working_capital", reference_rate=BENCH_1Y,
                reference_label="基准利率", credit_rating="A", whitelisted=True, first_loan=True,
                joint_guarantee=True)
    base.update(kw)
    return LoanFacts(**base)


def failed(params, **kw):
    return {r.rule: r for r in check_gates(params, facts(**kw)).results if not r.passed}


def test_money_is_exact():
    assert yuan("1,000,000.10") == Decimal("1000000.10")
    with pytest.raises(MoneyError):
        yuan(0.1)
    with pytest.raises(MoneyError):
        yuan("1.005")
    assert round_fen("0.005", "half_up") == Decimal("0.01")
    assert round_fen("0.005", "down") == Decimal("0.00")
    assert round_fen("0.005", "half_even") == Decimal("0.00")


def test_all_presets_load():
    assert set(preset_codes()) >= {"qianjiang_2018", "jiangjin_2020", "lingyuan_2020", "lingyuan_2020_draft",
                                   "yongchuan_2023"}
    for code in preset_codes():
        p = load_preset(code)
        assert p.products and p.payout_working_days == 5


def test_qianjiang_amount_cap_is_inclusive_5m():
    p = load_preset("qianjiang_2018")
    assert not failed(p, amount=Decimal("5000000.00"))
    f = failed(p, amount=Decimal("5000000.01"))
    assert "max_loan_amount" in f and "5,000,000.00" in f["max_loan_amount"].message


def test_qianjiang_rate_cap_benchmark_plus_3_points():
    p = load_preset("qianjiang_2018")
    assert rate_cap(p, BENCH_1Y) == Decimal("7.3500")
    assert not failed(p, annual_rate=Decimal("7.35"))
    f = failed(p, annual_rate=Decimal("7.36"))
    assert "7.35%" in f["rate_cap"].message and "4.35%" in f["rate_cap"].message and "3" in f["rate_cap"].message
    # 1-5 year bucket: 4.75 + 3 = 7.75
    assert rate_cap(p, Decimal("4.75")) == Decimal("7.7500")


def test_jiangjin_rate_term_amount_and_exclusions():
    p = load_preset("jiangjin_2020")
    assert rate_cap(p, BENCH_1Y) == Decimal("5.2200")
    assert "rate_cap" in failed(p, annual_rate=Decimal("5.23"))
    assert not failed(p, annual_rate=Decimal("5.22"))
    f = failed(p, term_months=25)
    assert "max_term" in f and "24" in f["max_term"].message
    assert "max_loan_amount" in failed(p, amount=Decimal("5000000.01"))
    for act in ("real_estate_development", "futures"):
        f = failed(p, activity=act)
        assert f["excluded_activity"].hard


def test_lingyuan_rate_term_rating_first_loan_whitelist():
    p = load_preset("lingyuan_2020")
    assert rate_cap(p, BENCH_1Y) == Decimal("5.6550")
    assert "rate_cap" in failed(p, annual_rate=Decimal("5.66"))
    assert not failed(p, annual_rate=Decimal("5.655"), term_months=36, term_reason="设备回收期三年")
    assert "max_term" in failed(p, term_months=37)
    assert "credit_rating" in failed(p, credit_rating="BBB")
    assert "credit_rating" in failed(p, credit_rating=None)
    assert not failed(p, credit_rating="AA")
    assert "first_loan" in failed(p, first_loan=False)
    assert "whitelist" in failed(p, whitelisted=False)
    assert failed(p, activity="real_estate_development")["excluded_activity"].hard
    assert "max_loan_amount" not in failed(p, amount=Decimal("90000000"))


def test_yongchuan_has_no_rate_or_amount_cap():
    p = load_preset("yongchuan_2023")
    assert not failed(p, amount=Decimal("20000000"), annual_rate=Decimal("9.9"), term_months=120)


@pytest.mark.parametrize("code", ["qianjiang_2018", "jiangjin_2020", "lingyuan_2020", "yongchuan_2023"])
def test_hard_gates_in_every_preset(code):
    p = load_preset(code)
    f = failed(p, scheme_paused=True, scheme_paused_reason="基金代偿达50%", bank_suspended=True,
               firm_blacklisted=True)
    assert all(f[r].hard for r in ("scheme_paused", "bank_suspended", "blacklisted"))
    assert "基金代偿达50%" in f["scheme_paused"].message


def test_jiangjin_controllers_joint_guarantee_and_lingyuan_pure_credit():
    assert "joint_guarantee" in failed(load_preset("jiangjin_2020"), joint_guarantee=False)
    assert "joint_guarantee" not in failed(load_preset("qianjiang_2018"), joint_guarantee=False)
    assert "pure_credit" in failed(load_preset("lingyuan_2020"), pure_credit=False)
    assert "pure_credit" not in failed(load_preset("jiangjin_2020"), pure_credit=False)


def test_lingyuan_longer_than_normal_term_passes_with_a_note():
    p = load_preset("lingyuan_2020")
    assert p.normal_term_months == 24 and p.max_term_months == 36
    notes = [r for r in check_gates(p, facts(term_months=30, term_reason="设备回收期较长")).results
             if r.rule == "normal_term"]
    assert notes and notes[0].passed and "24" in notes[0].message and "设备回收期较长" in notes[0].message
    # beyond the normal term without a reason: refused (issue 11)
    bare = [r for r in check_gates(p, facts(term_months=30)).results if r.rule == "normal_term"]
    assert bare and not bare[0].passed and bare[0].hard
    assert not [r for r in check_gates(p, facts(term_months=24)).results if r.rule == "normal_term"]
