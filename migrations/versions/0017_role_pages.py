"""Notifications translated when shown: msgids in title/body, their parameters in params_json.

Revision ID: 0017_role_pages
Revises: 0016_report_duties
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_role_pages'
down_revision = '0016_report_duties'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('params_json', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('params_json')
