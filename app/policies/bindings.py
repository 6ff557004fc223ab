"""Per-scheme process bindings: which deployed process, and which version, runs each kind of process.

Domain code never names a process id: it starts "the scheme's loan process" with
:func:`start_for` (``start_for(scheme, "loan_application", ...)``), and the binding says which
process and version that is.  A binding is either *current* (``spec_id`` None: the current version
of its process, as :func:`app.workflow.engine.latest_spec` says, so it follows redeploys) or
*pinned* to one deployed version.

Lookup order for a scheme and a kind: the scheme's own row → the deployment-wide row (``scheme_id``
None) → the kind's built-in process at its current version.  A preset's own chain (黔江, 江津, 凌源) is
named in its parameters (``processes``) and becomes the scheme's own rows when the scheme is created
(:func:`bind_preset`), so every binding in force is a row with its history, shown and changed in one place.  Credit-data collection
is not per scheme (it is per data-source unit): it has only the deployment-wide binding.

Which processes fit a kind: a process declares its kind on the ``<bpmn:process>`` element, as a
``spiffworkflow:properties`` property ``processKind`` (the diagrams in bpmn/ do); versions of the
kind's built-in process deployed before the property existed fit their own kind too.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select

from app.core import audit
from app.core.db import db
from app.core.errors import DomainError
from app.core.i18n import _, _l
from app.core.timeutil import now
from app.policies.models import ProcessBinding, ProcessBindingHistory, Scheme
from app.workflow import engine
from app.workflow.models import ProcessInstance, ProcessSpec


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    default_process: str       # the built-in process of this kind (bpmn/)
    per_scheme: bool = True


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("loan_application", _l("贷款申请"), "loan_application"),
    Kind("compensation", _l("风险补偿"), "compensation"),
    Kind("compensation_batch", _l("年度批量补偿（凌源）"), "compensation_batch_lingyuan"),
    Kind("rectification", _l("合作银行整改"), "rectification"),
    Kind("monthly_filing", _l("月度项目备案"), "monthly_filing_duty"),
    Kind("credit_data_collection", _l("季度信用信息采集"), "credit_data_collection", per_scheme=False),
    Kind("recommended_list", _l("推荐名单"), "recommended_list"),
    Kind("interest_subsidy", _l("贴息申请（永川）"), "interest_subsidy"),
    Kind("report_duty", _l("报表报送"), "report_duty"),
)}
PROPERTY = "processKind"
_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
       "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


class BindingError(DomainError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def kind_of(code: str) -> Kind:
    kind = KINDS.get(code)
    if kind is None:
        raise BindingError(_("未知的流程类别：{k}").format(k=code))
    return kind


# ---------------------------------------------------------------------------- which process fits a kind

_declared: dict[tuple[str, str], str | None] = {}   # (content hash, process id) → declared kind


def declared_kind(spec: ProcessSpec) -> str | None:
    """The ``processKind`` property of the spec's ``<bpmn:process>``, or None."""
    key = (spec.content_hash, spec.process_id)
    if key not in _declared:
        value = None
        try:
            root = etree.fromstring(spec.bpmn_xml.encode("utf-8"),
                                    etree.XMLParser(resolve_entities=False, no_network=True))
            for proc in root.iterfind("bpmn:process", _NS):
                if proc.get("id") == spec.process_id:
                    prop = proc.find(f"bpmn:extensionElements/spiffworkflow:properties/"
                                     f"spiffworkflow:property[@name='{PROPERTY}']", _NS)
                    value = prop.get("value") if prop is not None else None
        except etree.LxmlError:
            value = None
        _declared[key] = value
    return _declared[key]


def fits(spec: ProcessSpec, kind: str) -> bool:
    declared = declared_kind(spec)
    if declared is not None:
        return declared == kind
    return spec.process_id == kind_of(kind).default_process


def candidates(kind: str) -> list[ProcessSpec]:
    """Every deployed version that may be bound to ``kind`` (by process, newest first)."""
    rows = db.session.scalars(select(ProcessSpec).order_by(ProcessSpec.process_id, ProcessSpec.version.desc()))
    return [r for r in rows if fits(r, kind)]


# ---------------------------------------------------------------------------- a preset's own processes

def bind_preset(scheme: Scheme, actor=None) -> list[ProcessBinding]:
    """Bind a new scheme's kinds to the diagrams its parameters name (``processes``: the preset's own
    chain, e.g. 黔江's direct-to-bank application), current version, where the scheme has no binding of
    its own yet; each with a history row.  Kinds it does not name keep the deployment-wide default.
    Called when a scheme is created; afterwards its bindings are changed on its page, not by editing
    ``processes``.  A named process that is not deployed, or not of its kind, is refused."""
    rows = []
    for kind, process_id in scheme.params.processes.items():
        k = kind_of(kind)
        if not k.per_scheme or _row(scheme.id, kind) is not None:
            continue
        try:
            spec = engine.latest_spec(process_id)
        except engine.WorkflowError:
            raise BindingError(_("流程 {p} 尚未部署").format(p=process_id), "processes") from None
        if not fits(spec, kind):
            raise BindingError(_("流程 {p} 未声明为“{k}”流程（processKind），不能绑定").format(p=process_id, k=k.label),
                               "processes")
        before = binding(scheme, kind)
        row = ProcessBinding(scheme_id=scheme.id, kind=kind, process_id=process_id, spec_id=None,
                             updated_by_id=actor.id if actor else None, updated_at=now())
        db.session.add(row)
        db.session.add(ProcessBindingHistory(
            scheme_id=scheme.id, kind=kind, from_process_id=before.process_id, from_spec_id=before.spec_id,
            to_process_id=process_id, to_spec_id=None, changed_by_id=actor.id if actor else None, changed_at=now(),
            note=f"政策模板 {scheme.preset} 的流程（参数 processes）"))
        rows.append(row)
    db.session.flush()
    return rows


# ---------------------------------------------------------------------------- reading a binding

@dataclass
class Resolved:
    kind: Kind
    scheme_id: int | None
    process_id: str
    spec_id: int | None            # None: current version
    row: ProcessBinding | None     # None: built-in default
    inherited: bool                # True: the scheme has no row of its own

    @property
    def pinned(self) -> bool:
        return self.spec_id is not None

    def spec(self) -> ProcessSpec:
        if self.spec_id is not None:
            row = db.session.get(ProcessSpec, self.spec_id)
            if row is None:
                raise BindingError(_("绑定的流程版本不存在"))
            return row
        return engine.latest_spec(self.process_id)


def _row(scheme_id: int | None, kind: str) -> ProcessBinding | None:
    q = select(ProcessBinding).where(ProcessBinding.kind == kind)
    q = q.where(ProcessBinding.scheme_id.is_(None) if scheme_id is None else ProcessBinding.scheme_id == scheme_id)
    return db.session.scalar(q.order_by(ProcessBinding.id).limit(1))


def binding(scheme: Scheme | None, kind: str) -> Resolved:
    k = kind_of(kind)
    scheme_id = scheme.id if scheme is not None and k.per_scheme else None
    row = _row(scheme_id, kind) if scheme_id is not None else None
    inherited = row is None and scheme_id is not None
    if row is None:
        row = _row(None, kind)
    if row is None:
        return Resolved(k, scheme_id, k.default_process, None, None, inherited)
    return Resolved(k, scheme_id, row.process_id, row.spec_id, row, inherited)


def shown_spec(b: Resolved) -> ProcessSpec | None:
    """The version a binding runs now, for display (None when its process is not deployed)."""
    try:
        return b.spec()
    except DomainError:
        return None


def spec_for(scheme: Scheme | None, kind: str) -> ProcessSpec:
    return binding(scheme, kind).spec()


def start_for(scheme: Scheme | None, kind: str, subject_type: str, subject_id: int, data: dict) -> ProcessInstance:
    """Start the process bound to ``kind`` for ``scheme`` (None: a kind that is not per scheme)."""
    return engine.start_spec(spec_for(scheme, kind), subject_type, subject_id, data)


def bindings_of(scheme: Scheme | None) -> list[Resolved]:
    """Every kind's binding for the scheme's page (None: the deployment-wide bindings)."""
    if scheme is None:
        return [binding(None, k) for k in KINDS]
    return [binding(scheme, k) for k, kind in KINDS.items() if kind.per_scheme]


def history(scheme: Scheme | None, limit: int = 100) -> list[ProcessBindingHistory]:
    q = select(ProcessBindingHistory)
    q = q.where(ProcessBindingHistory.scheme_id.is_(None) if scheme is None
                else ProcessBindingHistory.scheme_id == scheme.id)
    return list(db.session.scalars(q.order_by(ProcessBindingHistory.id.desc()).limit(limit)))


# ---------------------------------------------------------------------------- changing a binding

def parse_target(value: str) -> tuple[str, int | None]:
    """A choice of the binding form: ``current:<process id>`` or ``spec:<id>``."""
    value = (value or "").strip()
    if value.startswith("current:") and len(value) > len("current:"):
        return value[len("current:"):], None
    if value.startswith("spec:") and value[5:].isdigit():
        row = db.session.get(ProcessSpec, int(value[5:]))
        if row is not None:
            return row.process_id, row.id
    raise BindingError(_("请选择流程版本"), "target")


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, label) of every target the binding form offers for ``kind``."""
    out, seen = [], set()
    for spec in candidates(kind):
        if spec.process_id not in seen:
            seen.add(spec.process_id)
            out.append((f"current:{spec.process_id}", _("{p} · 当前版本（随部署更新）").format(p=spec.process_id)))
        out.append((f"spec:{spec.id}", _("{p} · 固定为 v{v}（{f}）").format(p=spec.process_id, v=spec.version,
                                                                       f=spec.filename)))
    return out


def set_binding(actor, scheme: Scheme | None, kind: str, process_id: str, spec_id: int | None,
                note: str) -> ProcessBinding:
    """Bind ``kind`` of ``scheme`` (None: deployment-wide) to a process, current or pinned; history row."""
    k = kind_of(kind)
    if scheme is not None and not k.per_scheme:
        raise BindingError(_("“{k}”不按政策绑定，请在全局流程绑定中修改").format(k=k.label), "target")
    note = (note or "").strip()
    if not note:
        raise BindingError(_("请说明修改原因"), "note")
    if spec_id is not None:
        spec = db.session.get(ProcessSpec, spec_id)
        if spec is None or spec.process_id != process_id:
            raise BindingError(_("请选择流程版本"), "target")
    else:
        try:
            spec = engine.latest_spec(process_id)
        except engine.WorkflowError:
            raise BindingError(_("流程 {p} 尚未部署").format(p=process_id), "target") from None
    if not fits(spec, kind):
        raise BindingError(_("流程 {p} 未声明为“{k}”流程（processKind），不能绑定").format(p=process_id, k=k.label),
                           "target")
    scheme_id = scheme.id if scheme is not None else None
    before = binding(scheme, kind)
    row = _row(scheme_id, kind)
    if row is None:
        row = ProcessBinding(scheme_id=scheme_id, kind=kind, process_id=process_id, spec_id=spec_id)
        db.session.add(row)
    if (before.process_id, before.spec_id) == (process_id, spec_id) and not before.inherited:
        raise BindingError(_("绑定没有变化"), "target")
    row.process_id, row.spec_id = process_id, spec_id
    row.updated_by_id, row.updated_at = actor.id, now()
    db.session.add(ProcessBindingHistory(
        scheme_id=scheme_id, kind=kind, from_process_id=before.process_id, from_spec_id=before.spec_id,
        to_process_id=process_id, to_spec_id=spec_id, changed_by_id=actor.id, changed_at=now(), note=note))
    audit.record("scheme" if scheme is not None else "deployment", scheme_id or 0, "process_binding_changed", actor,
                 note, visible_to_enterprise=False,
                 details={"kind": kind, "from": [before.process_id, before.spec_id], "to": [process_id, spec_id]})
    db.session.flush()
    return row
