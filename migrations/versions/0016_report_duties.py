"""Reports per reporting organisation (江津's monthly reports of each bank and of the guarantee company) and
per quarter (黔江's 通报): archived_reports gains the reporting organisation and one unique key in place of
(kind, scheme, period).

Revision ID: 0016_report_duties
Revises: 0015_performance
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_report_duties'
down_revision = '0015_performance'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('archived_reports') as b:
        b.add_column(sa.Column('key', sa.String(length=120), nullable=True))
        b.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
    op.execute("UPDATE archived_reports SET key = kind || ':' || 's' || CAST(scheme_id AS VARCHAR) || ':' || period")
    with op.batch_alter_table('archived_reports') as b:
        b.alter_column('key', existing_type=sa.String(length=120), nullable=False)
        b.drop_constraint('uq_archived_reports_kind_scheme_period', type_='unique')
        b.create_unique_constraint(b.f('uq_archived_reports_key'), ['key'])
        b.create_foreign_key(b.f('fk_archived_reports_org_id_organisations'), 'organisations', ['org_id'], ['id'])
        b.create_index(b.f('ix_archived_reports_org_id'), ['org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('archived_reports') as b:
        b.drop_index(b.f('ix_archived_reports_org_id'))
        b.drop_constraint(b.f('fk_archived_reports_org_id_organisations'), type_='foreignkey')
        b.drop_constraint(b.f('uq_archived_reports_key'), type_='unique')
        b.create_unique_constraint('uq_archived_reports_kind_scheme_period', ['kind', 'scheme_id', 'period'])
        b.drop_column('org_id')
        b.drop_column('key')
