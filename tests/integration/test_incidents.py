"""Incidents and instance operations in the adapter: a failing script leaves the instance as it was and
records an incident (administrators notified); retry after a fix completes it; the timers job goes on
with the other instances; migration to a compatible version moves the instance and its queue; an
incompatible version is refused with the task named; cancel with a reason."""
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.audit import timeline
from app.core.db import db
from app.core.timeutil import now
from app.notifications.models import Notification
from app.jobs.runner import run_now
from app.workflow import cockpit, engine, incidents, migration
from app.workflow.models import HumanTask, Incident, ProcessInstance, WorkflowTimer

BPMN = Path(__file__).resolve().parents[1] / "bpmn"


def deploy(tmp_path, name, pid, edit=lambda text: text):
    """Deploy tests/bpmn/<name> under a process id of its own (tests never share versions)."""
    base = name.replace(".bpmn", "")
    text = (BPMN / name).read_text(encoding="utf-8").replace(f"test_{base}", pid)
    folder = tmp_path / uuid.uuid4().hex[:6]   # versions of one process keep its file name (deploy's ownership rule)
    folder.mkdir()
    path = folder / f"{pid}.bpmn"
    path.write_text(edit(text), encoding="utf-8")
    (row,) = engine.deploy_file(path)
    db.session.commit()
    return row


def pid():
    return f"t_inc_{uuid.uuid4().hex[:8]}"


def open_tasks(instance_id):
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == "open").order_by(HumanTask.id)))


def start_script(w, process_id, **data):
    inst = engine.start(process_id, "test", w.bank.id, {"title": "事件测试", "org_id": w.bank.id,
                                                         "amount": "1000.00", **data})
    db.session.commit()
    return inst


def fail_step(fn, *args, **kw):
    """Run a step as a request would: it fails, its transaction is rolled back, the incident recorded."""
    with pytest.raises(engine.StepFailed) as info:
        fn(*args, **kw)
    db.session.rollback()
    incidents.record(info.value.failure)
    return info.value


def test_missing_data_makes_an_incident_and_retry_after_the_fix_completes(world, tmp_path):
    w = world()
    p = pid()
    deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p)
    (ht,) = open_tasks(inst.id)
    state_before, version_before = inst.state, inst.version
    officer, admin = w.user("officer"), w.user("admin")

    err = fail_step(engine.complete, ht.id, officer, {"note": "已备齐"})
    assert "计算分担金额" in str(err) and "rate" not in str(err)       # the user's message: plain, localized
    inc = db.session.scalar(select(Incident).where(Incident.instance_id == inst.id))
    assert (inc.status, inc.bpmn_id, inc.source, inc.user_id, inc.human_task_id) == \
        ("open", "compute", "task", officer.id, ht.id)
    assert inc.error_type == "DiagramNameError" and "'rate'" in inc.message
    inst = db.session.get(ProcessInstance, inst.id)
    assert inst.state == state_before and inst.version == version_before and inst.has_incident
    assert [t.id for t in open_tasks(inst.id)] == [ht.id]                 # still the user's to submit
    note = db.session.scalar(select(Notification).where(Notification.user_id == admin.id,
                                                        Notification.key == f"incident:{inc.id}:u{admin.id}"))
    assert note is not None and note.kind == "incident" and note.link.endswith(f"/incidents/{inc.id}")
    assert inc in incidents.page_of("open")[0]

    fail_step(engine.complete, ht.id, officer, {})                         # the same failure again: counted
    db.session.expire_all()
    assert db.session.get(Incident, inc.id).occurrences == 2
    assert db.session.scalar(select(Incident.id).where(Incident.instance_id == inst.id, Incident.id != inc.id)) is None

    cockpit.set_data(inst.id, admin, "rate", "0.4")                        # the fix: the missing value
    db.session.commit()
    engine.complete(ht.id, officer, {})                                    # the user submits again
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Incident, inc.id).status == "resolved"
    assert not db.session.get(ProcessInstance, inst.id).has_incident
    assert [t.bpmn_id for t in open_tasks(inst.id)] == ["confirm"]
    assert '"share":"400.00"' in db.session.get(ProcessInstance, inst.id).state
    actions = [e.action for e in timeline(incidents.SUBJECT, inst.id)]
    assert actions[:2] == ["incident", "incident"] and "instance_data_set" in actions


def start_timer(w, process_id, seconds, **data):
    inst = engine.start(process_id, "test", w.bank.id, {
        "title": "计时器事件", "org_id": w.bank.id, "amount": "1000.00",
        "wait_until": (now() + timedelta(seconds=seconds)).isoformat(), **data})
    db.session.commit()
    return inst


def wait_due(ids):
    deadline = time.monotonic() + 10
    while not set(ids) <= set(engine.due_timer_instances(now())) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_the_timers_job_records_the_failing_instance_and_advances_the_others(world, tmp_path):
    w = world()
    p = pid()
    deploy(tmp_path, "incident_timer.bpmn", p)
    good = [start_timer(w, p, 0.5, rate="0.4"), start_timer(w, p, 0.5, rate="0.5")]
    bad = start_timer(w, p, 0.5)
    state_before = bad.state
    wait_due([i.id for i in good + [bad]])

    run = run_now("timers")
    assert run.status == "success"
    assert f"#{bad.id} (compute: DiagramNameError" in run.summary and "1 failed" in run.summary
    db.session.expire_all()
    assert all(db.session.get(ProcessInstance, i.id).completed for i in good)
    bad = db.session.get(ProcessInstance, bad.id)
    assert not bad.completed and bad.state == state_before and bad.has_incident
    (inc,) = db.session.scalars(select(Incident).where(Incident.instance_id == bad.id))
    assert (inc.source, inc.bpmn_id, inc.user_id) == ("timer", "compute", None)
    assert db.session.scalar(select(WorkflowTimer).where(WorkflowTimer.instance_id == bad.id)) is not None

    run_now("timers")                        # a failed instance waits for an administrator's retry
    db.session.expire_all()
    assert db.session.get(Incident, inc.id).occurrences == 1
    assert bad.id not in engine.due_timer_instances(now())

    admin = w.user("admin")
    with pytest.raises(engine.StepFailed):   # a retry before the fix fails again
        cockpit.retry(bad.id, admin)
    db.session.rollback()

    cockpit.set_data(bad.id, admin, "rate", "0.3")
    cockpit.retry(bad.id, admin)
    db.session.commit()
    db.session.expire_all()
    bad = db.session.get(ProcessInstance, bad.id)
    assert bad.completed and not bad.has_incident and '"share":"300.00"' in bad.state
    assert db.session.get(Incident, inc.id).status == "resolved"
    assert db.session.scalar(select(WorkflowTimer).where(WorkflowTimer.instance_id == bad.id)) is None
    assert "instance_retried" in [e.action for e in timeline(incidents.SUBJECT, bad.id)]


def _add_check_after_confirm(text):
    """Version 2: the same diagram with a user task added after "confirm", and "prepare" renamed."""
    text = text.replace('<bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="end" />',
                        '<bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="double_check" />'
                        '<bpmn:sequenceFlow id="f5" sourceRef="double_check" targetRef="end" />')
    text = text.replace('<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>',
                        '<bpmn:userTask id="double_check" name="复核"><bpmn:extensionElements>'
                        '<spiffworkflow:properties><spiffworkflow:property name="formKey" value="filing_ack" />'
                        '<spiffworkflow:property name="assignTo" value="org_id" /></spiffworkflow:properties>'
                        '</bpmn:extensionElements><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>'
                        '</bpmn:userTask><bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>')
    return text.replace('name="准备材料"', 'name="准备材料（新）"').replace("Decimal(rate)", "Decimal('0.5')")


def _remove_prepare(text):
    """An incompatible version: the task the instance waits at is gone."""
    start = text.index('<bpmn:userTask id="prepare"')
    end = text.index("</bpmn:userTask>", start) + len("</bpmn:userTask>")
    text = text[:start] + text[end:]
    return text.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />', "") \
               .replace('<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="compute" />',
                        '<bpmn:sequenceFlow id="f2" sourceRef="start" targetRef="compute" />') \
               .replace("<bpmn:outgoing>f1</bpmn:outgoing>", "<bpmn:outgoing>f2</bpmn:outgoing>")


def test_migration_to_a_compatible_version_moves_the_instance_and_its_queue(world, tmp_path):
    w = world()
    p = pid()
    v1 = deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p)
    (ht,) = open_tasks(inst.id)
    officer, admin = w.user("officer"), w.user("admin")
    fail_step(engine.complete, ht.id, officer, {})                   # v1 cannot go on without "rate"
    v2 = deploy(tmp_path, "incident_script.bpmn", p, _add_check_after_confirm)
    assert v2.version == v1.version + 1

    assert migration.plan(inst, v2.id).blocking == []
    migration.migrate(inst.id, v2.id, admin)
    db.session.commit()
    db.session.expire_all()
    inst = db.session.get(ProcessInstance, inst.id)
    assert inst.spec_id == v2.id and engine.load(inst).spec is engine._cached(v2).spec
    (moved,) = open_tasks(inst.id)
    assert moved.id == ht.id and moved.name == "准备材料（新）" and moved.org_id == w.bank.id   # the queue follows

    engine.complete(ht.id, officer, {})                              # the fixed script of v2 runs
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(Incident.status).where(Incident.instance_id == inst.id)) == "resolved"
    (confirm,) = open_tasks(inst.id)
    engine.complete(confirm.id, officer, {})
    db.session.commit()
    assert [t.bpmn_id for t in open_tasks(inst.id)] == ["double_check"]    # a step only v2 has
    events = timeline(incidents.SUBJECT, inst.id)
    assert any(e.action == "instance_migrated" and e.details_dict["to_version"] == v2.version for e in events)


def test_migration_that_removes_the_current_task_is_refused_naming_it(world, tmp_path):
    w = world()
    p = pid()
    v1 = deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p, rate="0.4")
    v3 = deploy(tmp_path, "incident_script.bpmn", p, _remove_prepare)
    state_before = inst.state
    with pytest.raises(migration.MigrationRefused) as info:
        migration.migrate(inst.id, v3.id, w.user("admin"))
    assert any(t.startswith("prepare") for t in info.value.tasks) and "prepare" in str(info.value)
    db.session.rollback()
    inst = db.session.get(ProcessInstance, inst.id)
    assert inst.spec_id == v1.id and inst.state == state_before
    with pytest.raises(migration.MigrationRefused):
        migration.migrate(inst.id, inst.spec_id, w.user("admin"))   # "already on this version" is a refusal too
    db.session.rollback()


def test_cancel_with_a_reason_ends_the_instance_and_empties_its_queue(world, tmp_path):
    w = world()
    p = pid()
    deploy(tmp_path, "incident_script.bpmn", p)
    inst = start_script(w, p)
    (ht,) = open_tasks(inst.id)
    fail_step(engine.complete, ht.id, w.user("officer"), {})
    with pytest.raises(cockpit.InstanceActionError):
        cockpit.cancel(inst.id, w.user("admin"), "  ")
    db.session.rollback()
    cockpit.cancel(inst.id, w.user("admin"), "重复申请，由企业撤回")
    db.session.commit()
    db.session.expire_all()
    inst = db.session.get(ProcessInstance, inst.id)
    assert inst.completed and inst.cancelled_at and inst.cancel_reason == "重复申请，由企业撤回"
    assert cockpit.state_of(inst) == "cancelled" and not inst.has_incident
    assert open_tasks(inst.id) == [] and db.session.get(HumanTask, ht.id).status == "cancelled"
    assert db.session.scalar(select(Incident.status).where(Incident.instance_id == inst.id)) == "resolved"
    rows, total = cockpit.instances_page(p, state="cancelled")
    assert [r.id for r in rows] == [inst.id] and total == 1
    assert cockpit.instances_page(p, state="running") == ([], 0)
    (ev,) = [e for e in timeline("test", inst.subject_id) if e.action == "instance_cancelled"]
    assert ev.opinion == "重复申请，由企业撤回"


def test_a_start_that_fails_leaves_no_instance_and_an_incident_naming_the_version(world, tmp_path):
    w = world()
    p = pid()
    row = deploy(tmp_path, "incident_script.bpmn", p, lambda t: t.replace(
        '<spiffworkflow:property name="assignTo" value="org_id" />',
        '<spiffworkflow:property name="assignTo" value="missing_org" />', 1))
    err = fail_step(engine.start, p, "test", w.bank.id, {"title": "x", "org_id": w.bank.id})
    inc = db.session.get(Incident, err.failure.incident_id)
    assert inc.instance_id is None and inc.spec_id == row.id and inc.source == "start"
    assert db.session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == p)) is None
    incidents.resolve(inc.id, w.user("admin"), "已修正流程图并重新部署")
    db.session.commit()
    assert db.session.get(Incident, inc.id).status == "resolved"
