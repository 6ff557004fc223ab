"""Who sees which rows of a register: one scoped query per register.

- bank: its own (applications recommended to it, its loans and claims, fund movements about it);
- department: its sector (the applications it reviews — each sector has one department — and their
  loans; compensation claims are the joint meeting's, not the department's);
- enterprise: its own;
- finance bureau, financial office, 人民银行, 银保监: the schemes they are members of (read-only:
  registers have no write action);
- service centre, guarantee company: loans filed with them and their applications; claims of their
  schemes (as on the claim pages);
- administrator: everything; anybody else (data-source units): nothing.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select

from app.applications.models import LoanApplication
from app.compensation.models import SUBJECT as CLAIM_SUBJECT, CompensationClaim
from app.core.db import db
from app.fund.models import FUND_VIEWER_KINDS, FundEntry
from app.loans.models import Filing, Loan
from app.policies.models import SchemeMember

SCHEME_KINDS = ("finance_bureau", "financial_office", "pboc", "regulator")
FILING_KINDS = ("service_centre", "guarantee")


def member_schemes(org_id: int, role: str | None = None):
    q = select(SchemeMember.scheme_id).where(SchemeMember.organisation_id == org_id)
    return q.where(SchemeMember.role == role) if role else q


def _dept_loan_ids(org_id: int):
    return select(Loan.id).join(LoanApplication, LoanApplication.id == Loan.application_id).where(
        LoanApplication.department_id == org_id)


def _filed_loan_ids(org_id: int):
    return select(Filing.loan_id).where(Filing.recipient_id == org_id)


def applications(user):
    q, org = select(LoanApplication), user.organisation
    if org.kind == "admin":
        return q
    if org.kind == "enterprise":
        return q.where(LoanApplication.enterprise_id == org.id)
    if org.kind == "department":
        return q.where(LoanApplication.department_id == org.id)
    if org.kind == "bank":
        return q.where(LoanApplication.recommended_bank_id == org.id)
    if org.kind in SCHEME_KINDS:
        return q.where(LoanApplication.scheme_id.in_(member_schemes(org.id)))
    if org.kind in FILING_KINDS:
        return q.where(LoanApplication.id.in_(
            select(Loan.application_id).where(Loan.id.in_(_filed_loan_ids(org.id)))))
    return q.where(false())


def loans(user):
    q, org = select(Loan), user.organisation
    if org.kind == "admin":
        return q
    if org.kind == "enterprise":
        return q.where(Loan.enterprise_id == org.id)
    if org.kind == "department":
        return q.where(Loan.id.in_(_dept_loan_ids(org.id)))
    if org.kind == "bank":
        return q.where(Loan.bank_id == org.id)
    if org.kind in SCHEME_KINDS:
        return q.where(Loan.scheme_id.in_(member_schemes(org.id)))
    if org.kind in FILING_KINDS:
        return q.where(Loan.id.in_(_filed_loan_ids(org.id)))
    return q.where(false())


def claims(user):
    q, org = select(CompensationClaim), user.organisation
    if org.kind == "admin":
        return q
    if org.kind == "enterprise":
        return q.where(CompensationClaim.loan_id.in_(select(Loan.id).where(Loan.enterprise_id == org.id)))
    if org.kind == "bank":
        return q.where(CompensationClaim.bank_id == org.id)
    if org.kind in SCHEME_KINDS + FILING_KINDS:
        return q.where(CompensationClaim.scheme_id.in_(member_schemes(org.id)))
    return q.where(false())


def fund_entries(user):
    """Fund movements: the fund's viewers see their schemes' ledgers (as on the fund page); a bank sees
    the movements about it (its interest contributions, advances and payouts on its claims, returns)."""
    q, org = select(FundEntry), user.organisation
    if org.kind == "admin":
        return q
    if org.kind in FUND_VIEWER_KINDS:
        return q.where(FundEntry.scheme_id.in_(member_schemes(org.id, org.kind)))
    if org.kind == "bank":
        own_claims = select(CompensationClaim.id).where(CompensationClaim.bank_id == org.id)
        return q.where(or_((FundEntry.ref_type == "bank") & (FundEntry.ref_id == org.id),
                           (FundEntry.ref_type == CLAIM_SUBJECT) & FundEntry.ref_id.in_(own_claims)))
    return q.where(false())


def may_see_applications(user) -> bool:
    return user.organisation.kind != "data_source"


def may_see_claims(user) -> bool:
    return user.organisation.kind not in ("data_source", "department")


def may_see_fund(user) -> bool:
    return user.organisation.kind in ("admin", "bank") + FUND_VIEWER_KINDS


def visible_scheme_ids(user) -> list[int] | None:
    """The schemes a register's scheme filter offers (None: all, for administrators)."""
    org = user.organisation
    if org.kind == "admin":
        return None
    return list(dict.fromkeys(db.session.scalars(member_schemes(org.id))))
