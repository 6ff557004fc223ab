"""The migration chain: it builds exactly the models' schema (types included) on SQLite and
PostgreSQL, and a database filled at an earlier revision upgrades to head with its data intact."""
import json
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app.core.db import db

ROOT = Path(__file__).resolve().parents[2]
BASELINE = "1950a653e7ca"


def _script():
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(cfg)


def test_the_chain_is_linear_from_the_baseline():
    script = _script()
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    revs = list(script.walk_revisions("base", "heads"))
    assert revs[-1].revision == BASELINE and revs[-1].down_revision is None
    assert all(r.down_revision is not None for r in revs[:-1])
    assert not (ROOT / "scripts" / "regen_migration.sh").exists(), "the chain is never regenerated"


@pytest.fixture
def scratch_app(app, tmp_path):
    """A second app on an empty database (a new SQLite file, or a new PostgreSQL schema)."""
    from app import create_app
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    cfg = {k: app.config[k] for k in ("SECRET_KEY", "TESTING", "UPLOAD_DIR", "CELERY_BROKER_URL")}
    schema = admin = None
    if url.startswith("sqlite"):
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        schema = f"zx_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        cfg["SQLALCHEMY_DATABASE_URI"] = url
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    scratch = create_app(cfg)
    yield scratch
    with scratch.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_migrations_match_models_types_included(scratch_app):
    with scratch_app.app_context():
        upgrade()   # flask db upgrade, through migrations/env.py
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diff = list(compare_metadata(ctx, db.metadata))
    assert diff == [], f"migrations differ from the models (add a revision): {diff[:5]}"


def _baseline_state(scratch_app):
    """A loan application instance mid-flow, stored as the code at the baseline stored it:
    SpiffWorkflow's dict without a format version, the spec as {"spec", "subprocess_specs"}."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from app.workflow import engine
    path = ROOT / "bpmn" / "loan_application.bpmn"
    (pid, (spec, subs)), = [(k, v) for k, v in engine.parse_file(path).items() if k == "loan_application"]
    full = engine._full_serializer.to_dict(BpmnWorkflow(spec, subs))
    spec_json = json.dumps({"spec": full["spec"], "subprocess_specs": full["subprocess_specs"]}, ensure_ascii=False)
    wf = BpmnWorkflow(spec, subs, script_engine=engine.make_script_engine())
    wf.data.update({"application_id": 1, "scheme": "jiangjin"})
    wf.do_engine_steps()
    ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=engine.TaskState.READY)]
    conv = type("C", (engine._SharedSpecConverter,), {"specs": (spec, subs)})
    cfg = dict(engine.SPIFF_CONFIG)
    cfg[BpmnWorkflow] = conv
    ser = engine.BpmnWorkflowSerializer(engine.BpmnWorkflowSerializer.configure(cfg))
    state = json.dumps(ser.to_dict(wf), separators=(",", ":"), default=str, ensure_ascii=False)
    return pid, path, spec_json, state, ready


def test_data_filled_at_the_baseline_survives_the_upgrade_to_head(scratch_app):
    from app.workflow import engine
    from app.workflow.models import ProcessInstance
    pid, path, spec_json, state, ready = _baseline_state(scratch_app)
    assert ready, "the diagram has a first user task"
    with scratch_app.app_context():
        upgrade(revision=BASELINE)
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO process_specs (id, process_id, filename, content_hash, version, bpmn_xml, "
                           "spec_json, deployed_at) VALUES (1, :pid, :fn, 'old', 1, :xml, :spec, :t)"),
                      {"pid": pid, "fn": path.name, "xml": path.read_text(encoding="utf-8"), "spec": spec_json,
                       "t": "2026-01-05 01:00:00+00:00"})
            c.execute(text("INSERT INTO process_instances (id, spec_id, process_id, subject_type, subject_id, state, "
                           "version, completed, created_at, updated_at) VALUES (1, 1, :pid, 'application', 1, "
                           ":state, 3, :f, :t, :t)"),
                      {"pid": pid, "state": state, "f": False, "t": "2026-01-05 01:00:00+00:00"})
            c.execute(text("INSERT INTO process_specs (id, process_id, filename, content_hash, version, bpmn_xml, "
                           "spec_json, deployed_at) VALUES (2, :pid, :fn, 'newer', 2, :xml, :spec, :t)"),
                      {"pid": pid, "fn": path.name, "xml": path.read_text(encoding="utf-8"), "spec": spec_json,
                       "t": "2026-01-06 01:00:00+00:00"})
        upgrade()
        with db.engine.connect() as c:
            stored = c.execute(text("SELECT state FROM process_instances WHERE id = 1")).scalar_one()
            spec_stored = c.execute(text("SELECT spec_json FROM process_specs WHERE id = 1")).scalar_one()
            # the newest version of each process is its current one, as new instances started before
            current = c.execute(text("SELECT spec_id FROM process_current WHERE process_id = :pid"),
                                {"pid": pid}).scalar_one()
        assert current == 2
        assert json.loads(stored)[engine.VERSION_KEY] == "1.5"
        assert json.loads(spec_stored)[engine.VERSION_KEY] == "1.5"
        inst = db.session.get(ProcessInstance, 1)
        assert inst.version == 3 and inst.subject_type == "application"
        wf = engine.load(inst)
        assert [t.task_spec.bpmn_id for t in wf.get_tasks(state=engine.TaskState.READY)] == ready
        assert wf.data["application_id"] == 1
        # and the library's format is what the next save writes
        assert json.loads(engine.serialize_state(inst, wf))[engine.VERSION_KEY] == engine.SERIALIZER_VERSION
