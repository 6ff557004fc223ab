"""Interest subsidies (永川 贴息): applications, the subsidy budgets and their append-only ledger,
guarantee-fee subsidy records.

Revision ID: 0014_subsidies
Revises: 0013_registers
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_subsidies'
down_revision = '0013_registers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subsidy_budgets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('programme', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_subsidy_budgets_scheme_id_schemes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_budgets')),
        sa.UniqueConstraint('scheme_id', 'programme', name='uq_subsidy_budgets_scheme_programme'),
    )
    op.create_index(op.f('ix_subsidy_budgets_scheme_id'), 'subsidy_budgets', ['scheme_id'], unique=False)
    op.create_table(
        'subsidy_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('budget_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('balance_after', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('memo', sa.Text(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('booked_on', sa.Date(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_org_id', sa.Integer(), nullable=True),
        sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_subsidy_entries_amount_positive')),
        sa.CheckConstraint("direction in ('in', 'out')", name=op.f('ck_subsidy_entries_direction_valid')),
        sa.CheckConstraint('balance_after >= 0', name=op.f('ck_subsidy_entries_balance_not_negative')),
        sa.ForeignKeyConstraint(['budget_id'], ['subsidy_budgets.id'], name=op.f('fk_subsidy_entries_budget_id_subsidy_budgets')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_subsidy_entries_actor_id_users')),
        sa.ForeignKeyConstraint(['actor_org_id'], ['organisations.id'], name=op.f('fk_subsidy_entries_actor_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_entries')),
        sa.UniqueConstraint('key', name=op.f('uq_subsidy_entries_key')),
    )
    op.create_index('ix_subsidy_entries_budget', 'subsidy_entries', ['budget_id', 'id'], unique=False)
    op.create_index(op.f('ix_subsidy_entries_application_id'), 'subsidy_entries', ['application_id'], unique=False)
    op.create_table(
        'subsidy_applications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('programme', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('open_key', sa.String(length=120), nullable=True),
        sa.Column('interest_declared', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('principal_declared', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('interest_confirmed', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('principal_confirmed', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('computation_json', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('applicant_org_id', sa.Integer(), nullable=False),
        sa.Column('applied_by_id', sa.Integer(), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('bank_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('finance_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('paid_entry_id', sa.Integer(), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_subsidy_applications_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_subsidy_applications_loan_id_loans')),
        sa.ForeignKeyConstraint(['applicant_org_id'], ['organisations.id'], name=op.f('fk_subsidy_applications_applicant_org_id_organisations')),
        sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_subsidy_applications_applied_by_id_users')),
        sa.ForeignKeyConstraint(['bank_id'], ['organisations.id'], name=op.f('fk_subsidy_applications_bank_id_organisations')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_subsidy_applications_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['department_id'], ['organisations.id'], name=op.f('fk_subsidy_applications_department_id_organisations')),
        sa.ForeignKeyConstraint(['finance_id'], ['organisations.id'], name=op.f('fk_subsidy_applications_finance_id_organisations')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_subsidy_applications_instance_id_process_instances')),
        sa.ForeignKeyConstraint(['paid_entry_id'], ['subsidy_entries.id'], name=op.f('fk_subsidy_applications_paid_entry_id_subsidy_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_applications')),
        sa.UniqueConstraint('open_key', name=op.f('uq_subsidy_applications_open_key')),
    )
    for col in ('scheme_id', 'loan_id', 'bank_id', 'enterprise_id', 'department_id'):
        op.create_index(op.f(f'ix_subsidy_applications_{col}'), 'subsidy_applications', [col], unique=False)
    op.create_table(
        'guarantee_fee_subsidies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('fee_paid', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('entered_by_id', sa.Integer(), nullable=False),
        sa.Column('entered_org_id', sa.Integer(), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_guarantee_fee_subsidies_amount_positive')),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_guarantee_fee_subsidies_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_guarantee_fee_subsidies_loan_id_loans')),
        sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_guarantee_fee_subsidies_entered_by_id_users')),
        sa.ForeignKeyConstraint(['entered_org_id'], ['organisations.id'], name=op.f('fk_guarantee_fee_subsidies_entered_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_guarantee_fee_subsidies')),
        sa.UniqueConstraint('loan_id', 'period', name='uq_guarantee_fee_subsidies_loan_period'),
    )
    for col in ('scheme_id', 'loan_id'):
        op.create_index(op.f(f'ix_guarantee_fee_subsidies_{col}'), 'guarantee_fee_subsidies', [col], unique=False)


def downgrade():
    op.drop_table('guarantee_fee_subsidies')
    op.drop_table('subsidy_applications')
    op.drop_table('subsidy_entries')
    op.drop_table('subsidy_budgets')
