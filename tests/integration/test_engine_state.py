"""Stored engine state carries SpiffWorkflow's serializer version, and what a deployment stored
stays restorable: every fixture in tests/data/engine_states/ (one per format, written by
make.py there with the library version of its day) is restored by the installed library."""
import json
import uuid
from pathlib import Path

import pytest

from app.core.db import db
from app.workflow import engine
from app.workflow.models import ProcessInstance, ProcessSpec

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "data" / "engine_states").glob("*.json"))


def _store(fixture: dict, *, as_format: str | None = None) -> ProcessInstance:
    spec_json, state = fixture["spec_json"], fixture["state"]
    if as_format:   # pretend both were written by another format of the serializer
        spec_json = json.dumps({**json.loads(spec_json), engine.VERSION_KEY: as_format})
        state = json.dumps({**json.loads(state), engine.VERSION_KEY: as_format})
    spec = ProcessSpec(process_id="loan_application", filename=fixture["bpmn_file"],
                       content_hash=f"fixture-{uuid.uuid4().hex}", version=10_000 + len(state) % 1000,
                       bpmn_xml="<fixture/>", spec_json=spec_json)
    db.session.add(spec)
    db.session.flush()
    inst = ProcessInstance(spec_id=spec.id, process_id="loan_application", subject_type="fixture",
                           subject_id=1, state=state, spec=spec)
    db.session.add(inst)
    db.session.flush()
    return inst


def _ready_filing_orgs(wf):
    return sorted(t.data["filing_org_id"] for t in wf.get_tasks(state=engine.TaskState.READY)
                  if t.task_spec.bpmn_id == "filing_ack")


def test_there_is_a_fixture_for_the_installed_format():
    assert any(p.name.endswith(f"-{engine.SERIALIZER_VERSION}.json") for p in FIXTURES), (
        f"SpiffWorkflow's serializer format is now {engine.SERIALIZER_VERSION}: run "
        "tests/data/engine_states/make.py and keep the older fixtures")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_stored_states_restore_and_continue(ctx, path):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    inst = _store(fixture)
    wf = engine.load(inst)
    assert _ready_filing_orgs(wf) == fixture["expect_ready_filing_orgs"]
    assert wf.data["application_id"] == 7
    # the parallel filing step finishes after a restore: the instance can still move
    for t in [t for t in wf.get_tasks(state=engine.TaskState.READY) if t.task_spec.bpmn_id == "filing_ack"]:
        t.data["filing_ack_by"] = t.data["filing_org_id"]
        t.run()
        wf.do_engine_steps()
    assert wf.is_completed()


def test_a_save_writes_the_serializer_version_through_the_public_api(ctx):
    fixture = json.loads(FIXTURES[-1].read_text(encoding="utf-8"))
    inst = _store(fixture)
    state = json.loads(engine.serialize_state(inst, engine.load(inst)))
    assert state[engine.VERSION_KEY] == engine.SERIALIZER_VERSION
    assert "spec" not in state, "the spec lives once on process_specs, not in every instance"


def test_an_older_format_is_migrated_by_spiffworkflow_with_its_spec(ctx):
    fixture = json.loads(FIXTURES[-1].read_text(encoding="utf-8"))
    inst = _store(fixture, as_format="1.4")   # 1.4 → 1.5 is SpiffWorkflow's own migration
    engine._deployed.clear()
    engine._by_spec_id.clear()
    assert _ready_filing_orgs(engine.load(inst)) == fixture["expect_ready_filing_orgs"]
    counts = engine.upgrade_engine_state()
    assert counts["instances"] >= 1 and counts["specs"] >= 1
    db.session.refresh(inst)
    db.session.refresh(inst.spec)
    assert json.loads(inst.state)[engine.VERSION_KEY] == engine.SERIALIZER_VERSION
    assert json.loads(inst.spec.spec_json)[engine.VERSION_KEY] == engine.SERIALIZER_VERSION
    assert _ready_filing_orgs(engine.load(inst)) == fixture["expect_ready_filing_orgs"]
    assert engine.upgrade_engine_state() == {"specs": 0, "instances": 0}, "idempotent"


def test_a_state_whose_format_does_not_match_its_spec_is_refused(ctx):
    fixture = json.loads(FIXTURES[-1].read_text(encoding="utf-8"))
    inst = _store(fixture)
    inst.state = json.dumps({**json.loads(inst.state), engine.VERSION_KEY: "1.3"})
    with pytest.raises(engine.EngineStateError, match="1.3"):
        engine.load(inst)
