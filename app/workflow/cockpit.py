"""Instance operations for administrators (Camunda Cockpit's habits): list, inspect, retry, cancel,
edit a task-data value; migration is in app/workflow/migration.py, incidents in incidents.py.

Every action takes the instance lock (``engine.locked_instance``) and writes an audit entry on the
instance (subject ``process_instance``) and on its domain subject's timeline.

The minimal useful set, and what each one does:

* **retry** re-runs the engine from the stored state: due timers fire, automatic steps (scripts,
  gateways) run.  It is the fix for an incident of a timer or of an earlier retry, after the cause is
  removed (a data value set below, a fixed version deployed and the instance migrated).  A failure of
  a *user's submission* is not replayed (the domain rows of that submission were rolled back with
  it): once fixed, the user submits again, and that success resolves the incident.
* **set a data value** writes one key of the task data of the instance's current tasks (the ready
  and waiting ones: what the next steps read), e.g. a value a script found missing.
* **cancel** with a reason ends the instance in the engine (its open human tasks leave the queues,
  its timers are dropped).  The domain subject (application, claim, duty…) keeps its own status:
  the subjects have no common "cancelled" status and each has its own rules for withdrawal; the
  cancellation and its reason appear on the subject's timeline.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from SpiffWorkflow.util.task import TaskState

from app.core import audit
from app.core.db import db
from app.core.errors import Conflict, DomainError, NotFound
from app.core.i18n import _
from app.core.timeutil import now
from app.workflow import engine, incidents
from app.workflow.models import HumanTask, Incident, ProcessInstance, ProcessSpec

STATES = ("running", "completed", "cancelled")
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_VALUE = 2000


class InstanceActionError(DomainError):
    pass


def _open_instance(instance_id: int) -> ProcessInstance:
    inst = engine.locked_instance(instance_id)
    if inst.completed:
        raise Conflict(_("流程实例已结束"))
    return inst


def _audit(inst: ProcessInstance, action: str, user, opinion: str = "", **details) -> None:
    audit.record(incidents.SUBJECT, inst.id, action, user, opinion=opinion, details=details,
                 visible_to_enterprise=False)
    audit.record(inst.subject_type, inst.subject_id, action, user, opinion=opinion,
                 details={"instance": inst.id, **details}, visible_to_enterprise=False)


# ---------------------------------------------------------------------------- actions

def retry(instance_id: int, user) -> ProcessInstance:
    inst = _open_instance(instance_id)
    engine.advance(inst, source="retry", user=user)     # StepFailed: the incident counts one more
    _audit(inst, "instance_retried", user)
    db.session.flush()
    return inst


def cancel(instance_id: int, user, reason: str) -> ProcessInstance:
    reason = (reason or "").strip()
    if not reason:
        raise InstanceActionError(_("请填写取消原因"), field="reason")
    inst = _open_instance(instance_id)
    engine.cancel(inst)
    inst.cancelled_at, inst.cancel_reason, inst.completed = now(), reason, True
    for inc in db.session.scalars(select(Incident).where(Incident.instance_id == inst.id,
                                                         Incident.status == "open")):
        inc.status, inc.resolved_at, inc.resolved_by_id = "resolved", now(), user.id
        inc.resolution = _("流程实例已取消：{reason}").format(reason=reason)
    inst.has_incident = False
    _audit(inst, "instance_cancelled", user, opinion=reason)
    db.session.flush()
    return inst


def parse_value(raw: str):
    """A task-data value typed by an administrator: JSON text, number, true/false/null, or plain text.
    Decimals stay text (the diagrams read amounts as text, e.g. ``"0.4"``)."""
    raw = (raw or "").strip()
    if len(raw) > MAX_VALUE:
        raise InstanceActionError(_("值过长（至多 {n} 个字符）").format(n=MAX_VALUE), field="value")
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return raw
    raise InstanceActionError(_("只能设置文本、数字、true/false 或 null"), field="value")


def set_data(instance_id: int, user, key: str, raw_value: str) -> ProcessInstance:
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise InstanceActionError(_("数据名须以字母开头，只含字母、数字和下划线（至多 64 个字符）"), field="key")
    value = parse_value(raw_value)
    inst = _open_instance(instance_id)
    workflow = engine.load(inst)
    current = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    if not current:
        raise InstanceActionError(_("该流程实例没有等待中的任务，无法设置数据"), field="key")
    old = {str(t.task_spec.bpmn_id or t.task_spec.name): t.data.get(key) for t in current}
    for t in current:
        t.data[key] = value
    engine.save(inst, workflow)
    _audit(inst, "instance_data_set", user, key=key, value=value, before=old)
    db.session.flush()
    return inst


# ---------------------------------------------------------------------------- reading

def state_of(inst: ProcessInstance) -> str:
    if inst.cancelled_at is not None:
        return "cancelled"
    return "completed" if inst.completed else "running"


def instances_page(process_id: str | None = None, version: int | None = None, state: str | None = None,
                   incident: bool = False, page: int = 1, per_page: int = 50):
    """One page of instances (newest first) with the true total, filtered as the list page asks."""
    q = select(ProcessInstance).join(ProcessSpec, ProcessSpec.id == ProcessInstance.spec_id)
    if process_id:
        q = q.where(ProcessInstance.process_id == process_id)
    if version:
        q = q.where(ProcessSpec.version == version)
    if state == "running":
        q = q.where(ProcessInstance.completed.is_(False))
    elif state == "completed":
        q = q.where(ProcessInstance.completed.is_(True), ProcessInstance.cancelled_at.is_(None))
    elif state == "cancelled":
        q = q.where(ProcessInstance.cancelled_at.is_not(None))
    if incident:
        q = q.where(ProcessInstance.has_incident.is_(True))
    total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = list(db.session.scalars(q.order_by(ProcessInstance.id.desc())
                                   .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    return rows, total


def process_ids() -> list[str]:
    return list(db.session.scalars(select(ProcessSpec.process_id).distinct().order_by(ProcessSpec.process_id)))


def versions_of(process_id: str) -> list[ProcessSpec]:
    return list(db.session.scalars(select(ProcessSpec).where(ProcessSpec.process_id == process_id)
                                   .order_by(ProcessSpec.version.desc())))


@dataclass
class CurrentTask:
    bpmn_id: str
    name: str
    state: str
    data: dict


def details(inst: ProcessInstance) -> dict:
    """What the instance page shows: data, current tasks, open human tasks, timeline, incidents."""
    if inst is None:
        raise NotFound(_("流程实例不存在"))
    workflow = engine.load(inst)
    current = [CurrentTask(str(t.task_spec.bpmn_id or t.task_spec.name), t.task_spec.bpmn_name or "",
                           TaskState.get_name(t.state), dict(t.data))
               for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
    human = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)
                                    .order_by(HumanTask.id)))
    events = audit.timeline(inst.subject_type, inst.subject_id) + audit.timeline(incidents.SUBJECT, inst.id)
    seen, timeline = set(), []
    for ev in sorted(events, key=lambda e: (e.at, e.id)):
        if ev.id not in seen:
            seen.add(ev.id)
            timeline.append(ev)
    return {"data": dict(workflow.data), "current": current, "human_tasks": human, "timeline": timeline,
            "incidents": incidents.of_instance(inst.id), "versions": versions_of(inst.process_id),
            "state": state_of(inst)}


def pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)
