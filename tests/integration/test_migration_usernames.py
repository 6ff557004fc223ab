"""The migration that normalises usernames fills the key of existing rows and stops on a collision."""
import uuid
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
REVISION = "0003_sessions_and_logins"


@pytest.fixture
def engine(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        eng = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield eng
        eng.dispose()
        return
    schema = f"zx_mig_{uuid.uuid4().hex[:8]}"
    eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield eng
    with eng.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def _migrate(conn, usernames):
    """Every revision before ours, then a firm with ``usernames``, then ours."""
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    with Operations.context(MigrationContext.configure(conn)):
        for rev in reversed(list(script.walk_revisions("base", "heads"))):
            if rev.revision == REVISION:
                conn.execute(text("INSERT INTO organisations (id, kind, name, name_en, code, blacklisted, created_at) "
                                  "VALUES (1, 'enterprise', '甲', '', 'X1', false, CURRENT_TIMESTAMP)"))
                for i, name in enumerate(usernames, start=1):
                    conn.execute(text(
                        "INSERT INTO users (id, username, display_name, password_hash, organisation_id, is_supervisor,"
                        " active, failed_logins, created_at) VALUES (:i, :n, 'x', 'x', 1, false, true, 0, CURRENT_TIMESTAMP)"),
                        {"i": i, "n": name})
            rev.module.upgrade()


def test_existing_rows_get_their_key_and_firms_stay_verified(engine):
    with engine.begin() as conn:
        _migrate(conn, ["Firm1", "ｂａｎｋ_Officer", "admin"])
        rows = dict(conn.execute(text("SELECT username, username_key FROM users")).all())
        assert rows == {"Firm1": "firm1", "ｂａｎｋ_Officer": "bank_officer", "admin": "admin"}
        assert conn.execute(text("SELECT verification FROM organisations")).scalar() == "verified"
        assert {r[0] for r in conn.execute(text("SELECT session_epoch FROM users"))} == {0}


def test_colliding_usernames_stop_the_upgrade(engine):
    with pytest.raises(RuntimeError, match="Firm1"):
        with engine.begin() as conn:
            _migrate(conn, ["Firm1", "ｆｉｒｍ１", "other"])
