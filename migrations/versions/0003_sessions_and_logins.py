"""Sessions that end, usernames unique after normalisation, firms verified before they act.

* ``users.session_epoch``: part of every session's id; raised by logout and new passwords.
* ``users.username_key``: NFKC + casefold of the username, with a unique index.  Existing rows are filled
  here; if two existing usernames have the same key (``Firm1`` and ``firm1``) the upgrade STOPS and names
  them: rename one (``UPDATE users SET username = ...``) and run it again.
* ``organisations.verification``: ``pending`` / ``verified`` / ``refused``; existing rows are verified.

Columns are added in place (no table rebuild on SQLite, where foreign keys are enforced).

Revision ID: 0003_sessions_and_logins
Revises: 0002_engine_state_version
Create Date: 2026-11-25
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0003_sessions_and_logins'
down_revision = '0002_engine_state_version'
branch_labels = None
depends_on = None


def _key(name):
    # a frozen copy of app.accounts.names.username_key (a migration must not change with the app)
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", (name or "").strip()).casefold())


def upgrade():
    op.add_column('users', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('username_key', sa.String(length=80), server_default='', nullable=False))
    op.add_column('organisations', sa.Column('verification', sa.String(length=20), server_default='verified',
                                             nullable=False))

    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_key', sa.String))
    rows = conn.execute(sa.select(users.c.id, users.c.username)).all()
    by_key = {}
    for _uid, name in rows:
        by_key.setdefault(_key(name), []).append(name)
    clashes = {k: v for k, v in by_key.items() if len(v) > 1}
    too_long = [name for k, names in by_key.items() for name in names if len(k) > 80]
    if clashes or too_long:
        raise RuntimeError(
            "usernames must be unique after NFKC normalisation and case folding; rename these before "
            f"upgrading: {sorted(clashes.values())}" + (f"; keys longer than 80: {too_long}" if too_long else ""))
    for uid, name in rows:
        conn.execute(users.update().where(users.c.id == uid).values(username_key=_key(name)))
    op.create_index(op.f('ix_users_username_key'), 'users', ['username_key'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_users_username_key'), table_name='users')
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.drop_column('verification')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('username_key')
        batch_op.drop_column('session_epoch')
