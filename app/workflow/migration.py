"""Move an open instance to another deployed version of its process (Camunda Cockpit's "migrate").

SpiffWorkflow's own diff and migration do the work (``SpiffWorkflow.bpmn.util.diff``):
``diff_workflow`` aligns the instance's tasks with the new spec by element id (then by structure),
``migrate_workflow`` re-points the aligned tasks and re-predicts the READY/WAITING ones.

The migration is refused, with the tasks named, when a task of the instance that has run or is
running (completed, ready, waiting, started) has no counterpart in the new version, or when a
sub-process of the instance is gone from it: the stored state could not be restored against the
new spec.  Tasks only predicted (future, likely, maybe) are re-predicted and may vanish freely.

On success the instance points at the new ``ProcessSpec`` row, its state is written again through
the adapter (without the spec, with the serializer version), and the human-task and timer indexes
follow the new version: open human tasks whose element still exists keep their row (their claim and
due date), with name, lane, form and assignment re-read from the new version.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.core import audit
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.core.i18n import _
from app.workflow import engine, incidents
from app.workflow.models import HumanTask, ProcessInstance, ProcessSpec

# states of a task that exist in the stored history or the present, not only in a prediction
_REAL = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR \
    | TaskState.CANCELLED


class MigrationRefused(Conflict):
    """The new version does not allow this instance's migration; ``tasks`` names what is in the way."""

    def __init__(self, message, tasks=()):
        super().__init__(message)
        self.tasks = list(tasks)


@dataclass
class Plan:
    """What a migration would do: the tasks that block it, and those whose definition changed."""
    blocking: list[str]
    changed: list[str]


def _label(task) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None)
    bid = getattr(spec, "bpmn_id", None) or spec.name
    return f"{bid}（{name}）" if name and name != bid else bid


def _target(instance: ProcessInstance, spec_id: int) -> ProcessSpec:
    target = db.session.get(ProcessSpec, spec_id)
    if target is None or target.process_id != instance.process_id:
        raise NotFound(_("目标版本不存在，或不属于流程 {process}").format(process=instance.process_id))
    return target


def _diff(workflow, deployed):
    registry = engine._full_serializer.registry
    top, subs = diff_workflow(registry, workflow, deployed.spec, deployed.subprocess_specs)
    blocking = [_label(t) for t in top.removed if t.has_state(_REAL)]
    changed = [_label(t) for t in top.changed if t.has_state(_REAL)]
    for sp_id, sp_diff in subs.items():
        sp = workflow.subprocesses[sp_id]
        if sp_diff is None:
            blocking.append(_("子流程 {name}").format(name=sp.spec.name))
            continue
        blocking += [_label(t) for t in sp_diff.removed if t.has_state(_REAL)]
        changed += [_label(t) for t in sp_diff.changed if t.has_state(_REAL)]
    return top, subs, Plan(sorted(set(blocking)), sorted(set(changed)))


def plan(instance: ProcessInstance, spec_id: int) -> Plan:
    """The migration's preview (no change)."""
    target = _target(instance, spec_id)
    return _diff(engine.load(instance), engine._cached(target))[2]


def migrate(instance_id: int, spec_id: int, user) -> ProcessInstance:
    """Migrate the (locked) instance to the version ``spec_id`` of its process; audited."""
    inst = engine.locked_instance(instance_id)
    if inst.completed:
        raise Conflict(_("流程实例已结束，不能迁移"))
    target = _target(inst, spec_id)
    if target.id == inst.spec_id:
        raise MigrationRefused(_("流程实例已在版本 {v}").format(v=target.version))
    old_version = inst.spec.version
    workflow = engine.load(inst)
    deployed = engine._cached(target)
    top, subs, p = _diff(workflow, deployed)
    if p.blocking:
        raise MigrationRefused(_("不能迁移到版本 {v}：以下任务在新版本中不存在或无法对应：{tasks}").format(
            v=target.version, tasks="、".join(p.blocking)), p.blocking)
    migrate_workflow(top, workflow, deployed.spec)
    for sp_id, sp_diff in subs.items():
        sp = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, sp, deployed.subprocess_specs[sp.spec.name])
    workflow.subprocess_specs = deployed.subprocess_specs
    inst.spec_id, inst.spec = target.id, target
    with engine._step("migrate", process_id=inst.process_id, instance=inst, user=user):
        engine._run_engine(workflow)
        _refresh_open_tasks(inst, workflow)
        engine.save(inst, workflow)
        engine.sync_timers(inst, workflow)      # also when the new version has no timers left
    audit.record(incidents.SUBJECT, inst.id, "instance_migrated", user,
                 details={"from_version": old_version, "to_version": target.version, "to_spec": target.id,
                          "changed": p.changed}, visible_to_enterprise=False)
    audit.record(inst.subject_type, inst.subject_id, "instance_migrated", user,
                 opinion=_("流程由版本 {a} 迁移至版本 {b}").format(a=old_version, b=target.version),
                 details={"instance": inst.id}, visible_to_enterprise=False)
    db.session.flush()
    return inst


def _refresh_open_tasks(inst: ProcessInstance, workflow) -> None:
    """Open human-task rows whose task is still READY take the new version's name, form and
    assignment (the rest is done by ``sync_human_tasks`` in ``_persist``)."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY) if engine._is_human(t.task_spec)}
    for ht in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id,
                                                         HumanTask.status == "open")):
        task = ready.get(ht.task_uuid)
        if task is None:
            continue
        for key, value in engine.index_fields(inst, task).items():
            if key != "due_at":
                setattr(ht, key, value)
