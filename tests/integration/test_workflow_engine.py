"""The SpiffWorkflow adapter: deployment, persistence, the task index, locking."""
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from app.core.db import db
from app.workflow import engine
from app.workflow.models import HumanTask, ProcessInstance, ProcessSpec

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda p: p.name)
def test_every_bpmn_file_parses_validates_and_has_a_diagram(path):
    specs = engine.parse_file(path)  # validates against the BPMN schema
    assert specs
    text = path.read_text(encoding="utf-8")
    assert "<bpmndi:BPMNDiagram" in text and "<bpmndi:BPMNPlane" in text
    # every flow node and flow has a shape or an edge in the diagram section
    import re
    ids = set(re.findall(r'<bpmn:(?:userTask|task|scriptTask|serviceTask|manualTask|startEvent|endEvent|'
                         r'exclusiveGateway|parallelGateway|inclusiveGateway|intermediateCatchEvent|'
                         r'intermediateThrowEvent|boundaryEvent|sequenceFlow|callActivity|subProcess)\b[^>]*\bid="([^"]+)"', text))
    drawn = set(re.findall(r'bpmnElement="([^"]+)"', text))
    assert ids <= drawn, f"not drawn: {sorted(ids - drawn)}"


def test_deploy_is_versioned_by_content_hash(world, tmp_path):
    w = world()
    src = (BPMN_DIR / "loan_application.bpmn").read_text(encoding="utf-8")
    f = tmp_path / "loan_application.bpmn"
    f.write_text(src.replace('name="部门审核推荐"', 'name="部门审核推荐 v2"'), encoding="utf-8")
    before = db.session.scalar(select(ProcessSpec).where(ProcessSpec.process_id == "loan_application")
                               .order_by(ProcessSpec.version.desc()).limit(1))
    inst_old = engine.start("loan_application", "zz_test", 1, {"department_org_id": w.dept.id,
                                                               "enterprise_org_id": w.firm.id})
    assert inst_old.spec_id == before.id
    rows = engine.deploy_file(f)
    assert rows[0].version == before.version + 1
    again = engine.deploy_file(f)
    assert again[0].id == rows[0].id  # same content, same version
    db.session.flush()
    # the old instance keeps its spec version and still runs
    old = db.session.get(ProcessInstance, inst_old.id)
    assert old.spec_id == before.id
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == old.id))
    assert ht.name == "部门审核推荐"
    db.session.rollback()


def test_state_is_plain_json_text_without_the_spec(world):
    w = world()
    inst = engine.start("loan_application", "zz_test", 2, {"department_org_id": w.dept.id,
                                                           "enterprise_org_id": w.firm.id})
    state = json.loads(inst.state)
    assert "spec" not in state and "tasks" in state
    db.session.rollback()


def _multi_instance(world_):
    """A loan_application instance waiting in the parallel multi-instance filing task."""
    inst = engine.start("loan_application", "zz_test", 3, {
        "department_org_id": world_.dept.id, "enterprise_org_id": world_.firm.id})
    dept_user = world_.user("dept")
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open"))
    engine.complete(ht.id, dept_user, {"dept_decision": "recommend", "bank_org_id": world_.bank.id})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open"))
    engine.complete(ht.id, world_.user("officer"), {
        "bank_decision": "approve", "filing_recipients": [u.id for u in world_.units.values()]})
    db.session.commit()
    return inst.id


def test_multi_instance_restores_many_times(world):
    w = world()
    inst_id = _multi_instance(w)
    open_tasks = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == inst_id, HumanTask.status == "open")).all()
    assert len(open_tasks) == len(w.units) and {t.org_id for t in open_tasks} == {u.id for u in w.units.values()}
    inst = db.session.get(ProcessInstance, inst_id)
    for _ in range(60):
        db.session.expire_all()
        inst = db.session.get(ProcessInstance, inst_id)
        wf = engine.load(inst)
        assert len([t for t in wf.get_tasks() if t.task_spec.bpmn_id == "filing_ack"]) >= 6
    # complete the children one by one, restoring between each, until the process ends
    for ht in open_tasks:
        user = next(u for k, u in w.u.items() if w.user(k).organisation_id == ht.org_id)
        engine.complete(ht.id, w.user([k for k in w.u if w.u[k].id == user.id][0]), {"filing_ack_by": ht.org_id})
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(ProcessInstance, inst_id).completed


def test_concurrent_submission_of_one_task_one_wins(world, app):
    w = world()
    inst = engine.start("loan_application", "loan_application", 0, {
        "department_org_id": w.dept.id, "enterprise_org_id": w.firm.id})
    db.session.commit()
    ht_id = db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == inst.id))
    db.session.rollback()  # end this thread's transaction (SQLite: one writer at a time)
    dept_id, bank_id = w.u["dept"].id, w.bank.id
    db.session.rollback()
    barrier = threading.Barrier(2)
    results = []

    def submit(decision):
        with app.app_context():
            from app.accounts.models import User
            barrier.wait()
            try:
                user = db.session.get(User, dept_id)
                engine.complete(ht_id, user, {"dept_decision": decision, "bank_org_id": bank_id})
                db.session.commit()
                results.append(("ok", decision))
            except engine.WorkflowError as exc:
                db.session.rollback()
                results.append(("refused", str(exc)))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results.append(("error", repr(exc)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(d,)) for d in ("recommend", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    refused = next(r[1] for r in results if r[0] == "refused")
    assert "处理" in refused
    db.session.expire_all()
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).all()
    done = [t for t in tasks if t.status == "completed"]
    assert len(done) == 1
    winner = next(r[1] for r in results if r[0] == "ok")
    open_next = [t.bpmn_id for t in tasks if t.status == "open"]
    assert open_next == (["bank_due_diligence"] if winner == "recommend" else [])


def test_a_step_writes_the_adapters_rows_itself_and_leaves_nothing_for_the_flush(world):
    """app.workflow.rows: the parallel filing step creates a task per unit in one write (one statement on
    PostgreSQL); the ORM objects hold what is stored, and a flush afterwards has nothing of theirs to write."""
    w = world()
    inst = engine.start("loan_application", "zz_test", 4, {"department_org_id": w.dept.id,
                                                           "enterprise_org_id": w.firm.id})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open"))
    engine.complete(ht.id, w.user("dept"), {"dept_decision": "recommend", "bank_org_id": w.bank.id})
    bank_task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                          HumanTask.status == "open"))
    version = inst.version
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        engine.complete(bank_task.id, w.user("officer"), {
            "bank_decision": "approve", "filing_recipients": [u.id for u in w.units.values()]})
        writes = [s for s in statements if not s.startswith("SELECT")]
        statements.clear()
        db.session.flush()
        assert statements == []                # nothing of the step left pending
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    if db.engine.dialect.name == "postgresql":
        assert len(writes) == 1 and writes[0].lstrip().startswith("WITH"), writes
    new = [o for o in db.session.identity_map.values()
           if isinstance(o, HumanTask) and o.instance_id == inst.id and o.status == "open"]
    assert len(new) == len(w.units) and all(o.id for o in new)
    assert inst.version == version + 1 and bank_task.status == "completed"
    assert bank_task.completed_by_id == w.user("officer").id
    stored = {(t.id, t.org_id, t.status) for t in db.session.execute(
        select(HumanTask.__table__).where(HumanTask.instance_id == inst.id, HumanTask.status == "open"))}
    assert stored == {(o.id, o.org_id, "open") for o in new}
    db.session.rollback()


def test_a_step_on_an_instance_changed_since_it_was_read_is_refused_and_writes_nothing(world):
    w = world()
    inst = engine.start("loan_application", "zz_test", 5, {"department_org_id": w.dept.id,
                                                           "enterprise_org_id": w.firm.id})
    db.session.commit()
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open"))
    engine.lock_for(ht)
    # another writer moved the version on (as a transaction without the lock would)
    db.session.execute(update(ProcessInstance.__table__).where(ProcessInstance.id == inst.id)
                       .values(version=ProcessInstance.version + 1))
    with pytest.raises(engine.ConcurrentUpdate):
        engine.complete(ht.id, w.user("dept"), {"dept_decision": "recommend", "bank_org_id": w.bank.id})
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(HumanTask, ht.id).status == "open"
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id == inst.id)) == 1


def test_a_step_after_the_operation_changed_the_instance_row_stores_both(world):
    """The operation's change of the instance row (a version raised by its flush) is flushed before the engine
    checks the version: the step is not mistaken for a concurrent one (save: no query in between that would
    autoflush it earlier)."""
    w = world()
    inst = engine.start("loan_application", "zz_test", 6, {"department_org_id": w.dept.id,
                                                           "enterprise_org_id": w.firm.id})
    db.session.commit()
    inst = engine.locked_instance(inst.id)
    workflow = engine.load(inst)
    workflow.data["note"] = "an administrator's data edit"
    inst.cancel_reason = "an operation's own note on the instance"     # pending, not flushed
    engine.save(inst, workflow)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(ProcessInstance, inst.id)
    assert stored.cancel_reason == "an operation's own note on the instance"
    assert engine.load(stored).data["note"] == "an administrator's data edit"
