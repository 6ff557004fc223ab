"""Incidents and instance operations: failed steps recorded, cancelled instances marked.

* ``workflow_incidents``: one row per failing step (script error, missing data, timer failure).
* ``process_instances.cancelled_at`` / ``cancel_reason``: an administrator's cancel with its reason.
* ``process_instances.has_incident``: True while the instance has an open incident (existing rows: false).

Revision ID: 0007_incidents
Revises: 0006_process_bindings
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op


revision = '0007_incidents'
down_revision = '0006_process_bindings'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('process_instances', sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('process_instances', sa.Column('cancel_reason', sa.Text(), nullable=True))
    op.add_column('process_instances', sa.Column('has_incident', sa.Boolean(), server_default=sa.false(),
                                                 nullable=False))
    op.create_table(
        'workflow_incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('spec_id', sa.Integer(), nullable=True),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('subject_type', sa.String(length=40), nullable=True),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('bpmn_id', sa.String(length=100), nullable=True),
        sa.Column('task_name', sa.String(length=200), nullable=True),
        sa.Column('human_task_id', sa.Integer(), nullable=True),
        sa.Column('error_type', sa.String(length=100), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('occurrences', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id']),
        sa.ForeignKeyConstraint(['spec_id'], ['process_specs.id']),
        sa.ForeignKeyConstraint(['human_task_id'], ['human_tasks.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incident_status', 'workflow_incidents', ['status', 'occurred_at'])
    op.create_index('ix_incident_instance', 'workflow_incidents', ['instance_id', 'status'])


def downgrade():
    op.drop_index('ix_incident_instance', table_name='workflow_incidents')
    op.drop_index('ix_incident_status', table_name='workflow_incidents')
    op.drop_table('workflow_incidents')
    with op.batch_alter_table('process_instances') as batch_op:
        batch_op.drop_column('has_incident')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
