"""Archived reports: the monthly statistics to 人民银行 (and later reports) as issued, per scheme and period.

Revision ID: 0013_registers
Revises: 0012_chains_b
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_registers'
down_revision = '0012_chains_b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'archived_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('figures_json', sa.Text(), nullable=False),
        sa.Column('xlsx', sa.LargeBinary(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('archived_by_id', sa.Integer(), nullable=True),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_archived_reports_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['archived_by_id'], ['users.id'], name=op.f('fk_archived_reports_archived_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archived_reports')),
        sa.UniqueConstraint('kind', 'scheme_id', 'period', name='uq_archived_reports_kind_scheme_period'),
    )
    op.create_index(op.f('ix_archived_reports_scheme_id'), 'archived_reports', ['scheme_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_archived_reports_scheme_id'), table_name='archived_reports')
    op.drop_table('archived_reports')
