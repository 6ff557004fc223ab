"""Credit data loaded from its source units: each unit's category, the clean uploads, and the loaded
records (by USCC, with their values, the upload and the row they came from).

Revision ID: 0018_credit_records
Revises: 0017_role_pages
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_credit_records'
down_revision = '0017_role_pages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_source_units',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_credit_source_units_org_id_organisations')),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_credit_source_units_assigned_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_source_units')),
        sa.UniqueConstraint('org_id', name=op.f('uq_credit_source_units_org_id')),
    )
    op.create_table(
        'credit_data_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_org_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('duty_id', sa.Integer(), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['source_org_id'], ['organisations.id'],
                                name=op.f('fk_credit_data_uploads_source_org_id_organisations')),
        sa.ForeignKeyConstraint(['duty_id'], ['duties.id'], name=op.f('fk_credit_data_uploads_duty_id_duties')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_credit_data_uploads_uploaded_by_id_users')),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['credit_data_uploads.id'],
                                name=op.f('fk_credit_data_uploads_replaced_by_id_credit_data_uploads')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_data_uploads')),
    )
    op.create_index(op.f('ix_credit_data_uploads_source_org_id'), 'credit_data_uploads', ['source_org_id'], unique=False)
    op.create_index('ix_credit_data_uploads_key', 'credit_data_uploads', ['source_org_id', 'category', 'period'],
                    unique=False)
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.alter_column('enterprise_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('uscc', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('firm_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('values_json', sa.Text(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('upload_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('row_no', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_credit_records_upload_id_credit_data_uploads'), 'credit_data_uploads',
                                    ['upload_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_credit_records_uscc'), ['uscc'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_records_upload_id'), ['upload_id'], unique=False)
    # the rows from before the loader name their firm by id: give them its USCC too
    op.execute("UPDATE credit_records SET uscc = (SELECT code FROM organisations WHERE organisations.id = "
               "credit_records.enterprise_id) WHERE uscc IS NULL")
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.alter_column('firm_name', server_default=None, existing_type=sa.String(length=200))
        batch_op.alter_column('values_json', server_default=None, existing_type=sa.Text())


def downgrade():
    op.execute("DELETE FROM credit_records WHERE enterprise_id IS NULL")
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_records_upload_id'))
        batch_op.drop_index(batch_op.f('ix_credit_records_uscc'))
        batch_op.drop_constraint(op.f('fk_credit_records_upload_id_credit_data_uploads'), type_='foreignkey')
        batch_op.drop_column('row_no')
        batch_op.drop_column('upload_id')
        batch_op.drop_column('values_json')
        batch_op.drop_column('firm_name')
        batch_op.drop_column('uscc')
        batch_op.alter_column('enterprise_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index('ix_credit_data_uploads_key', table_name='credit_data_uploads')
    op.drop_index(op.f('ix_credit_data_uploads_source_org_id'), table_name='credit_data_uploads')
    op.drop_table('credit_data_uploads')
    op.drop_table('credit_source_units')
