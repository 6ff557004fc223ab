"""BPMN timers: advance instances whose timer events are due (boundary deadlines, waiting periods).

The adapter writes each WAITING timer's due time into ``workflow_timers`` when it persists an
instance; this job reads the due ones with one indexed query and advances each instance under its
lock, one transaction per instance.  Advancing an instance whose timer has already fired (a second
run, a redelivered message) changes nothing.

An instance whose step fails (a script error, missing data) is rolled back to its state before the
timer, recorded as an incident (app/workflow/incidents.py: administrators are notified) and skipped
by later runs until an administrator retries it; the job goes on with the others and names the
failing instances in its summary.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.core.db import db
from app.core.i18n import N_
from app.core.transaction import unit_of_work
from app.jobs.runner import interval, job
from app.workflow import engine, incidents
from app.workflow.models import ProcessInstance


def fire_due_timers(at: datetime) -> str:
    fired = 0
    failed: list[str] = []
    for instance_id in engine.due_timer_instances(at):
        try:
            with unit_of_work():       # one transaction per instance
                engine.advance(engine.locked_instance(instance_id), source="timer")
            fired += 1
        except engine.ConcurrentUpdate:
            pass                       # someone else advanced it; the next run sees the new state
        except engine.StepFailed as exc:
            inc = incidents.record(exc.failure)          # its own transaction, after the rollback
            failed.append(f"#{instance_id} ({exc.failure.bpmn_id or '?'}: {exc.failure.error_type}, "
                          f"incident {inc.id})")
            current_app.logger.warning("timer: instance %s failed at %s: %s", instance_id,
                                       exc.failure.bpmn_id, exc.failure.message)
        except Exception as exc:       # not the diagram's fault: still an incident, then the next one
            current_app.logger.exception("timer: advancing instance %s failed", instance_id)
            failure = _failure(instance_id, exc)
            if failure is None:
                raise
            inc = incidents.record(failure)
            failed.append(f"#{instance_id} ({type(exc).__name__}, incident {inc.id})")
    summary = f"advanced {fired}"
    if failed:
        summary += f"; {len(failed)} failed, recorded as incidents: " + ", ".join(failed)
    return summary


def _failure(instance_id: int, exc: Exception) -> incidents.Failure | None:
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None:
        return None
    return incidents.Failure(source="timer", process_id=inst.process_id, error_type=type(exc).__name__[:100],
                             message=str(exc)[:incidents.MAX_MESSAGE], spec_id=inst.spec_id,
                             instance_id=inst.id, subject_type=inst.subject_type, subject_id=inst.subject_id)


@job("timers", N_("BPMN 计时器"), interval("TIMER_POLL_SECONDS", 30),
     N_("推进计时器已到期的流程实例（边界计时器、公示期等待）"))
def timers_job(at: datetime) -> str:
    return fire_due_timers(at)
