"""BPMN timers: the adapter writes due times into workflow_timers; the timer job advances due instances."""
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.core.db import db
from app.core.timeutil import now
from app.duties import operations as duty_ops
from app.duties.models import Duty
from app.jobs.runner import run_now
from app.workflow import engine
from app.workflow.models import HumanTask, WorkflowTimer

TEST_BPMN = Path(__file__).resolve().parents[1] / "bpmn" / "timer_wait.bpmn"


def start_waiting(org_id, seconds):
    engine.deploy_file(TEST_BPMN)
    inst = engine.start("test_timer_wait", "test", org_id, {
        "title": "公示期测试", "org_id": org_id, "wait_until": (now() + timedelta(seconds=seconds)).isoformat()})
    db.session.commit()
    return inst


def open_tasks(instance_id):
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == "open")))


def test_intermediate_timer_is_indexed_then_fires_and_advances(world):
    w = world()
    inst = start_waiting(w.bank.id, 1.0)
    timers = list(db.session.scalars(select(WorkflowTimer).where(WorkflowTimer.instance_id == inst.id)))
    assert [t.bpmn_id for t in timers] == ["notice_period"]
    assert timers[0].due_at > now()
    assert open_tasks(inst.id) == []

    run_now("timers")                      # not due yet: nothing happens
    db.session.expire_all()
    assert open_tasks(inst.id) == []
    assert inst.id not in engine.due_timer_instances(now())

    deadline = time.monotonic() + 10
    while inst.id not in engine.due_timer_instances(now()) and time.monotonic() < deadline:
        time.sleep(0.1)
    run = run_now("timers")
    assert run.status == "success"
    db.session.expire_all()
    tasks = open_tasks(inst.id)
    assert [t.bpmn_id for t in tasks] == ["after_notice"] and tasks[0].org_id == w.bank.id
    assert db.session.scalar(select(WorkflowTimer).where(WorkflowTimer.instance_id == inst.id)) is None

    run_now("timers")                      # a second run changes nothing
    db.session.expire_all()
    assert len(open_tasks(inst.id)) == 1


def test_boundary_timer_of_a_duty_is_indexed_and_removed_when_the_task_is_done(world):
    from datetime import date
    from app.jobs.runner import moment_for
    w = world()
    # for a future day the deadline lies ahead: the boundary timer waits in the table
    created = duty_ops.create_monthly_filing_duties(moment_for(date(2026, 12, 1)))
    duty = db.session.scalar(select(Duty).where(Duty.org_id == w.bank.id, Duty.scheme_id == w.scheme.id,
                                                Duty.period == "2026-11"))
    assert duty is not None and duty in created
    timer = db.session.scalar(select(WorkflowTimer).where(WorkflowTimer.instance_id == duty.instance_id))
    assert timer.bpmn_id == "filing_deadline" and timer.due_at == duty.due_at
    ht = open_tasks(duty.instance_id)[0]
    duty_ops.submit_monthly_filing(ht.id, w.user("officer"), duty_ops.MonthlyFilingInput(True, 0, 0, 0))
    db.session.commit()
    assert db.session.scalar(select(WorkflowTimer).where(WorkflowTimer.instance_id == duty.instance_id)) is None
    assert db.session.get(Duty, duty.id).status == "done"
