"""engine state carries its serializer version

Every stored SpiffWorkflow state (process_instances.state) and every deployed spec
(process_specs.spec_json) now holds the key ``serializer_version``, as SpiffWorkflow's public
serializer writes it, so the library's own format migrations can run after an upgrade.  Rows
written before this revision were written by SpiffWorkflow 3.2.0, whose format is "1.5".

Revision ID: 0002_engine_state_version
Revises: 1950a653e7ca
Create Date: 2026-11-24

"""
from alembic import op


revision = '0002_engine_state_version'
down_revision = '1950a653e7ca'
branch_labels = None
depends_on = None

# frozen here: the format SpiffWorkflow 3.2.0 wrote, not whatever the installed library writes now
FORMAT_WRITTEN_BEFORE = "1.5"


def upgrade():
    # every state is a JSON object written by json.dumps of a non-empty dict: it starts with '{"'
    prefix = '{"serializer_version":"%s",' % FORMAT_WRITTEN_BEFORE
    for table, column in (("process_instances", "state"), ("process_specs", "spec_json")):
        op.execute(
            f"UPDATE {table} SET {column} = '{prefix}' || substr({column}, 2) "
            f"WHERE substr({column}, 1, 2) = '{{\"' "
            f"AND substr({column}, 1, 21) <> '{{\"serializer_version\"'")


def downgrade():
    # strip the leading key upgrade() added; states saved since carry it at their end, where the
    # previous code's from_dict leaves it unread
    prefix = '{"serializer_version":"%s",' % FORMAT_WRITTEN_BEFORE
    for table, column in (("process_instances", "state"), ("process_specs", "spec_json")):
        op.execute(
            f"UPDATE {table} SET {column} = '{{' || substr({column}, {len(prefix) + 1}) "
            f"WHERE substr({column}, 1, {len(prefix)}) = '{prefix}'")
