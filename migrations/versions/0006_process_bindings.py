"""Per-scheme process bindings, with history.

* ``process_bindings``: per scheme and process kind, the deployed process and version it runs
  (``spec_id`` NULL: the current version); ``scheme_id`` NULL rows are the deployment-wide bindings.
* ``process_binding_history``: who changed a binding, when, from → to, and why.

Data: the bindings equivalent to the behaviour before this revision — every kind runs the current
version of its built-in process — as a deployment-wide row per kind and a row per existing scheme
for each per-scheme kind, each with a history row saying it came from this migration.

Revision ID: 0006_process_bindings
Revises: 0005_process_current
Create Date: 2026-11-26
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0006_process_bindings'
down_revision = '0005_process_current'
branch_labels = None
depends_on = None

# a frozen copy of app.policies.bindings.KINDS at this revision: kind → (built-in process, per scheme)
KINDS = {
    "loan_application": ("loan_application", True),
    "compensation": ("compensation", True),
    "rectification": ("rectification", True),
    "monthly_filing": ("monthly_filing_duty", True),
    "credit_data_collection": ("credit_data_collection", False),
}
NOTE = "迁移：沿用升级前的流程（当前版本）"


def upgrade():
    op.create_table('process_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('spec_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_process_bindings_scheme_id_schemes')),
    sa.ForeignKeyConstraint(['spec_id'], ['process_specs.id'], name=op.f('fk_process_bindings_spec_id_process_specs')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_process_bindings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_bindings')),
    sa.UniqueConstraint('scheme_id', 'kind', name=op.f('uq_process_bindings_scheme_id'))
    )
    with op.batch_alter_table('process_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_bindings_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('process_binding_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_process_id', sa.String(length=100), nullable=True),
    sa.Column('from_spec_id', sa.Integer(), nullable=True),
    sa.Column('to_process_id', sa.String(length=100), nullable=False),
    sa.Column('to_spec_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_process_binding_history_changed_by_id_users')),
    sa.ForeignKeyConstraint(['from_spec_id'], ['process_specs.id'], name=op.f('fk_process_binding_history_from_spec_id_process_specs')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_process_binding_history_scheme_id_schemes')),
    sa.ForeignKeyConstraint(['to_spec_id'], ['process_specs.id'], name=op.f('fk_process_binding_history_to_spec_id_process_specs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_binding_history'))
    )
    with op.batch_alter_table('process_binding_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_binding_history_scheme_id'), ['scheme_id'], unique=False)

    conn = op.get_bind()
    at = datetime.now(timezone.utc)
    bindings = sa.table('process_bindings', sa.column('scheme_id', sa.Integer), sa.column('kind', sa.String),
                        sa.column('process_id', sa.String), sa.column('spec_id', sa.Integer),
                        sa.column('updated_at', sa.DateTime(timezone=True)))
    hist = sa.table('process_binding_history', sa.column('scheme_id', sa.Integer), sa.column('kind', sa.String),
                    sa.column('to_process_id', sa.String), sa.column('to_spec_id', sa.Integer),
                    sa.column('changed_at', sa.DateTime(timezone=True)), sa.column('note', sa.String))
    schemes = sa.table('schemes', sa.column('id', sa.Integer))
    scheme_ids = [r[0] for r in conn.execute(sa.select(schemes.c.id).order_by(schemes.c.id))]
    rows = [(None, kind, pid) for kind, (pid, _per) in KINDS.items()]
    rows += [(sid, kind, pid) for sid in scheme_ids for kind, (pid, per) in KINDS.items() if per]
    if rows:
        conn.execute(bindings.insert(), [dict(scheme_id=s, kind=k, process_id=p, spec_id=None, updated_at=at)
                                         for s, k, p in rows])
        conn.execute(hist.insert(), [dict(scheme_id=s, kind=k, to_process_id=p, to_spec_id=None, changed_at=at,
                                          note=NOTE) for s, k, p in rows])


def downgrade():
    with op.batch_alter_table('process_binding_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_binding_history_scheme_id'))
    op.drop_table('process_binding_history')
    with op.batch_alter_table('process_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_bindings_scheme_id'))
    op.drop_table('process_bindings')
