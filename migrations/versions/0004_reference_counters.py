"""reference counters: race-free reference numbers (ZX/DK/BC-YYYYMMDD-NNNN)

Creates the counter table and seeds it from the numbers already given out, so a database upgraded
in the middle of a day continues after that day's highest number instead of colliding with it.

Revision ID: 0004_reference_counters
Revises: 0003_sessions_and_logins
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0004_reference_counters'
down_revision = '0003_sessions_and_logins'
branch_labels = None
depends_on = None

NUMBERED = (("loan_applications", "ZX"), ("loans", "DK"), ("compensation_claims", "BC"))
PATTERN = re.compile(r"^([A-Z]{2})-(\d{8})-(\d+)$")


def upgrade():
    counters = op.create_table(
        'reference_counters',
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'period', name=op.f('pk_reference_counters')),
    )
    conn = op.get_bind()
    highest: dict[tuple[str, str], int] = {}
    for table, kind in NUMBERED:
        rows = conn.execute(sa.text(f"SELECT no FROM {table} WHERE no LIKE :p"), {"p": f"{kind}-%"})
        for (no,) in rows:
            m = PATTERN.match(no or "")
            if m and m.group(1) == kind:
                key = (kind, m.group(2))
                highest[key] = max(highest.get(key, 0), int(m.group(3)))
    if highest:
        op.bulk_insert(counters, [{"kind": k, "period": p, "value": v} for (k, p), v in sorted(highest.items())])


def downgrade():
    op.drop_table('reference_counters')
