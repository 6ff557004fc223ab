"""Performance evaluation (绩效评价): an evaluation per scheme, year and revision, and its rows.

Revision ID: 0015_performance
Revises: 0014_subsidies
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_performance'
down_revision = '0014_subsidies'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'performance_evaluations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('params_version', sa.Integer(), nullable=False),
        sa.Column('basis_json', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('computed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirm_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_performance_evaluations_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['computed_by_id'], ['users.id'], name=op.f('fk_performance_evaluations_computed_by_id_users')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_performance_evaluations_confirmed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_evaluations')),
        sa.UniqueConstraint('scheme_id', 'period', 'revision', name='uq_performance_evaluations_revision'),
    )
    op.create_index(op.f('ix_performance_evaluations_scheme_id'), 'performance_evaluations', ['scheme_id'], unique=False)
    op.create_table(
        'performance_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=True),
        sa.Column('figures_json', sa.Text(), nullable=False),
        sa.Column('deposit', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('fund_entry_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['evaluation_id'], ['performance_evaluations.id'], name=op.f('fk_performance_rows_evaluation_id_performance_evaluations')),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_performance_rows_org_id_organisations')),
        sa.ForeignKeyConstraint(['fund_entry_id'], ['fund_entries.id'], name=op.f('fk_performance_rows_fund_entry_id_fund_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_rows')),
    )
    op.create_index(op.f('ix_performance_rows_evaluation_id'), 'performance_rows', ['evaluation_id'], unique=False)
    op.create_index('ix_performance_rows_org', 'performance_rows', ['org_id', 'kind'], unique=False)


def downgrade():
    op.drop_index('ix_performance_rows_org', table_name='performance_rows')
    op.drop_index(op.f('ix_performance_rows_evaluation_id'), table_name='performance_rows')
    op.drop_table('performance_rows')
    op.drop_index(op.f('ix_performance_evaluations_scheme_id'), table_name='performance_evaluations')
    op.drop_table('performance_evaluations')
