"""Deploy, start, advance and persist SpiffWorkflow processes; keep the human-task index.

Every path that changes an instance goes through :func:`locked_instance` and :func:`save`:
the row is taken ``FOR UPDATE`` (PostgreSQL) and its ``version`` column guards the write
(SQLAlchemy's version counter), so two submissions of one task never both take effect.
The state is written in the caller's transaction, together with the domain rows of the step.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from flask import current_app, has_request_context
from flask_login import current_user
from lxml import etree
from sqlalchemy import bindparam, event, func, or_, select
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent as EndEventMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.timeutil import now
from app.core.workdays import calendar
from app.workflow.assignment import AssignmentError, organisation_for, rule_of
from app.workflow.deploy import CheckedFile, DeployRefused, DiagramParser, Refusal, build_specs, check_file, parse_xml
from app.workflow import forms, incidents, rows
from app.workflow.models import HumanTask, Incident, ProcessCurrent, ProcessInstance, ProcessSpec, WorkflowTimer
from app.workflow.sandbox import DiagramExpressionError, evaluate, make_script_engine


class WorkflowError(DomainError):
    """A workflow operation could not be done; the message is for the user."""


class TaskNotAvailable(WorkflowError):
    status = 409


class ConcurrentUpdate(WorkflowError):
    status = 409


class StepFailed(WorkflowError):
    """A step of the diagram failed (script error, missing data, a refused expression).

    Nothing of the step is kept (the caller's transaction is rolled back; the instance keeps its
    state); ``failure`` describes it for the incident (app/workflow/incidents.py), the message is
    for the user.
    """
    status = 409

    def __init__(self, failure: "incidents.Failure"):
        super().__init__(_("这一步未能完成：流程图中的“{task}”出错（{error}）。您的操作未生效，流程保持原状；"
                           "系统已记录流程事件并通知管理员，请待管理员处理后再试。").format(
            task=failure.task_name or failure.bpmn_id or failure.process_id, error=failure.error_type))
        self.failure = failure


@contextmanager
def _step(source: str, *, process_id: str, instance=None, spec_id=None, subject_type=None, user=None,
          human_task_id=None):
    """Turn an error of the diagram inside the block into :class:`StepFailed`, and have the incident
    recorded once the request's transaction is rolled back (jobs record it themselves)."""
    try:
        yield
    except (SpiffWorkflowException, DiagramExpressionError) as exc:
        failure = incidents.failure_from(exc, source=source, process_id=process_id, spec_id=spec_id,
                                         instance=instance, subject_type=subject_type, user=user,
                                         human_task_id=human_task_id)
        incidents.record_after_rollback(failure)
        raise StepFailed(failure) from exc


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


_by_spec_id: dict[tuple[object, int], _DeployedSpec] = {}


@event.listens_for(ProcessSpec, "after_insert")
def _forget_reused_id(_mapper, _connection, row: ProcessSpec) -> None:
    """A new row may reuse the id of one whose transaction rolled back (SQLite does): drop what the
    per-id cache still holds for that id."""
    for key in [k for k in _by_spec_id if k[1] == row.id]:
        _by_spec_id.pop(key, None)


def _deployed_for(instance: ProcessInstance) -> _DeployedSpec:
    """The instance's restored spec by ``spec_id``, without loading the ``process_specs`` row.

    Keyed by the engine object, not its URL: two apps on one PostgreSQL URL with different schemas
    (``search_path``) have different rows under the same ``spec_id``."""
    key = (db.engine, instance.spec_id)
    hit = _by_spec_id.get(key)
    if hit is None:
        hit = _by_spec_id[key] = _cached(instance.spec)
    return hit


# ---------------------------------------------------------------------------- deployment

class DeployError(WorkflowError):
    """A diagram that does not parse or validate: nothing is deployed, the reason is shown."""


def parse_file(path: Path):
    """Parse and schema-validate one BPMN file (no deploy checks); returns {process_id: (spec, subprocess_specs)}."""
    parser = DiagramParser()
    try:
        parser.add_bpmn_file(str(path))
        out = {}
        for pid in parser.get_process_ids():
            out[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
    except (SpiffWorkflowException, DiagramExpressionError, etree.LxmlError) as exc:
        raise DeployError(f"{path.name}: {exc}") from exc
    return out


@dataclass
class FileReport:
    """What deploying one file did: refused (nothing stored), or per process a new version, an older
    version made current again (rollback), or nothing (content already current, or ``older``: known
    content left as it is by a deploy that does not roll back)."""
    file: str
    refusals: list = field(default_factory=list)
    new: list = field(default_factory=list)
    restored: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    older: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def specs(self) -> list[ProcessSpec]:
        return self.new + self.restored + self.unchanged + self.older


@dataclass
class DeployReport:
    files: list[FileReport]

    @property
    def specs(self) -> list[ProcessSpec]:
        return [s for f in self.files for s in f.specs]

    @property
    def new(self) -> list[ProcessSpec]:
        return [s for f in self.files for s in f.new]

    @property
    def restored(self) -> list[ProcessSpec]:
        return [s for f in self.files for s in f.restored]

    @property
    def refusals(self) -> list[Refusal]:
        return [r for f in self.files for r in f.refusals]


def current_spec(process_id: str) -> ProcessSpec | None:
    """The version new instances of ``process_id`` start (see :class:`ProcessCurrent`)."""
    return db.session.scalar(select(ProcessSpec).join(ProcessCurrent, ProcessCurrent.spec_id == ProcessSpec.id)
                             .where(ProcessCurrent.process_id == process_id))


def _make_current(process_id: str, row: ProcessSpec, current: ProcessCurrent | None) -> None:
    if current is None:
        db.session.add(ProcessCurrent(process_id=process_id, spec_id=row.id, since=now()))
    else:
        current.spec_id = row.id
        current.since = now()
    db.session.flush()


def _store(checked: CheckedFile, specs: dict, report: FileReport, rollback: bool) -> None:
    digest = hashlib.sha256(checked.content).hexdigest()
    for pid, (spec, subs) in specs.items():
        current = db.session.scalar(select(ProcessCurrent).where(ProcessCurrent.process_id == pid)
                                    .with_for_update())
        row = db.session.scalar(select(ProcessSpec).where(
            ProcessSpec.process_id == pid, ProcessSpec.content_hash == digest))
        if row is None:
            # an empty workflow through the public serializer: the spec with its format version
            spec_json = _full_serializer.serialize_json(BpmnWorkflow(spec, subs))
            last = db.session.scalar(select(func.max(ProcessSpec.version)).where(ProcessSpec.process_id == pid))
            row = ProcessSpec(process_id=pid, filename=checked.name, content_hash=digest,
                              version=(last or 0) + 1, bpmn_xml=checked.content.decode("utf-8"),
                              spec_json=spec_json, deployed_at=now())
            db.session.add(row)
            db.session.flush()
            _make_current(pid, row, current)
            report.new.append(row)
        elif current is not None and current.spec_id == row.id:
            report.unchanged.append(row)
        elif rollback or current is None:
            _make_current(pid, row, current)
            report.restored.append(row)
        else:
            report.older.append(row)


def deploy_sources(sources: list[tuple[str, bytes]], *, rollback: bool = True,
                   takeover: bool = False) -> DeployReport:
    """Check and deploy files given as ``(file name, content)``; each file is deployed or refused on
    its own (a refused file stores nothing).

    A process id belongs to the file that deployed its current version: another file declaring it
    is refused unless ``takeover`` (the administrator deploys it as a new version of that process).
    Content identical to an older version makes that version current again when ``rollback``.
    """
    checked = [check_file(name, content) for name, content in sources]
    reports = {id(c): FileReport(c.name, c.refusals) for c in checked}
    claimed: dict[str, str] = {}
    for c in checked:
        if not c.ok:
            continue
        for pid in c.process_ids:
            if pid in claimed:
                c.refusals.append(Refusal(c.name, pid, _(
                    "流程标识 {pid} 也由本次部署的文件 {other} 声明：同一流程标识只能属于一个文件").format(
                    pid=pid, other=claimed[pid])))
                continue
            claimed[pid] = c.name
            current = current_spec(pid)
            if current is not None and current.filename != c.name and not takeover:
                c.refusals.append(Refusal(c.name, pid, _(
                    "流程标识 {pid} 已由文件 {owner} 部署（当前 v{v}）：不相关的文件不能成为同一流程的版本。"
                    "如确为该流程的新版本，请改用文件名 {owner}，或勾选“作为该流程的新版本部署”。").format(
                    pid=pid, owner=current.filename, v=current.version)))
    batch = {pid: (c.name, c.root) for c in checked if c.ok for pid in c.process_ids}

    def library(pid):
        if pid in batch:
            return batch[pid]
        row = current_spec(pid)
        if row is None:
            return None
        return row.filename, parse_xml(row.filename, row.bpmn_xml.encode("utf-8"))

    for c in checked:
        if not c.ok:
            continue
        specs = build_specs(c, library)
        if c.ok:
            _store(c, specs, reports[id(c)], rollback)
    return DeployReport([reports[id(c)] for c in checked])


def deploy_file(path: Path, *, rollback: bool = True, takeover: bool = False) -> list[ProcessSpec]:
    """Deploy one file; raises :class:`DeployRefused` (naming file, element and reason) if refused."""
    path = Path(path)
    report = deploy_sources([(path.name, path.read_bytes())], rollback=rollback, takeover=takeover)
    if report.refusals:
        raise DeployRefused(report.refusals)
    return report.specs


def deploy_directory(directory: str | Path | None = None, *, rollback: bool = True) -> DeployReport:
    """Deploy every ``*.bpmn`` in ``directory`` (default ``BPMN_DIR``), each file on its own.

    ``rollback=False`` (start-up, ``init-db``) only adds new content: a file whose content is an
    older version leaves the current version (perhaps uploaded by an administrator) in place.
    """
    directory = Path(directory or current_app.config["BPMN_DIR"])
    forms.deploy_form_directory(directory)     # the .form files first: diagrams name them by form key
    return deploy_sources([(p.name, p.read_bytes()) for p in sorted(directory.glob("*.bpmn"))],
                          rollback=rollback)


def latest_spec(process_id: str) -> ProcessSpec:
    """The current version of ``process_id``, the one new instances start."""
    row = current_spec(process_id)
    if row is None:
        deploy_directory(rollback=False)
        row = current_spec(process_id)
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
    """An instance of the current version of ``process_id``.  Domain code starts a scheme's bound
    process through :func:`app.policies.bindings.start_for` instead of naming a process here."""
    return start_spec(latest_spec(process_id), subject_type, subject_id, data)


def start_spec(spec_row: ProcessSpec, subject_type: str, subject_id: int, data: dict) -> ProcessInstance:
    """An instance of exactly this deployed version (a pinned binding, or the current one)."""
    process_id = spec_row.process_id
    deployed = _cached(spec_row)
    spec, subs = deployed.spec, deployed.subprocess_specs
    workflow = BpmnWorkflow(spec, subs, script_engine=make_script_engine())
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    # a failure here leaves no instance (the subject is rolled back with it): the incident names the version
    with _step("start", process_id=process_id, spec_id=spec_row.id, subject_type=subject_type,
               user=_acting_user()):
        _run_engine(workflow)
        instance = ProcessInstance(spec_id=spec_row.id, process_id=process_id, subject_type=subject_type,
                                   subject_id=subject_id, state="{}", spec=spec_row)
        db.session.add(instance)
        db.session.flush()
        _open_tasks()[instance.id] = {}      # a new instance has no human tasks yet
        _persist(instance, workflow)
    return instance


def _acting_user():
    """The logged-in user of this request, if any (who started an instance that failed)."""
    if not has_request_context():
        return None
    return current_user if getattr(current_user, "is_authenticated", False) else None


def _locks() -> dict:
    """Instances already locked in the current transaction (the lock is held until it ends)."""
    tx = db.session().get_transaction()
    info = db.session.info
    if info.get("zx_lock_tx") is not tx:
        info["zx_lock_tx"] = tx
        info["zx_locked"] = {}
        info["zx_open_tasks"] = {}
    return info["zx_locked"]


def _open_tasks() -> dict[int, dict[str, HumanTask]]:
    """Per locked instance of this transaction, its open human tasks (task uuid → row) as read under
    the lock and kept by :func:`sync_human_tasks` since; an instance missing here is queried."""
    _locks()
    return db.session.info["zx_open_tasks"]


# The statements every step runs, built once: constructing a statement and its cache key costs about as
# much as running it.  ``populate_existing``: what was read before the lock is replaced by what is
# read under it.
_LOCK_INSTANCE = (select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id"))
                  .with_for_update().execution_options(populate_existing=True))
_TASK_OWNER = select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"))
_LOCK_TASK_INSTANCE = (select(ProcessInstance).where(ProcessInstance.id == _TASK_OWNER.scalar_subquery())
                       .with_for_update().execution_options(populate_existing=True))
_LOCK_ORG_TASK_INSTANCE = (
    select(ProcessInstance)
    .where(ProcessInstance.id == _TASK_OWNER.where(HumanTask.org_id == bindparam("org_id")).scalar_subquery())
    .with_for_update().execution_options(populate_existing=True))
_TASKS_UNDER_LOCK = (select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"),
                                             or_(HumanTask.status == "open", HumanTask.id == bindparam("task_id")))
                     .execution_options(populate_existing=True))


def locked_instance(instance_id: int) -> ProcessInstance:
    """Take the per-instance lock.  Every path that changes an instance starts here.

    ``SELECT ... FOR UPDATE`` on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE);
    taken once per transaction, so a second call in the same step costs nothing.
    """
    locks = _locks()
    inst = locks.get(instance_id)
    if inst is not None:
        return inst
    inst = db.session.scalar(_LOCK_INSTANCE, {"instance_id": instance_id})
    if inst is None:
        raise WorkflowError(_("流程实例不存在"))
    locks[instance_id] = inst
    return inst


def lock_task(task_id: int, org_id: int | None = None) -> HumanTask | None:
    """Lock the instance of human task ``task_id`` and read the task afresh under the lock: the step
    of a web request that will change the task, in two statements.

    With ``org_id``, only a task assigned to that organisation (another organisation's request locks
    nothing).  Returns None if there is no such task; the caller still checks what the task it gets
    allows (its organisation may have changed before the lock was taken).
    """
    locks = _locks()
    if org_id is None:
        inst = db.session.scalar(_LOCK_TASK_INSTANCE, {"task_id": task_id})
    else:
        inst = db.session.scalar(_LOCK_ORG_TASK_INSTANCE, {"task_id": task_id, "org_id": org_id})
    if inst is None:
        return None
    locks.setdefault(inst.id, inst)
    return _read_tasks_under_lock(inst.id, task_id)


def lock_for(ht: HumanTask) -> ProcessInstance:
    """Lock the instance of ``ht`` and re-read ``ht`` under the lock (the loser of a race sees the
    winner's result); nothing more if this transaction holds the lock already (it re-read then)."""
    already = ht.instance_id in _locks()
    inst = locked_instance(ht.instance_id)
    if not already:
        _read_tasks_under_lock(inst.id, ht.id)
    return inst


def _read_tasks_under_lock(instance_id: int, task_id: int) -> HumanTask | None:
    """Task ``task_id`` and the other open tasks of its (locked) instance, re-read in one statement:
    the loser of a race sees the winner's result, and :func:`sync_human_tasks` needs no query."""
    rows = db.session.scalars(_TASKS_UNDER_LOCK, {"instance_id": instance_id, "task_id": task_id}).all()
    _open_tasks()[instance_id] = {ht.task_uuid: ht for ht in rows if ht.status == "open"}
    return next((ht for ht in rows if ht.id == task_id), None)


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


def _persist(instance: ProcessInstance, workflow: BpmnWorkflow, done: HumanTask | None = None,
             done_by: int | None = None) -> None:
    """Store ``workflow``: the instance's state, its human-task index (``done`` is the task this step
    completed, by user ``done_by``) and its timers.

    The operation's own changes (its subject, the timeline) are flushed first; then the adapter's rows are
    written by :mod:`app.workflow.rows` (on PostgreSQL in one statement), not through the unit of work.
    """
    deployed = _deployed_for(instance)
    fields = {"state": serialize_state(instance, workflow), "completed": workflow.is_completed(),
              "updated_at": now()}
    cancelled, new_tasks = sync_human_tasks(instance, workflow, done)
    if deployed.has_timers:
        sync_timers(instance, workflow)
    try:
        # the operation's own changes (and the timers) first: the engine's write then checks the instance's
        # version as stored, even when the operation changed the instance row itself
        db.session.flush()
        rows.write(rows.StepRows(instance, done=done, done_by=done_by, done_at=now() if done else None,
                                 cancelled=tuple(cancelled), new=tuple(new_tasks), **fields))
    except (StaleDataError, rows.InstanceChanged) as exc:
        raise ConcurrentUpdate(_("该事项刚刚被其他人处理过，请刷新页面查看最新状态。")) from exc


def save(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Store a workflow changed outside the run paths (an administrator's data edit, a migration)."""
    _persist(instance, workflow)


@dataclass
class StepResult:
    instance: ProcessInstance
    workflow: BpmnWorkflow
    data: dict


def open_task_for_update(human_task_id: int, user) -> tuple[HumanTask, ProcessInstance]:
    ht = db.session.get(HumanTask, human_task_id)
    if ht is None:
        raise TaskNotAvailable(_("待办事项不存在"))
    inst = lock_for(ht)
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
    with _step("task", process_id=inst.process_id, instance=inst, user=user, human_task_id=ht.id):
        task.run()
        _run_engine(workflow)
        _persist(inst, workflow, done=ht, done_by=user.id)
    if inst.has_incident:
        incidents.resolve_after_step(inst, user, human_task_id=ht.id)
    return StepResult(inst, workflow, dict(task.data))


def advance(instance: ProcessInstance, *, source: str = "timer", user=None) -> BpmnWorkflow:
    """Re-run the engine on a locked instance (timers, events); persists the result.

    ``source`` names who advanced it for an incident if a step fails: the timer job, or an
    administrator's ``retry``; success resolves the instance's open incidents of such steps.
    """
    workflow = load(instance)
    with _step(source, process_id=instance.process_id, instance=instance, user=user):
        workflow.refresh_timers()
        _run_engine(workflow)
        _persist(instance, workflow)
    if instance.has_incident:
        incidents.resolve_after_step(instance, user)
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


def _assignee(task, props: dict) -> tuple[int | None, str | None]:
    """(organisation id, organisation kind) of a ready user task, by its assignee rule."""
    rule, _problem = rule_of(props)
    if rule is None:          # deployed before deploy checked assignee rules
        return None, props.get("orgKind")
    if rule.expression:
        value = evaluate(rule.expression, task.data)
        return (int(value) if value is not None else None), rule.kind
    try:
        return organisation_for(rule, task.data, task.task_spec.bpmn_name or task.task_spec.bpmn_id), rule.kind
    except AssignmentError as exc:
        raise WorkflowError(str(exc)) from exc


def sync_human_tasks(instance: ProcessInstance, workflow: BpmnWorkflow, done: HumanTask | None = None
                     ) -> tuple[list[HumanTask], list[HumanTask]]:
    """What makes the instance's open human-task rows the READY user tasks of ``workflow``: the open rows
    to cancel (their task is no longer ready; ``done``, the one this step completed, is not cancelled)
    and the new rows (not in the session yet); :func:`app.workflow.rows.write` writes them.

    The open rows come from the read under the lock (:func:`lock_task`) when this transaction made
    it, else from a query; either way without flushing the step's other writes first.
    """
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY) if _is_human(t.task_spec)}
    known = _open_tasks()
    existing = known.get(instance.id)
    if existing is None:
        with db.session.no_autoflush:
            existing = {ht.task_uuid: ht for ht in db.session.scalars(_OPEN_TASKS, {"instance_id": instance.id})}
    still_open, cancelled, new = {}, [], []
    for uuid, ht in existing.items():
        if uuid not in ready:
            if ht is not done and ht.status == "open":
                cancelled.append(ht)
        elif ht.status == "open":
            still_open[uuid] = ht
    for uuid, task in ready.items():
        if uuid in existing:
            continue
        ht = HumanTask(instance_id=instance.id, task_uuid=uuid, subject_type=instance.subject_type,
                       subject_id=instance.subject_id, created_at=now(), **rows.OPEN_TASK_DEFAULTS,
                       **index_fields(instance, task))
        new.append(ht)
        still_open[uuid] = ht
    if instance.id in known or instance.id in _locks():
        known[instance.id] = still_open
    return cancelled, new


_OPEN_TASKS = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open")


def index_fields(instance: ProcessInstance, task) -> dict:
    """The human-task index's columns that come from the task's definition and data."""
    props = _properties(task.task_spec)
    org_id, org_kind = _assignee(task, props)
    due_at = None
    days = props.get("dueWorkingDays")
    if props.get("dueWorkingDaysVar"):   # the deadline is data (a preset value), not written in the XML
        days = task.data.get(props["dueWorkingDaysVar"]) or days
    if days:
        due_at = calendar().deadline(now(), int(days))
    return dict(bpmn_id=task.task_spec.bpmn_id, name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                lane=task.task_spec.lane, org_kind=org_kind, org_id=org_id, form_key=props.get("formKey"),
                title=str(task.data.get("title", ""))[:300], due_at=due_at)


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
    """Ids of instances with a timer due at ``at`` (earliest first); one indexed query.

    An instance whose timer step already failed (an open incident of the engine's own steps) waits
    for an administrator's retry, as a Camunda job with no retries left does.
    """
    failed = select(Incident.instance_id).where(Incident.status == "open", Incident.human_task_id.is_(None),
                                                Incident.instance_id.is_not(None))
    rows = db.session.execute(select(WorkflowTimer.instance_id, func.min(WorkflowTimer.due_at))
                              .where(WorkflowTimer.due_at <= at, WorkflowTimer.instance_id.not_in(failed))
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


def step_names(instance: ProcessInstance) -> dict[str, str]:
    """bpmn id → the name the diagram gives each named step (tasks, events, gateways), spaces collapsed."""
    hit = _cached(instance.spec)
    return {ts.bpmn_id: " ".join(ts.bpmn_name.split())
            for sp in (hit.spec, *hit.subprocess_specs.values()) for ts in sp.task_specs.values()
            if getattr(ts, "bpmn_id", None) and getattr(ts, "bpmn_name", None)}


def workflow_data(instance: ProcessInstance) -> dict:
    return dict(load(instance).data)


# ---------------------------------------------------------------------------- replay (dry runs)

def drive(instance: ProcessInstance, answer, max_steps: int = 200) -> dict:
    """Run a locked instance without users: each READY human task gets ``answer(bpmn_id, data)``
    (a dict merged into the task's data), until the process ends or ``answer`` returns None.

    For replaying worked examples inside a transaction that is rolled back; returns the human
    tasks done in order (``path``), the end event reached (``end``, None if still running) and
    the workflow data.
    """
    workflow = load(instance)
    path = []
    for _step in range(max_steps):
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if _is_human(t.task_spec)]
        if not ready:
            break
        task = ready[0]
        data = answer(task.task_spec.bpmn_id, dict(task.data))
        if data is None:
            break
        task.data.update(data)
        task.run()
        _run_engine(workflow)
        path.append(task.task_spec.bpmn_id)
    _persist(instance, workflow)
    ends = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEventMixin) and t.task_spec.bpmn_id]
    return {"path": path, "end": ends[-1] if workflow.is_completed() and ends else None,
            "data": dict(workflow.data)}


def forget_instances(ids) -> None:
    """Drop rolled-back instances from this transaction's lock table (their ids may be reused)."""
    locks = _locks()
    known = _open_tasks()
    for i in ids:
        locks.pop(i, None)
        known.pop(i, None)
