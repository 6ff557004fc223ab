"""Rules of issue 11 read from the parameters and enforced (no HTTP, no database)."""
from datetime import date
from decimal import Decimal

import pytest

from app.compensation import rules
from app.policies import gates
from app.policies.gates import LoanFacts, check_gates
from app.policies.params import RATINGS, ParamsInvalid, parse_params, rating_at_least
from app.policies.presets import load_preset, preset_params
from app.policies.rates import SEED_RATES
from forms.application import ApplicationForm


def facts(**kw):
    base = dict(amount=Decimal("1000000.00"), annual_rate=Decimal("5.00"), term_months=12,
                disbursed_on=date(2026, 11, 20), activity="working_capital", reference_rate=Decimal("4.35"),
                joint_guarantee=True)
    base.update(kw)
    return LoanFacts(**base)


def results(params, **kw):
    return {r.rule: r for r in check_gates(params, facts(**kw)).results}


def with_changes(code, **changes):
    return parse_params({**load_preset(code), **changes})


# ---- one rating scale

def test_one_rating_scale_in_gates_rules_and_the_form():
    assert gates.RATING_ORDER == list(RATINGS)
    assert rules.rating_at_least is rating_at_least
    assert [v for v, _label in ApplicationForm.credit_rating.kwargs["choices"][1:]] == list(RATINGS)
    # +/- grades sit between their neighbours, in gates and compensation alike
    assert rating_at_least("AA-", "A+") and rating_at_least("A", "A-") and not rating_at_least("A-", "A")
    p = with_changes("qianjiang_2018", require_credit_rating="A")
    assert results(p, credit_rating="A-")["credit_rating"].passed is False
    assert results(p, credit_rating="A+")["credit_rating"].passed is True
    assert rules.rating_at_least("A-", "A") is False
    with pytest.raises(ParamsInvalid):
        with_changes("qianjiang_2018", require_credit_rating="A++")


# ---- pure credit, joint guarantee, normal term

def test_pure_credit_only_refuses_a_secured_loan_as_a_scheme_loan():
    p = with_changes("qianjiang_2018", pure_credit_only=True)
    assert results(p, pure_credit=True)["pure_credit"].passed
    r = results(p, pure_credit=False)["pure_credit"]
    assert not r.passed and not r.hard
    assert "pure_credit" not in results(preset_params("qianjiang_2018"), pure_credit=False)


def test_jiangjin_requires_the_controllers_joint_guarantee():
    p = preset_params("jiangjin_2020")
    assert p.require_joint_guarantee
    assert not results(p, joint_guarantee=False)["joint_guarantee"].passed
    assert results(p, joint_guarantee=True)["joint_guarantee"].passed


def test_beyond_the_normal_term_needs_a_reason():
    p = with_changes("qianjiang_2018", normal_term_months=24, max_term_months=36)
    assert "normal_term" not in results(p, term_months=24)
    assert results(p, term_months=30)["normal_term"].hard
    assert results(p, term_months=30, term_reason="设备投资回收期")["normal_term"].passed
    assert not results(p, term_months=37, term_reason="x")["max_term"].passed


# ---- 江津: the firm's registered business, not only the loan's purpose

def test_jiangjin_excludes_a_firm_whose_registered_business_is_futures_or_real_estate():
    p = preset_params("jiangjin_2020")
    assert p.exclude_by_business_scope
    assert results(p, firm_business_scope="商品期货经纪")["excluded_business"].hard
    assert not results(p, firm_business_scope="房地产开发经营")["excluded_business"].passed
    assert results(p, firm_business_scope="机械零部件制造")["excluded_business"].passed
    # 黔江 excludes nothing by business
    assert "excluded_business" not in results(preset_params("qianjiang_2018"), firm_business_scope="期货")


def test_a_bank_whose_cooperation_ended_gets_no_new_loan():
    p = preset_params("jiangjin_2020")
    r = results(p, bank_ended=True, bank_ended_reason="不良率超过10%")["bank_ended"]
    assert r.hard and not r.passed and "停止" in r.message
    assert p.suspend_bank_npl.action == "stop" and preset_params("qianjiang_2018").suspend_bank_npl.action == "suspend"
    with pytest.raises(ParamsInvalid):
        with_changes("jiangjin_2020", suspend_bank_npl={"threshold": "0.10", "inclusive": False, "action": "close"})


def test_qianjiang_applies_to_the_bank_and_jiangjin_through_the_department():
    assert preset_params("qianjiang_2018").application_route == "direct_to_bank"
    assert preset_params("jiangjin_2020").application_route == "department_recommendation"
    assert preset_params("jiangjin_2020").advance_approver_role == "district_government"
    assert preset_params("jiangjin_2020").joint_meeting_roles == ("finance_bureau",)


# ---- reference rates: every published change, each with its announcement

def _rate(kind, day, lo):
    return next(Decimal(r[4]) for r in SEED_RATES if r[0] == kind and r[1] == day and r[2] == lo)


def test_lpr_table_has_every_change_with_its_notice():
    assert _rate("lpr", date(2019, 8, 20), 0) == Decimal("4.25")
    assert _rate("lpr", date(2019, 9, 20), 0) == Decimal("4.20")
    assert _rate("lpr", date(2024, 7, 22), 0) == Decimal("3.35")
    assert _rate("lpr", date(2024, 7, 22), 60) == Decimal("3.85")
    assert _rate("lpr", date(2024, 2, 20), 60) == Decimal("3.95")
    keys = [(r[0], r[1], r[2]) for r in SEED_RATES]
    assert len(keys) == len(set(keys))
    for _kind, day, _lo, _hi, _r, source in SEED_RATES:
        assert f"{day.year}年{day.month}月{day.day}日" in source and len(source) <= 200
    lpr_days = sorted({r[1] for r in SEED_RATES if r[0] == "lpr"})
    assert len(lpr_days) == 15


def test_benchmark_table_since_the_buckets_were_merged():
    assert _rate("pboc_benchmark", date(2015, 10, 24), 0) == Decimal("4.35")
    assert _rate("pboc_benchmark", date(2015, 10, 24), 12) == Decimal("4.75")
    assert _rate("pboc_benchmark", date(2014, 11, 22), 60) == Decimal("6.15")
    assert len({r[1] for r in SEED_RATES if r[0] == "pboc_benchmark"}) == 6
