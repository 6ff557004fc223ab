"""Forms declared with the diagram: deployed form-js forms as versions, and the version each task shows.

* ``form_artifacts``: one row per distinct content of a ``.form`` file (form id, version, hash, schema);
* ``human_tasks.form_artifact_id``: the form version current when the task was created (NULL for tasks of
  registered task pages, and for tasks created before this revision).

Revision ID: 0008_form_artifacts
Revises: 0007_incidents
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_form_artifacts'
down_revision = '0007_incidents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_artifacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.String(length=100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('schema_json', sa.Text(), nullable=False),
        sa.Column('activation', sa.Integer(), nullable=False),
        sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_artifacts')),
        sa.UniqueConstraint('form_id', 'content_hash', name='uq_form_artifacts_form_hash'),
        sa.UniqueConstraint('form_id', 'version', name='uq_form_artifacts_form_version'),
    )
    op.create_index(op.f('ix_form_artifacts_form_id'), 'form_artifacts', ['form_id'], unique=False)
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.add_column(sa.Column('form_artifact_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_human_tasks_form_artifact_id_form_artifacts'), 'form_artifacts',
                                    ['form_artifact_id'], ['id'])


def downgrade():
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.drop_constraint(op.f('fk_human_tasks_form_artifact_id_form_artifacts'), type_='foreignkey')
        batch_op.drop_column('form_artifact_id')
    op.drop_index(op.f('ix_form_artifacts_form_id'), table_name='form_artifacts')
    op.drop_table('form_artifacts')
