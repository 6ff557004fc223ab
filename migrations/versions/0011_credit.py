"""The credit side (issue 13): persons of firms, blacklist entries of firms and persons (replacing the
yes/no flag on organisations: each flagged firm becomes an active entry with its reason), and the
recommended list (nominations, public objections, entries), and credit commitments.

Revision ID: 0011_credit
Revises: 0010_chains_a
Create Date: 2026-11-24
"""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0011_credit'
down_revision = '0010_chains_a'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'firm_persons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('id_masked', sa.String(length=18), nullable=False),
        sa.Column('id_digest', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_firm_persons_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_firm_persons_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_persons')),
    )
    op.create_index(op.f('ix_firm_persons_enterprise_id'), 'firm_persons', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_firm_persons_id_digest'), 'firm_persons', ['id_digest'], unique=False)

    op.create_table(
        'blacklist_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=10), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=True),
        sa.Column('uscc', sa.String(length=18), nullable=True),
        sa.Column('firm_name', sa.String(length=200), nullable=False),
        sa.Column('person_name', sa.String(length=80), nullable=False),
        sa.Column('id_masked', sa.String(length=18), nullable=True),
        sa.Column('id_digest', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=True),
        sa.Column('claim_id', sa.Integer(), nullable=True),
        sa.Column('import_batch', sa.String(length=40), nullable=True),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.Column('entered_at', TS, nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.Column('removed_at', TS, nullable=True),
        sa.Column('removal_reason', sa.Text(), nullable=True),
        sa.Column('appeal_text', sa.Text(), nullable=True),
        sa.Column('appeal_at', TS, nullable=True),
        sa.Column('appeal_status', sa.String(length=20), nullable=True),
        sa.Column('appeal_decision', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_blacklist_entries_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_blacklist_entries_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['claim_id'], ['compensation_claims.id'], name=op.f('fk_blacklist_entries_claim_id_compensation_claims')),
        sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_blacklist_entries_entered_by_id_users')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_blacklist_entries_confirmed_by_id_users')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_blacklist_entries_removed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_entries')),
    )
    op.create_index(op.f('ix_blacklist_entries_enterprise_id'), 'blacklist_entries', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_blacklist_entries_uscc'), 'blacklist_entries', ['uscc'], unique=False)
    op.create_index(op.f('ix_blacklist_entries_id_digest'), 'blacklist_entries', ['id_digest'], unique=False)
    op.create_index('ix_blacklist_entries_status_dates', 'blacklist_entries', ['status', 'starts_on', 'expires_on'],
                    unique=False)

    op.create_table(
        'list_nominations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('nominated_by_id', sa.Integer(), nullable=False),
        sa.Column('screening_opinion', sa.Text(), nullable=False),
        sa.Column('operations', sa.Text(), nullable=False),
        sa.Column('loan_plan', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('office_opinion', sa.Text(), nullable=True),
        sa.Column('credit_opinion', sa.Text(), nullable=True),
        sa.Column('notice_from', sa.Date(), nullable=True),
        sa.Column('notice_until', sa.Date(), nullable=True),
        sa.Column('decision_opinion', sa.Text(), nullable=True),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_list_nominations_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_list_nominations_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['department_id'], ['organisations.id'], name=op.f('fk_list_nominations_department_id_organisations')),
        sa.ForeignKeyConstraint(['nominated_by_id'], ['users.id'], name=op.f('fk_list_nominations_nominated_by_id_users')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_list_nominations_instance_id_process_instances')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_nominations')),
    )
    op.create_index(op.f('ix_list_nominations_scheme_id'), 'list_nominations', ['scheme_id'], unique=False)
    op.create_index(op.f('ix_list_nominations_enterprise_id'), 'list_nominations', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_list_nominations_status'), 'list_nominations', ['status'], unique=False)

    op.create_table(
        'list_objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nomination_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('contact', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('lodged_at', TS, nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('outcome_reason', sa.Text(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['nomination_id'], ['list_nominations.id'], name=op.f('fk_list_objections_nomination_id_list_nominations')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_list_objections_resolved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_objections')),
    )
    op.create_index(op.f('ix_list_objections_nomination_id'), 'list_objections', ['nomination_id'], unique=False)

    op.create_table(
        'list_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('nomination_id', sa.Integer(), nullable=True),
        sa.Column('listed_on', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('reviewed_on', sa.Date(), nullable=True),
        sa.Column('removed_on', sa.Date(), nullable=True),
        sa.Column('removal_reason', sa.Text(), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_list_entries_scheme_id_schemes')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_list_entries_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['nomination_id'], ['list_nominations.id'], name=op.f('fk_list_entries_nomination_id_list_nominations')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_list_entries_removed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_entries')),
    )
    op.create_index(op.f('ix_list_entries_scheme_id'), 'list_entries', ['scheme_id'], unique=False)
    op.create_index(op.f('ix_list_entries_enterprise_id'), 'list_entries', ['enterprise_id'], unique=False)

    op.create_table(
        'credit_commitments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('firm_name', sa.String(length=200), nullable=False),
        sa.Column('uscc', sa.String(length=40), nullable=False),
        sa.Column('legal_representative', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('generated_at', TS, nullable=False),
        sa.Column('generated_by_id', sa.Integer(), nullable=True),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', TS, nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', TS, nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['enterprise_id'], ['organisations.id'], name=op.f('fk_credit_commitments_enterprise_id_organisations')),
        sa.ForeignKeyConstraint(['generated_by_id'], ['users.id'], name=op.f('fk_credit_commitments_generated_by_id_users')),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_credit_commitments_attachment_id_attachments')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_credit_commitments_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_commitments')),
    )
    op.create_index(op.f('ix_credit_commitments_enterprise_id'), 'credit_commitments', ['enterprise_id'], unique=False)

    # the yes/no flag becomes an entry: a firm, by its USCC, from the day of this upgrade, no expiry
    conn = op.get_bind()
    entries = sa.table('blacklist_entries', *[sa.column(c) for c in (
        'subject', 'enterprise_id', 'uscc', 'firm_name', 'person_name', 'source', 'reason', 'basis', 'starts_on',
        'expires_on', 'status', 'entered_at')])
    flagged = conn.execute(sa.text(
        "SELECT id, code, name, blacklist_reason FROM organisations WHERE blacklisted = :yes"), {"yes": True}).all()
    if flagged:
        conn.execute(entries.insert(), [{
            'subject': 'firm', 'enterprise_id': oid, 'uscc': (code or '')[:18] or None, 'firm_name': name or '',
            'person_name': '', 'source': 'other', 'reason': reason or '（原黑名单标记，未记录原因）',
            'basis': '由原“黑名单”标记迁移（迁移 0011_credit）', 'starts_on': date.today(), 'expires_on': None,
            'status': 'active', 'entered_at': datetime.now(timezone.utc)} for oid, code, name, reason in flagged])
    # the new process kind gets today's binding (the built-in process at its current version), as 0006 did
    at = datetime.now(timezone.utc)
    bindings = sa.table('process_bindings', sa.column('scheme_id', sa.Integer), sa.column('kind', sa.String),
                        sa.column('process_id', sa.String), sa.column('spec_id', sa.Integer),
                        sa.column('updated_at', sa.DateTime(timezone=True)))
    hist = sa.table('process_binding_history', sa.column('scheme_id', sa.Integer), sa.column('kind', sa.String),
                    sa.column('to_process_id', sa.String), sa.column('to_spec_id', sa.Integer),
                    sa.column('changed_at', sa.DateTime(timezone=True)), sa.column('note', sa.String))
    scheme_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM schemes ORDER BY id"))]
    rows = [(sid, 'recommended_list', 'recommended_list') for sid in [None, *scheme_ids]]
    conn.execute(bindings.insert(), [dict(scheme_id=s, kind=k, process_id=p, spec_id=None, updated_at=at)
                                     for s, k, p in rows])
    conn.execute(hist.insert(), [dict(scheme_id=s, kind=k, to_process_id=p, to_spec_id=None, changed_at=at,
                                      note='迁移 0011_credit：推荐名单流程') for s, k, p in rows])

    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): copying the table, as batch mode would, fails on
    # SQLite while the rows that reference organisations are checked
    with op.batch_alter_table('organisations', recreate='never') as batch_op:
        batch_op.drop_column('blacklist_reason')
        batch_op.drop_column('blacklisted')


def downgrade():
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.add_column(sa.Column('blacklisted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('blacklist_reason', sa.String(length=500), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT enterprise_id, reason FROM blacklist_entries "
                                "WHERE subject = 'firm' AND status = 'active' AND enterprise_id IS NOT NULL")).all()
    for oid, reason in rows:
        conn.execute(sa.text("UPDATE organisations SET blacklisted = :yes, blacklist_reason = :r WHERE id = :id"),
                     {"yes": True, "r": (reason or '')[:500], "id": oid})
    conn.execute(sa.text("DELETE FROM process_binding_history WHERE kind = 'recommended_list'"))
    conn.execute(sa.text("DELETE FROM process_bindings WHERE kind = 'recommended_list'"))
    for t in ('credit_commitments', 'list_entries', 'list_objections', 'list_nominations', 'blacklist_entries', 'firm_persons'):
        op.drop_table(t)
