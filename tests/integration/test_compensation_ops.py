"""Compensation operations without HTTP: one loan, one compensation, also at the database level."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from app.compensation import operations as ops
from app.compensation.models import CompensationClaim
from app.core.db import db
from app.core.timeutil import today
from tests.e2e.test_compensation_http import make_loan


def _report(w, loan, principal="100000.00"):
    return ops.report_overdue(w.user("officer"), loan.id, ops.OverdueReport(
        overdue_on=today() - timedelta(days=30), overdue_principal=Decimal(principal), classification="substandard"))


def test_one_loan_one_compensation(world):
    w = world("qianjiang_2018")
    loan = make_loan(w, "100000.00")
    first = _report(w, loan)
    db.session.commit()
    with pytest.raises(ops.OperationError) as exc:
        _report(w, loan)
    assert first.no in str(exc.value)
    db.session.rollback()
    # even a writer that skips the check cannot store a second open case for the loan
    db.session.add(CompensationClaim(no=f"X-{w.tag}", loan_id=loan.id, active_loan_id=loan.id, scheme_id=w.scheme.id,
                                     bank_id=w.bank.id, status="recovering", overdue_on=today(),
                                     overdue_principal=Decimal("1.00"), classification="loss",
                                     reported_by_id=w.u["officer"].id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_only_the_lending_bank_reports_and_amounts_are_checked(world):
    w = world("qianjiang_2018")
    loan = make_loan(w, "100000.00")
    with pytest.raises(ops.OperationError):
        ops.report_overdue(w.user("other_bank"), loan.id, ops.OverdueReport(
            overdue_on=today(), overdue_principal=Decimal("1.00"), classification="loss"))
    with pytest.raises(ops.OperationError) as exc:
        _report(w, loan, "100000.01")
    assert exc.value.field == "overdue_principal"
    db.session.rollback()
    assert db.session.query(CompensationClaim).filter_by(loan_id=loan.id).count() == 0
