"""The loan book (one row per scheme loan and month) and the API's tokens and call log.

* ``loan_book_rows``: a bank's report of one loan at the end of one month, unique per (loan, month);
* ``api_tokens``: per-organisation tokens (SHA-256 only), issued and revoked by administrators;
* ``api_calls``: every API call with its token, organisation and status.

Revision ID: 0009_loan_book
Revises: 0008_form_artifacts
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_loan_book'
down_revision = '0008_form_artifacts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_api_tokens_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    op.create_index(op.f('ix_api_tokens_organisation_id'), 'api_tokens', ['organisation_id'], unique=False)
    op.create_table(
        'api_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_api_calls_token_id_api_tokens')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_api_calls_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_calls')),
    )
    op.create_index(op.f('ix_api_calls_token_id'), 'api_calls', ['token_id'], unique=False)
    op.create_index('ix_api_calls_org_at', 'api_calls', ['organisation_id', 'at'], unique=False)
    op.create_table(
        'loan_book_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('bank_id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('outstanding_principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('repaid_principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('classification', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('reported_by_id', sa.Integer(), nullable=True),
        sa.Column('api_token_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_book_rows_loan_id_loans')),
        sa.ForeignKeyConstraint(['bank_id'], ['organisations.id'], name=op.f('fk_loan_book_rows_bank_id_organisations')),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_loan_book_rows_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_loan_book_rows_reported_by_id_users')),
        sa.ForeignKeyConstraint(['api_token_id'], ['api_tokens.id'], name=op.f('fk_loan_book_rows_api_token_id_api_tokens')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_book_rows')),
        sa.UniqueConstraint('loan_id', 'month', name='uq_loan_book_rows_loan_month'),
    )
    op.create_index(op.f('ix_loan_book_rows_loan_id'), 'loan_book_rows', ['loan_id'], unique=False)
    op.create_index(op.f('ix_loan_book_rows_scheme_id'), 'loan_book_rows', ['scheme_id'], unique=False)
    op.create_index('ix_loan_book_rows_bank_month', 'loan_book_rows', ['bank_id', 'month'], unique=False)


def downgrade():
    op.drop_index('ix_loan_book_rows_bank_month', table_name='loan_book_rows')
    op.drop_index(op.f('ix_loan_book_rows_scheme_id'), table_name='loan_book_rows')
    op.drop_index(op.f('ix_loan_book_rows_loan_id'), table_name='loan_book_rows')
    op.drop_table('loan_book_rows')
    op.drop_index('ix_api_calls_org_at', table_name='api_calls')
    op.drop_index(op.f('ix_api_calls_token_id'), table_name='api_calls')
    op.drop_table('api_calls')
    op.drop_index(op.f('ix_api_tokens_organisation_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
