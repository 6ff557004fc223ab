"""The Alembic migrations build exactly the schema the models declare (SQLite and PostgreSQL)."""
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from app.core.db import db

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_match_models(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    schema = None
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
        engine = create_engine(url)
    else:
        schema = f"zx_mig_{uuid.uuid4().hex[:8]}"
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        with engine.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            _upgrade(cfg, conn, app)
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = [d for d in compare_metadata(ctx, db.metadata)]
        assert diff == [], f"migrations differ from models (run scripts/regen_migration.sh): {diff[:5]}"
    finally:
        if schema:
            with engine.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _upgrade(cfg, conn, app):
    """Run the migration scripts on ``conn`` (Flask-Migrate's env.py reads the app's engine, so drive
    the revision functions directly through an Alembic operations context)."""
    from alembic.operations import Operations
    from alembic.script import ScriptDirectory
    script = ScriptDirectory.from_config(cfg)
    ctx = MigrationContext.configure(conn)
    with Operations.context(ctx):
        for rev in reversed(list(script.walk_revisions("base", "heads"))):
            rev.module.upgrade()
