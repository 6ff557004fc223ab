"""0009_credit: the yes/no blacklist flag on organisations becomes an active blacklist entry with its
reason, and the flag's columns are gone."""
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from app.core.db import db
from tests.integration.test_migrations import scratch_app  # noqa: F401  (a fixture)

BEFORE = "0008_form_artifacts"


def test_flagged_firms_become_entries(scratch_app):  # noqa: F811
    with scratch_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as c:
            for oid, code, flagged, reason in ((1, "915001140000000001", True, "恶意逃废银行债务"),
                                               (2, "915001140000000002", False, None),
                                               (3, "915001140000000003", True, None)):
                c.execute(text("INSERT INTO organisations (id, kind, name, name_en, code, blacklisted, blacklist_reason, "
                               "verification, created_at) VALUES (:id, 'enterprise', :name, '', :code, :b, :r, "
                               "'verified', '2026-01-05 01:00:00+00:00')"),
                          {"id": oid, "name": f"企业{oid}", "code": code, "b": flagged, "r": reason})
        upgrade()
        with db.engine.connect() as c:
            rows = c.execute(text("SELECT enterprise_id, uscc, subject, source, reason, status, expires_on "
                                  "FROM blacklist_entries ORDER BY enterprise_id")).all()
        assert [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in rows] == [
            (1, "915001140000000001", "firm", "other", "active", None),
            (3, "915001140000000003", "firm", "other", "active", None)]
        assert rows[0][4] == "恶意逃废银行债务" and rows[1][4]
        columns = {col["name"] for col in inspect(db.engine).get_columns("organisations")}
        assert "blacklisted" not in columns and "blacklist_reason" not in columns
