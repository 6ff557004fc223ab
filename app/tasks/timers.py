"""BPMN timers: advance instances whose timer events are due (boundary deadlines, waiting periods).

The adapter writes each WAITING timer's due time into ``workflow_timers`` when it persists an
instance; this job reads the due ones with one indexed query and advances each instance under its
lock, one transaction per instance.  Advancing an instance whose timer has already fired (a second
run, a redelivered message) changes nothing.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.core.i18n import N_
from app.core.transaction import unit_of_work
from app.tasks.jobs import interval, job
from app.workflow import engine


def fire_due_timers(at: datetime) -> str:
    fired = failed = 0
    for instance_id in engine.due_timer_instances(at):
        try:
            with unit_of_work():       # one transaction per instance
                engine.advance(engine.locked_instance(instance_id))
            fired += 1
        except engine.ConcurrentUpdate:
            pass                       # someone else advanced it; the next run sees the new state
        except Exception:
            failed += 1
            current_app.logger.exception("timer: advancing instance %s failed", instance_id)
    if failed:
        raise RuntimeError(f"{failed} instance(s) could not be advanced ({fired} advanced)")
    return f"advanced {fired}"


@job("timers", N_("BPMN 计时器"), interval("TIMER_POLL_SECONDS", 30),
     N_("推进计时器已到期的流程实例（边界计时器、公示期等待）"))
def timers_job(at: datetime) -> str:
    return fire_due_timers(at)
