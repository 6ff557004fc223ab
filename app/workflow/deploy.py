"""Check a BPMN file completely before any version of it exists.

:func:`check_file` parses one file (safely: no DTD, no entities, no network), validates it against
the BPMN schema (SpiffWorkflow's ``VALIDATOR``) and checks what the engine would otherwise find only
at run time:

* every condition, script, timer expression, loop expression and ``assignTo`` passes the diagram
  sandbox's static check (:func:`app.workflow.sandbox.check_source`); Camunda 7 JUEL ``${…}`` and
  Camunda 8 FEEL ``=…`` expressions are named as such;
* every user task has a form key that resolves (a handler registered for it) and an assignee rule
  (:mod:`app.workflow.assignment`);
* Camunda 7 features that would be silently ignored (Java delegates, listeners, external scripts)
  are refused.

:func:`build_specs` then resolves call activities across the files of the deployment and the
versions already current, and returns the specs to store.  Every problem is a :class:`Refusal`
naming the file, the element id and the reason; a file with any refusal stores nothing.

Diagrams saved by Camunda Modeler 7 are read by the same parser: ``camunda:formKey`` and
``camunda:candidateGroups`` (and ``camunda:properties``) become the task's ``formKey`` and
``candidateGroups`` properties, next to the ``spiffworkflow:properties`` our own diagrams use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR
from SpiffWorkflow.spiff.parser.task_spec import UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from app.core.i18n import _
from app.tasks import registry
from app.workflow import forms
from app.workflow.assignment import lane_kind, rule_of
from app.workflow.sandbox import DiagramExpressionError, check_source

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    file: str
    element: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.file} · {self.element or '—'}: {self.reason}"


class DeployRefused(Exception):
    """A file (or several) refused at deploy; ``refusals`` names file, element and reason of each."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        super().__init__("; ".join(str(r) for r in refusals))


# ---------------------------------------------------------------------------- the parser

class _UserTaskParser(UserTaskParser):
    """SpiffWorkflow's user-task parser, also reading Camunda 7's attributes and the task's lane id."""

    def parse_extensions(self, node=None):
        ext = super().parse_extensions(node)
        node = self.node if node is None else node
        props = dict(ext.get("properties") or {})
        for prop in node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS):
            if prop.get("name"):
                props.setdefault(prop.get("name"), prop.get("value") or "")
        for attr in ("formKey", "candidateGroups"):
            value = node.get(f"{{{CAMUNDA_NS}}}{attr}")
            if value is not None:
                props.setdefault(attr, value)
        task_id = node.get("id")
        for lane in self.process_parser.node.xpath(".//bpmn:lane", namespaces=NS):
            refs = [r.text.strip() for r in lane.xpath("./bpmn:flowNodeRef", namespaces=NS) if r.text]
            if task_id in refs:
                kind = lane_kind(lane.get("id"), lane.get("name"))
                if kind:
                    props["laneKind"] = kind
                break
        if props:
            ext["properties"] = props
        return ext


class DiagramParser(SpiffBpmnParser):
    """SpiffWorkflow's parser (and spec classes) for our diagrams and Camunda Modeler 7's."""
    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("userTask"): (_UserTaskParser, UserTask)}

    def __init__(self):
        super().__init__(validator=VALIDATOR)


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                              huge_tree=False, remove_comments=False)


def parse_xml(name: str, content: bytes):
    """The file's XML tree, or a refusal (a DOCTYPE is refused: entities could read server files)."""
    if len(content) > MAX_FILE_BYTES:
        raise DeployRefused([Refusal(name, None, _("文件过大（最多 {n} MB）").format(n=MAX_FILE_BYTES // 1024 // 1024))])
    if b"\x00" in content:
        raise DeployRefused([Refusal(name, None, _("文件含有空字符，不是 BPMN 文本"))])
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise DeployRefused([Refusal(name, None, _("文件不是 UTF-8 编码"))]) from None
    try:
        root = etree.fromstring(content, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DeployRefused([Refusal(name, None, _("XML 无法解析：{e}").format(e=exc))]) from None
    if root.getroottree().docinfo.doctype:
        raise DeployRefused([Refusal(name, None, _("不接受带 DOCTYPE 的文件"))])
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DeployRefused([Refusal(name, None, _("根元素不是 BPMN 2.0 的 definitions"))])
    return root


# ---------------------------------------------------------------------------- expression checks

# (tag, mode, what) of every element whose text the engine evaluates
_EXPRESSIONS = [
    ("bpmn:conditionExpression", "eval", "condition"),
    ("bpmn:condition", "eval", "condition"),
    ("bpmn:activationCondition", "eval", "condition"),
    ("bpmn:completionCondition", "eval", "condition"),
    ("bpmn:loopCardinality", "eval", "expression"),
    ("bpmn:loopCondition", "eval", "condition"),
    ("bpmn:timeDate", "eval", "timer"),
    ("bpmn:timeDuration", "eval", "timer"),
    ("bpmn:timeCycle", "eval", "timer"),
    ("bpmn:script", "exec", "script"),
    ("spiffworkflow:preScript", "exec", "script"),
    ("spiffworkflow:postScript", "exec", "script"),
]
_ISO_LITERAL = re.compile(r"^(R\d*/)?(P[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)(/\S+)?$")
_PYTHON = {None, "", "python", "text/python", "text/x-python", "py"}


def _owner_id(el) -> str | None:
    """The id of the element or of its nearest ancestor that has one (a flow, an event, a task)."""
    while el is not None:
        if el.get("id") and el.tag != f"{{{BPMN_NS}}}timerEventDefinition" \
                and not el.tag.endswith("EventDefinition"):
            return el.get("id")
        el = el.getparent()
    return None


def expression_problem(text: str | None, mode: str, what: str) -> str | None:
    """Why the engine could not run ``text`` (a JUEL/FEEL expression, or the sandbox's refusal)."""
    if text is None or not text.strip():
        return _("表达式为空") if what != "script" else None
    s = text.strip()
    if s.startswith(("${", "#{")):
        return _("这是 Camunda 7 的 JUEL 表达式“{e}”；本系统只执行 Python 表达式（例如 ${{approved}} 写作 approved == True）").format(e=s[:80])
    if s.startswith("="):
        return _("这是 Camunda 8 的 FEEL 表达式“{e}”；本系统只执行 Python 表达式（去掉开头的等号并改写为 Python）").format(e=s[:80])
    if what == "timer" and _ISO_LITERAL.match(s):
        return _("计时器表达式是 Python 表达式：ISO 8601 值须加引号，例如 \"{e}\"").format(e=s)
    try:
        check_source(text, mode)
    except DiagramExpressionError as exc:
        return _("沙箱不允许：{e}").format(e=exc)
    return None


def _check_expressions(name: str, root) -> list[Refusal]:
    out = []
    for tag, mode, what in _EXPRESSIONS:
        for el in root.iter(f"{{{NS[tag.split(':')[0]]}}}{tag.split(':')[1]}"):
            element = _owner_id(el)
            language = (el.get("language") or "").strip().lower() or None
            if tag == "bpmn:script":
                language = (el.getparent().get("scriptFormat") or "").strip().lower() or None
            if language not in _PYTHON:
                out.append(Refusal(name, element, _("表达式语言“{l}”不受支持，只接受 Python").format(l=language)))
                continue
            problem = expression_problem(el.text, mode, what)
            if problem:
                out.append(Refusal(name, element, problem))
    for task in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        if task.get(f"{{{CAMUNDA_NS}}}resource") or not task.xpath("./bpmn:script", namespaces=NS):
            out.append(Refusal(name, task.get("id"), _("脚本任务须内嵌脚本（不支持外部脚本文件）")))
    return out


def _check_camunda_features(name: str, root) -> list[Refusal]:
    """Camunda 7 features this engine would ignore: refused rather than silently skipped."""
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("class", "delegateExpression", "expression", "decisionRef", "topic"):
            if el.get(f"{{{CAMUNDA_NS}}}{attr}") is not None:
                out.append(Refusal(name, _owner_id(el), _("Camunda 的 {a} 实现（Java 类、表达式、外部任务、DMN）在本系统中不能执行").format(
                    a=f"camunda:{attr}")))
        if el.tag in (f"{{{CAMUNDA_NS}}}executionListener", f"{{{CAMUNDA_NS}}}taskListener"):
            out.append(Refusal(name, _owner_id(el), _("Camunda 监听器（{l}）在本系统中不会执行，请删除").format(
                l=etree.QName(el).localname)))
    return out


# ---------------------------------------------------------------------------- user tasks

def _check_user_tasks(name: str, spec) -> list[Refusal]:
    out = []
    for ts in spec.task_specs.values():
        if not isinstance(ts, UserTask):
            continue
        element = ts.bpmn_id
        props = (getattr(ts, "extensions", None) or {}).get("properties", {}) or {}
        key = (props.get("formKey") or "").strip()
        if not key:
            out.append(Refusal(name, element, _("用户任务没有表单（formKey 或 camunda:formKey）")))
        elif not (registry.has_form(key) or forms.form_exists(key)):
            # lookup order as the task page: a registered page, else a deployed form-js form
            out.append(Refusal(name, element, _("表单“{k}”不存在：没有为它注册的处理表单").format(k=key)))
        rule, problem = rule_of(props)
        if problem:
            out.append(Refusal(name, element, problem))
        elif rule.expression:
            problem = expression_problem(rule.expression, "eval", "assignTo")
            if problem:
                out.append(Refusal(name, element, "assignTo: " + problem))
        var = props.get("dueWorkingDaysVar")
        if var is not None and not var.strip().isidentifier():
            out.append(Refusal(name, element, _("dueWorkingDaysVar 须为流程数据变量名，当前为“{v}”").format(v=var)))
        due = props.get("dueWorkingDays")
        if due is not None and not (due.strip().isdigit() and int(due) <= 1000):
            out.append(Refusal(name, element, _("dueWorkingDays 须为 0 到 1000 的整数，当前为“{v}”").format(v=due)))
    return out


# ---------------------------------------------------------------------------- files

@dataclass
class CheckedFile:
    """One file after its own checks: its executable processes and the processes it calls."""
    name: str
    content: bytes
    root: object = None
    parser: DiagramParser | None = None
    process_ids: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    def called(self) -> dict[str, list[str]]:
        """Called process id → ids of the call activities calling it, for processes not in this file."""
        out: dict[str, list[str]] = {}
        defined = {p.get("id") for p in self.root.iter(f"{{{BPMN_NS}}}process")}
        for ca in self.root.iter(f"{{{BPMN_NS}}}callActivity"):
            target = ca.get("calledElement")
            if target and target not in defined:
                out.setdefault(target, []).append(ca.get("id"))
        return out


def _validation_refusal(name: str, exc: Exception) -> Refusal:
    element = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None)
    reason = str(exc).split("\n")[0]
    if not element and line:
        reason = _("第 {n} 行：{e}").format(n=line, e=reason)
    return Refusal(name, element, reason)


def check_file(name: str, content: bytes) -> CheckedFile:
    """Parse and check one file on its own (call activities are resolved by :func:`build_specs`)."""
    checked = CheckedFile(name, content)
    try:
        checked.root = parse_xml(name, content)
    except DeployRefused as exc:
        checked.refusals = exc.refusals
        return checked
    root = checked.root
    checked.process_ids = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")
                           if (p.get("isExecutable") or "").lower() == "true"]
    if not checked.process_ids:
        checked.refusals.append(Refusal(name, None, _("文件中没有可执行的流程（isExecutable=\"true\"）")))
        return checked
    for pid in checked.process_ids:
        if len(pid) > 100:
            checked.refusals.append(Refusal(name, pid[:100], _("流程标识过长（最多 100 个字符）")))
    parser = DiagramParser()
    try:
        parser.add_bpmn_xml(root, filename=name)
    except (ValidationException, SpiffWorkflowException, etree.LxmlError) as exc:
        checked.refusals.append(_validation_refusal(name, exc))
        return checked
    checked.parser = parser
    checked.refusals += _check_expressions(name, root)
    checked.refusals += _check_camunda_features(name, root)
    for pid in checked.process_ids:
        try:
            spec = parser.get_spec(pid)
        except (ValidationException, SpiffWorkflowException) as exc:
            checked.refusals.append(_validation_refusal(name, exc))
            continue
        checked.refusals += _check_user_tasks(name, spec)
    return checked


def build_specs(checked: CheckedFile, library) -> dict:
    """``{process_id: (spec, subprocess_specs)}`` for a checked file, its call activities resolved
    through ``library(process_id) -> (file name, xml root) | None`` (the other files of this deployment,
    then the current versions); unresolved calls are added to ``checked.refusals``."""
    parser = checked.parser
    loaded = set(parser.process_parsers)
    pending = list(checked.called().items())
    missing: dict[str, list[str]] = {}
    while pending:
        target, callers = pending.pop()
        if target in loaded:
            continue
        found = library(target)
        if found is None:
            missing.setdefault(target, []).extend(callers)
            continue
        lib_name, lib_root = found
        try:
            parser.add_bpmn_xml(lib_root, filename=lib_name)
        except (ValidationException, SpiffWorkflowException) as exc:
            checked.refusals.append(Refusal(checked.name, callers[0], _("被调用的流程 {p}（{f}）无法解析：{e}").format(
                p=target, f=lib_name, e=str(exc).split("\n")[0])))
            continue
        loaded = set(parser.process_parsers)
        defined = {p.get("id") for p in lib_root.iter(f"{{{BPMN_NS}}}process")}
        for ca in lib_root.iter(f"{{{BPMN_NS}}}callActivity"):
            nxt = ca.get("calledElement")
            if nxt and nxt not in defined and nxt not in loaded:
                pending.append((nxt, [ca.get("id")]))
    for target, callers in missing.items():
        for caller in callers:
            checked.refusals.append(Refusal(checked.name, caller, _(
                "调用活动引用的流程“{p}”既不在本次部署的文件中，也没有已部署的版本").format(p=target)))
    if checked.refusals:
        return {}
    out = {}
    for pid in checked.process_ids:
        try:
            out[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
        except (ValidationException, SpiffWorkflowException) as exc:
            checked.refusals.append(_validation_refusal(checked.name, exc))
    return out if not checked.refusals else {}
