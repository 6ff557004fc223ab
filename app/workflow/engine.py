"""Deploy, start, advance and persist SpiffWorkflow processes; keep the human-task index.

Every path that changes an instance goes through :func:`locked_instance` and :func:`save`:
the row is taken ``FOR UPDATE`` (PostgreSQL) and its ``version`` column guards the write
(SQLAlchemy's version counter), so two submissions of one task never both take effect.
The state is written in the caller's transaction, together with the domain rows of the step.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from flask import current_app
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.timeutil import now
from app.workflow import forms
from app.workflow.models import HumanTask, ProcessInstance, ProcessSpec, WorkflowTimer
from app.workflow.sandbox import DiagramExpressionError, evaluate, make_script_engine


class WorkflowError(DomainError):
    """A workflow operation could not be done; the message is for the user."""


class TaskNotAvailable(WorkflowError):
    status = 409


class ConcurrentUpdate(WorkflowError):
    status = 409


# ---------------------------------------------------------------------------- serialization

class _SharedSpecConverter(BpmnWorkflowConverter):
    """Leaves the (large, immutable) spec out of each instance's state; it lives on ProcessSpec."""
    specs = None  # (spec, subprocess_specs), set on a per-spec subclass

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = self.specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _StateEncoder(json.JSONEncoder):
    """Compact UTF-8 JSON; values SpiffWorkflow's registry does not know (Decimal) are kept as text."""

    def __init__(self, *args, **kwargs):
        kwargs.update(ensure_ascii=False, separators=(",", ":"))
        super().__init__(*args, **kwargs)

    def default(self, o):
        return str(o)


def _serializer(config) -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config), json_encoder_cls=_StateEncoder)


_full_serializer = _serializer(SPIFF_CONFIG)
#: the key SpiffWorkflow's public serializer writes its format version under, in every stored state
VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY
SERIALIZER_VERSION = _full_serializer.VERSION


class EngineStateError(WorkflowError):
    """A stored state cannot be restored by this version of the engine."""


def _spec_dict(spec_row: ProcessSpec) -> dict:
    """The deployed spec as a serialized empty workflow, migrated to the current format if needed."""
    dct = json.loads(spec_row.spec_json)
    if dct.get(VERSION_KEY) != SERIALIZER_VERSION:
        # SpiffWorkflow's own format migration, in memory; specs deployed before the version was
        # stored hold only the spec keys of the empty workflow
        for key, empty in (("tasks", {}), ("subprocesses", {}), ("data", {})):
            dct.setdefault(key, empty)
        _full_serializer.migrate(dct)
    else:
        dct.pop(VERSION_KEY)
    return dct
@dataclass(frozen=True)
class _DeployedSpec:
    """A deployed spec restored once per process: its serializer, spec objects and traits."""
    serializer: BpmnWorkflowSerializer
    spec: object
    subprocess_specs: dict
    has_timers: bool


_deployed: dict[str, _DeployedSpec] = {}   # "process_id:content_hash" → restored spec


def _cached(spec_row: ProcessSpec) -> _DeployedSpec:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    key = f"{spec_row.process_id}:{spec_row.content_hash}"
    hit = _deployed.get(key)
    if hit is None:
        dct = _spec_dict(spec_row)
        spec = _full_serializer.from_dict(dct["spec"])
        subs = {k: _full_serializer.from_dict(v) for k, v in dct["subprocess_specs"].items()}
        conv = type("SpecConverter", (_SharedSpecConverter,), {"specs": (spec, subs)})
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = conv
        timers = any(isinstance(getattr(ts, "event_definition", None), TimerEventDefinition)
                     for sp in (spec, *subs.values()) for ts in sp.task_specs.values())
        hit = _DeployedSpec(_serializer(config), spec, subs, timers)
        _deployed[key] = hit
    return hit


_by_spec_id: dict[tuple[str, int], _DeployedSpec] = {}


def _deployed_for(instance: ProcessInstance) -> _DeployedSpec:
    """The instance's restored spec by ``spec_id``, without loading the ``process_specs`` row."""
    key = (str(db.engine.url), instance.spec_id)
    hit = _by_spec_id.get(key)
    if hit is None:
        hit = _by_spec_id[key] = _cached(instance.spec)
    return hit


# ---------------------------------------------------------------------------- deployment

def _parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=VALIDATOR)


class DeployError(WorkflowError):
    """A diagram that does not parse or validate: nothing is deployed, the reason is shown."""


def parse_file(path: Path):
    """Parse and validate one BPMN file; returns {process_id: (spec, subprocess_specs)}."""
    parser = _parser()
    try:
        parser.add_bpmn_file(str(path))
        out = {}
        for pid in parser.get_process_ids():
            out[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
    except (SpiffWorkflowException, DiagramExpressionError, etree.LxmlError) as exc:
        raise DeployError(f"{path.name}: {exc}") from exc
    return out


def deploy_file(path: Path) -> list[ProcessSpec]:
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    rows = []
    for pid, (spec, subs) in parse_file(path).items():
        row = db.session.scalar(select(ProcessSpec).where(
            ProcessSpec.process_id == pid, ProcessSpec.content_hash == digest))
        if row is None:
            # an empty workflow through the public serializer: the spec with its format version
            spec_json = _full_serializer.serialize_json(BpmnWorkflow(spec, subs))
            last = db.session.scalar(select(func.max(ProcessSpec.version)).where(ProcessSpec.process_id == pid))
            row = ProcessSpec(process_id=pid, filename=path.name, content_hash=digest,
                              version=(last or 0) + 1, bpmn_xml=content.decode("utf-8"), spec_json=spec_json)
            db.session.add(row)
            db.session.flush()
        rows.append(row)
    return rows


def deploy_directory(directory: str | Path | None = None) -> list[ProcessSpec]:
    directory = Path(directory or current_app.config["BPMN_DIR"])
    forms.deploy_form_directory(directory)     # the .form files first: diagrams name them by form key
    rows = []
    for path in sorted(directory.glob("*.bpmn")):
        rows.extend(deploy_file(path))
    return rows


def latest_spec(process_id: str) -> ProcessSpec:
    row = db.session.scalar(select(ProcessSpec).where(ProcessSpec.process_id == process_id)
                            .order_by(ProcessSpec.version.desc()).limit(1))
    if row is None:
        deploy_directory()
        row = db.session.scalar(select(ProcessSpec).where(ProcessSpec.process_id == process_id)
                                .order_by(ProcessSpec.version.desc()).limit(1))
    if row is None:
        raise WorkflowError(f"process {process_id!r} is not deployed")
    return row


# ---------------------------------------------------------------------------- running

def _run_engine(workflow: BpmnWorkflow) -> None:
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        inner = getattr(exc, "exception", None)
        if isinstance(inner, DiagramExpressionError):
            raise inner from exc
        raise


def start(process_id: str, subject_type: str, subject_id: int, data: dict) -> ProcessInstance:
    spec_row = latest_spec(process_id)
    deployed = _cached(spec_row)
    spec, subs = deployed.spec, deployed.subprocess_specs
    workflow = BpmnWorkflow(spec, subs, script_engine=make_script_engine())
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    _run_engine(workflow)
    instance = ProcessInstance(spec_id=spec_row.id, process_id=process_id, subject_type=subject_type,
                               subject_id=subject_id, state="{}", spec=spec_row)
    db.session.add(instance)
    db.session.flush()
    _persist(instance, workflow)
    return instance


def _locks() -> dict:
    """Instances already locked in the current transaction (the lock is held until it ends)."""
    tx = db.session().get_transaction()
    info = db.session.info
    if info.get("zx_lock_tx") is not tx:
        info["zx_lock_tx"] = tx
        info["zx_locked"] = {}
    return info["zx_locked"]


def locked_instance(instance_id: int) -> ProcessInstance:
    """Take the per-instance lock.  Every path that changes an instance starts here.

    ``SELECT ... FOR UPDATE`` on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE);
    taken once per transaction, so a second call in the same step costs nothing.
    """
    locks = _locks()
    inst = locks.get(instance_id)
    if inst is not None:
        return inst
    inst = db.session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                             .with_for_update().execution_options(populate_existing=True))
    if inst is None:
        raise WorkflowError(_("流程实例不存在"))
    locks[instance_id] = inst
    return inst


def _state_dict(instance: ProcessInstance) -> dict:
    """The instance's state in the current serializer format.

    States carry the version of the serializer that wrote them.  One written by an older
    SpiffWorkflow is migrated by SpiffWorkflow's own migration, together with its spec in the same
    older format (the library's migrations may rewrite both); :func:`upgrade_engine_state` does
    this for every stored instance after a library upgrade.
    """
    dct = json.loads(instance.state) if isinstance(instance.state, str) else dict(instance.state)
    version = dct.get(VERSION_KEY)
    if version == SERIALIZER_VERSION:
        dct.pop(VERSION_KEY)
        return dct
    spec = json.loads(instance.spec.spec_json)
    if version is None or spec.get(VERSION_KEY) != version:
        raise EngineStateError(
            f"instance {instance.id}: state format {version!r} cannot be migrated with spec format "
            f"{spec.get(VERSION_KEY)!r} (engine format {SERIALIZER_VERSION})")
    dct["spec"], dct["subprocess_specs"] = spec["spec"], spec["subprocess_specs"]
    _full_serializer.migrate(dct)
    dct.pop("spec")
    dct.pop("subprocess_specs")
    return dct


def load(instance: ProcessInstance) -> BpmnWorkflow:
    workflow = _deployed_for(instance).serializer.from_dict(_state_dict(instance))
    workflow.script_engine = make_script_engine()
    return workflow


def serialize_state(instance: ProcessInstance, workflow: BpmnWorkflow) -> str:
    """The workflow's state as stored: SpiffWorkflow's JSON with its serializer version, no spec."""
    return _deployed_for(instance).serializer.serialize_json(workflow)


def upgrade_engine_state(batch: int = 500) -> dict:
    """Bring every stored spec and instance to the current serializer format (run after upgrading
    SpiffWorkflow; ``flask zx init-db`` runs it).  Instances are migrated with their spec's old
    format first, then the specs are rewritten; idempotent."""
    counts = {"specs": 0, "instances": 0}
    stale_specs = [row for row in db.session.scalars(select(ProcessSpec))
                   if json.loads(row.spec_json).get(VERSION_KEY) != SERIALIZER_VERSION]
    for row in stale_specs:
        last_id = 0
        while True:
            chunk = list(db.session.scalars(
                select(ProcessInstance).where(ProcessInstance.spec_id == row.id, ProcessInstance.id > last_id)
                .order_by(ProcessInstance.id).limit(batch)))
            if not chunk:
                break
            for inst in chunk:
                last_id = inst.id
                if json.loads(inst.state).get(VERSION_KEY) == SERIALIZER_VERSION:
                    continue
                locked = locked_instance(inst.id)
                locked.state = serialize_state(locked, load(locked))
                counts["instances"] += 1
            db.session.flush()
        dct = _spec_dict(row)
        spec = _full_serializer.from_dict(dct["spec"])
        subs = {k: _full_serializer.from_dict(v) for k, v in dct["subprocess_specs"].items()}
        row.spec_json = _full_serializer.serialize_json(BpmnWorkflow(spec, subs))
        counts["specs"] += 1
        _deployed.pop(f"{row.process_id}:{row.content_hash}", None)
        for key in [k for k in _by_spec_id if k[1] == row.id]:
            _by_spec_id.pop(key)
    db.session.flush()
    return counts


def _persist(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    deployed = _deployed_for(instance)
    instance.state = serialize_state(instance, workflow)
    instance.completed = workflow.is_completed()
    instance.updated_at = now()
    sync_human_tasks(instance, workflow)
    if deployed.has_timers:
        sync_timers(instance, workflow)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ConcurrentUpdate(_("该事项刚刚被其他人处理过，请刷新页面查看最新状态。")) from exc


@dataclass
class StepResult:
    instance: ProcessInstance
    workflow: BpmnWorkflow
    data: dict


def open_task_for_update(human_task_id: int, user) -> tuple[HumanTask, ProcessInstance]:
    ht = db.session.get(HumanTask, human_task_id)
    if ht is None:
        raise TaskNotAvailable(_("待办事项不存在"))
    already = ht.instance_id in _locks()
    inst = locked_instance(ht.instance_id)
    if not already:
        db.session.refresh(ht)  # re-read under the lock: the loser of a race sees the winner's result
    if ht.status != "open":
        who = ht.completed_by.display_name if ht.completed_by else "—"
        raise TaskNotAvailable(_("该待办已由 {who} 处理完毕，无需重复提交。").format(who=who))
    if ht.claimed_by_id and ht.claimed_by_id != user.id:
        raise TaskNotAvailable(_("该待办已由 {who} 认领。").format(who=ht.claimed_by.display_name))
    return ht, inst


def task_for_update(task_id: int, user, form_key: str, subject_type: str) -> HumanTask:
    """The open human task ``task_id`` of this form and subject, for ``user``'s organisation,
    with its instance locked and its state re-checked; raises :class:`TaskNotAvailable` otherwise."""
    ht = db.session.get(HumanTask, task_id)
    if ht is None or ht.form_key != form_key or ht.subject_type != subject_type:
        raise TaskNotAvailable(_("待办事项不存在"))
    if ht.org_id != user.organisation_id:
        raise TaskNotAvailable(_("无权处理该待办"))
    ht, _inst = open_task_for_update(ht.id, user)
    return ht


def complete(human_task_id: int, user, data: dict, *, before_run=None) -> StepResult:
    """Complete a human task with ``data`` and run the engine to the next wait state.

    ``before_run(workflow, task)`` may adjust the workflow before the task runs.  Raises
    :class:`TaskNotAvailable` if the task is no longer open, :class:`ConcurrentUpdate` if
    another transaction changed the instance first.
    """
    ht, inst = open_task_for_update(human_task_id, user)
    workflow = load(inst)
    task = workflow.get_task_from_id(UUID(ht.task_uuid))
    if task is None or task.state != TaskState.READY:
        raise TaskNotAvailable(_("该待办已不在待处理状态"))
    task.data.update(data)
    if before_run:
        before_run(workflow, task)
    task.run()
    _run_engine(workflow)
    ht.status = "completed"
    ht.completed_by_id = user.id
    ht.completed_at = now()
    _persist(inst, workflow)
    return StepResult(inst, workflow, dict(task.data))


def advance(instance: ProcessInstance) -> BpmnWorkflow:
    """Re-run the engine on a locked instance (timers, events); persists the result."""
    workflow = load(instance)
    workflow.refresh_timers()
    _run_engine(workflow)
    _persist(instance, workflow)
    return workflow


def cancel(instance: ProcessInstance) -> None:
    workflow = load(instance)
    workflow.cancel()
    _persist(instance, workflow)


# ---------------------------------------------------------------------------- human-task index

def _properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def _is_human(task_spec) -> bool:
    return getattr(task_spec, "manual", False)


def sync_human_tasks(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY) if _is_human(t.task_spec)}
    existing = {ht.task_uuid: ht for ht in db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open"))}
    for uuid, ht in existing.items():
        if uuid not in ready:
            ht.status = "cancelled" if ht.completed_by_id is None else ht.status
    for uuid, task in ready.items():
        if uuid in existing:
            continue
        props = _properties(task.task_spec)
        org_id = None
        if props.get("assignTo"):
            org_id = evaluate(props["assignTo"], task.data)
        due_at = None
        if props.get("dueWorkingDays"):
            from app.core.workdays import calendar
            due_at = calendar().deadline(now(), int(props["dueWorkingDays"]))
        db.session.add(HumanTask(
            instance_id=instance.id, task_uuid=uuid, bpmn_id=task.task_spec.bpmn_id,
            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            lane=task.task_spec.lane, org_kind=props.get("orgKind"),
            org_id=int(org_id) if org_id is not None else None,
            form_key=props.get("formKey"), subject_type=instance.subject_type,
            subject_id=instance.subject_id, title=str(task.data.get("title", ""))[:300],
            due_at=due_at, created_at=now(),
        ))


# ---------------------------------------------------------------------------- timers

def _timer_due(task) -> datetime | None:
    """When a WAITING timer task fires (UTC), from the value SpiffWorkflow stored on evaluating it."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        value = value["next"]
    parsed = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, datetime) else None


def sync_timers(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Keep ``workflow_timers`` equal to the instance's WAITING timer tasks and their due times."""
    waiting = {}
    if not workflow.is_completed():
        for task in workflow.get_tasks(state=TaskState.WAITING):
            due = _timer_due(task)
            if due is not None:
                waiting[str(task.id)] = (task, due)
    existing = {t.task_uuid: t for t in db.session.scalars(
        select(WorkflowTimer).where(WorkflowTimer.instance_id == instance.id))}
    for uuid, row in existing.items():
        if uuid not in waiting:
            db.session.delete(row)
    for uuid, (task, due) in waiting.items():
        row = existing.get(uuid)
        if row is None:
            db.session.add(WorkflowTimer(instance_id=instance.id, task_uuid=uuid,
                                         bpmn_id=task.task_spec.bpmn_id or task.task_spec.name,
                                         due_at=due, created_at=now()))
        elif row.due_at != due:
            row.due_at = due


def due_timer_instances(at: datetime, limit: int = 500) -> list[int]:
    """Ids of instances with a timer due at ``at`` (earliest first); one indexed query."""
    rows = db.session.execute(select(WorkflowTimer.instance_id, func.min(WorkflowTimer.due_at))
                              .where(WorkflowTimer.due_at <= at)
                              .group_by(WorkflowTimer.instance_id)
                              .order_by(func.min(WorkflowTimer.due_at)).limit(limit))
    return [r[0] for r in rows]


# ---------------------------------------------------------------------------- reading

def task_data(human_task: HumanTask) -> dict:
    workflow = load(human_task.instance)
    task = workflow.get_task_from_id(UUID(human_task.task_uuid))
    return dict(task.data) if task else {}


def progress(instance: ProcessInstance) -> dict:
    """Element ids finished and current, for highlighting the diagram."""
    workflow = load(instance)
    done, current = set(), set()
    for t in workflow.get_tasks():
        bid = getattr(t.task_spec, "bpmn_id", None)
        if not bid:
            continue
        if t.state == TaskState.COMPLETED:
            done.add(bid)
        elif t.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
            current.add(bid)
    return {"completed": sorted(done - current), "current": sorted(current)}


def workflow_data(instance: ProcessInstance) -> dict:
    return dict(load(instance).data)
