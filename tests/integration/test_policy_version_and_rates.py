"""A loan's approval-time parameters and the reference-rate table, against the database (issue 11)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.admin import operations as admin_ops
from app.compensation import operations as comp_ops
from app.core.db import db
from app.loans.models import Loan
from app.policies.models import ReferenceRate
from app.policies.rates import reference_rate, seed_reference_rates
from tests.e2e.test_compensation_http import make_loan


def test_a_loan_reads_the_parameters_of_its_approval_version(world):
    w = world("jiangjin_2020")
    loan = make_loan(w, "1000000.00", policy_version=w.scheme.params_version)
    edited = w.scheme.params.model_dump(mode="json")
    edited["fund_share"] = "0.50"
    edited["products"][0]["fund_share"] = "0.50"
    edited["recovery_after_payout"]["fund_share"] = "0.50"
    admin_ops.update_params(w.user("admin"), w.scheme, edited, "测试")
    db.session.commit()
    loan = db.session.get(Loan, loan.id)
    assert w.scheme.params.fund_share == Decimal("0.50")
    assert comp_ops.loan_params(loan).fund_share == Decimal("0.65")
    later = make_loan(w, "1000000.00", policy_version=w.scheme.params_version)
    assert comp_ops.loan_params(db.session.get(Loan, later.id)).fund_share == Decimal("0.50")


def test_reference_rates_upgrade_adds_the_missing_notices(ctx):
    seed_reference_rates()
    db.session.commit()
    assert reference_rate("lpr", 12, date(2019, 9, 25)).rate == Decimal("4.2000")
    assert reference_rate("lpr", 12, date(2024, 7, 22)).rate == Decimal("3.3500")
    assert reference_rate("lpr", 120, date(2024, 7, 30)).rate == Decimal("3.8500")
    assert reference_rate("pboc_benchmark", 24, date(2020, 1, 1)).rate == Decimal("4.7500")
    row = reference_rate("lpr", 12, date(2024, 7, 22))
    assert "2024年7月22日" in row.source
    n = db.session.scalar(select(db.func.count(ReferenceRate.id)))
    seed_reference_rates()   # twice: nothing added
    assert db.session.scalar(select(db.func.count(ReferenceRate.id))) == n
    db.session.rollback()
