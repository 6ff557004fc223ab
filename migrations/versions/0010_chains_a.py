"""Each seed's own chain (issue 11, 黔江 and 江津 part): what a loan records at approval, the firm's
registered business scope, and a bank's cooperation ended for good.

* ``loans.joint_guarantee``, ``loans.pure_credit``, ``loans.term_reason``: recorded at approval
  (江津 art.11.4 joint guarantee; pure credit; the reason for a term beyond the normal term);
* ``organisations.business_scope``: the firm's registered 经营范围 (江津 art.11.3 excludes futures
  and real-estate development by the firm's business, not only by the loan's purpose);
* ``scheme_members.ended_at``: the cooperation stopped (江津 art.10), distinct from a suspension.

Revision ID: 0010_chains_a
Revises: 0009_loan_book
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_chains_a'
down_revision = '0009_loan_book'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loans') as batch_op:
        batch_op.add_column(sa.Column('joint_guarantee', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('pure_credit', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('term_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.add_column(sa.Column('business_scope', sa.Text(), nullable=True))
    with op.batch_alter_table('scheme_members') as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('scheme_members') as batch_op:
        batch_op.drop_column('ended_at')
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.drop_column('business_scope')
    with op.batch_alter_table('loans') as batch_op:
        batch_op.drop_column('term_reason')
        batch_op.drop_column('pure_credit')
        batch_op.drop_column('joint_guarantee')
