"""The bindings migration gives every existing scheme today's processes (the current version of each
built-in process), plus the deployment-wide bindings, each with a history row."""
from flask_migrate import upgrade
from sqlalchemy import text

from app.core.db import db
from app.policies import bindings
from app.policies.models import Scheme
from tests.integration.test_migrations import scratch_app  # noqa: F401  (a fixture)

BEFORE = "0003_sessions_and_logins"


def test_existing_schemes_get_todays_bindings(scratch_app):  # noqa: F811
    with scratch_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as c:
            for sid, code in ((1, "qj"), (2, "jj")):
                c.execute(text("INSERT INTO schemes (id, code, name, name_en, preset, params_json, params_version, "
                               "active, paused, created_at) VALUES (:id, :code, :code, '', 'qianjiang_2018', '{}', 1, "
                               ":t, :f, '2026-01-05 01:00:00+00:00')"), {"id": sid, "code": code, "t": True, "f": False})
        upgrade()
        with db.engine.connect() as c:
            rows = c.execute(text("SELECT scheme_id, kind, process_id, spec_id FROM process_bindings")).all()
            hist = c.execute(text("SELECT scheme_id, kind, from_process_id, to_process_id, to_spec_id "
                                  "FROM process_binding_history")).all()
        # kinds added after revision 0006 (the 凌源 batch, 0009; 永川's interest subsidies, 0014; report duties,
        # 0016) get no rows: they resolve to their default
        later = {"compensation_batch", "interest_subsidy", "report_duty"}
        kinds = {k: kind for k, kind in bindings.KINDS.items() if k not in later}
        per_scheme = [k for k, kind in kinds.items() if kind.per_scheme]
        expected = {(None, k, kind.default_process, None) for k, kind in kinds.items()}
        expected |= {(sid, k, bindings.KINDS[k].default_process, None) for sid in (1, 2) for k in per_scheme}
        assert set(map(tuple, rows)) == expected and len(rows) == len(expected)
        assert {(h[0], h[1], h[3]) for h in hist} == {(r[0], r[1], r[2]) for r in expected}
        assert all(h[2] is None and h[4] is None for h in hist)
        # and the code reads them: each scheme runs the built-in process at its current version
        for sid in (1, 2):
            scheme = db.session.get(Scheme, sid)
            for k in per_scheme:
                b = bindings.binding(scheme, k)
                assert b.row is not None and not b.inherited and not b.pinned
                assert b.process_id == bindings.KINDS[k].default_process
