"""The current version of each process: the one new instances start (rollback by redeploying content).

``process_current`` holds one row per process id.  Existing databases get the newest version of
each process, which is what new instances started before this revision.

Revision ID: 0005_process_current
Revises: 0004_reference_counters
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op


revision = '0005_process_current'
down_revision = '0004_reference_counters'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'process_current',
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('spec_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['spec_id'], ['process_specs.id'], name=op.f('fk_process_current_spec_id_process_specs')),
        sa.PrimaryKeyConstraint('process_id', name=op.f('pk_process_current')),
    )
    op.execute(
        "INSERT INTO process_current (process_id, spec_id, since) "
        "SELECT p.process_id, p.id, p.deployed_at FROM process_specs p "
        "WHERE p.version = (SELECT max(q.version) FROM process_specs q WHERE q.process_id = p.process_id)")


def downgrade():
    op.drop_table('process_current')
