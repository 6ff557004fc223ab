"""凌源's yearly compensation batch (issue 11): batches, objections raised during the publicity, and
each claim's batch, department opinion and outcome in the batch.

Revision ID: 0012_chains_b
Revises: 0011_credit
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_chains_b'
down_revision = '0011_credit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'compensation_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('no', sa.String(length=30), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('publicity_from', sa.Date(), nullable=True),
        sa.Column('publicity_until', sa.Date(), nullable=True),
        sa.Column('publicity_where', sa.String(length=300), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_compensation_batches_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_compensation_batches_opened_by_id_users')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                                name=op.f('fk_compensation_batches_instance_id_process_instances')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_batches')),
        sa.UniqueConstraint('no', name=op.f('uq_compensation_batches_no')),
    )
    op.create_index(op.f('ix_compensation_batches_scheme_id'), 'compensation_batches', ['scheme_id'], unique=False)
    op.create_index('uq_compensation_batch_scheme_year', 'compensation_batches', ['scheme_id', 'year'], unique=True)
    op.create_table(
        'compensation_batch_objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('objector', sa.String(length=200), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('resolution', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['compensation_batches.id'],
                                name=op.f('fk_compensation_batch_objections_batch_id_compensation_batches')),
        sa.ForeignKeyConstraint(['claim_id'], ['compensation_claims.id'],
                                name=op.f('fk_compensation_batch_objections_claim_id_compensation_claims')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_compensation_batch_objections_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'],
                                name=op.f('fk_compensation_batch_objections_resolved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_compensation_batch_objections')),
    )
    op.create_index(op.f('ix_compensation_batch_objections_batch_id'), 'compensation_batch_objections', ['batch_id'],
                    unique=False)
    with op.batch_alter_table('compensation_claims') as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dept_opinion', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('batch_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('batch_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_compensation_claims_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(op.f('fk_compensation_claims_batch_id_compensation_batches'),
                                    'compensation_batches', ['batch_id'], ['id'])


def downgrade():
    with op.batch_alter_table('compensation_claims') as batch_op:
        batch_op.drop_constraint(op.f('fk_compensation_claims_batch_id_compensation_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_compensation_claims_batch_id'))
        batch_op.drop_column('batch_reason')
        batch_op.drop_column('batch_outcome')
        batch_op.drop_column('dept_opinion')
        batch_op.drop_column('batch_id')
    op.drop_index(op.f('ix_compensation_batch_objections_batch_id'), table_name='compensation_batch_objections')
    op.drop_table('compensation_batch_objections')
    op.drop_index('uq_compensation_batch_scheme_year', table_name='compensation_batches')
    op.drop_index(op.f('ix_compensation_batches_scheme_id'), table_name='compensation_batches')
    op.drop_table('compensation_batches')
