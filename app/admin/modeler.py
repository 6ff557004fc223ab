"""The administrators' browser modeler (bpmn-js Modeler with a properties panel): a deployed version's
diagram is opened, edited in the browser and deployed back under the version's own file name, so the
deploy's ownership rule takes it as a new version of the same process (or, for content identical to an
older version, makes that version current again).  Deploy checks it like any other file: a refused
diagram stores nothing.  Deployed ``.form`` files are edited the same way in the form-js editor."""
from __future__ import annotations

import json
import re

from lxml import etree
from sqlalchemy import func, select

from app.admin import operations as ops
from app.core import audit
from app.core.db import db
from app.core.i18n import _, _l
from app.formjs import schema as formjs_schema
from app.formjs.models import FormArtifact
from app.workflow import deploy as workflow_deploy
from app.workflow import engine
from app.workflow import forms as workflow_forms
from app.workflow.models import ProcessSpec

MAX_XML_CHARS = 2_000_000

# the modeler's own texts (bpmn-js and its properties panel write them in English and ask their
# ``translate`` service): the page passes msgid → msgstr; in English the original comes back.
MODELER_TEXTS = {
    "Activate hand tool": _l("手形工具（拖动画布）"),
    "Activate lasso tool": _l("套索工具（框选）"),
    "Activate create/remove space tool": _l("插入/删除空白工具"),
    "Activate global connect tool": _l("连线工具"),
    "Create start event": _l("添加开始事件"),
    "Create intermediate/boundary event": _l("添加中间/边界事件"),
    "Create end event": _l("添加结束事件"),
    "Create gateway": _l("添加网关"),
    "Create task": _l("添加任务"),
    "Create data object reference": _l("添加数据对象"),
    "Create data store reference": _l("添加数据存储"),
    "Create expanded sub-process": _l("添加展开的子流程"),
    "Create pool/participant": _l("添加池/参与者"),
    "Create group": _l("添加分组"),
    "Append end event": _l("追加结束事件"),
    "Append gateway": _l("追加网关"),
    "Append task": _l("追加任务"),
    "Append intermediate/boundary event": _l("追加中间/边界事件"),
    "Append timer intermediate catch event": _l("追加定时中间事件"),
    "Change element": _l("更改元素类型"),
    "Connect to other element": _l("连接到其他元素"),
    "Connect using association": _l("用关联连接"),
    "Add text annotation": _l("添加文字注释"),
    "Add lane above": _l("在上方添加泳道"),
    "Add lane below": _l("在下方添加泳道"),
    "Divide into two lanes": _l("分为两条泳道"),
    "Divide into three lanes": _l("分为三条泳道"),
    "Delete": _l("删除"),
    "Search in diagram": _l("在图中搜索"),
    "General": _l("常规"),
    "Name": _l("名称"),
    "ID": _l("标识 (ID)"),
    "Documentation": _l("文档说明"),
    "Element documentation": _l("元素说明"),
    "Process documentation": _l("流程说明"),
    "Multi-instance": _l("多实例"),
    "Condition": _l("条件"),
    "Timer": _l("定时器"),
    "Type": _l("类型"),
    "Value": _l("值"),
    "Script": _l("脚本"),
    "Expression": _l("表达式"),
    "<none>": _l("<无>"),
    # the properties panel's header (element type) and the replace menu
    "User Task": _l("用户任务"),
    "Task": _l("任务"),
    "Lane": _l("泳道"),
    "Participant": _l("池/参与者"),
    "Process": _l("流程"),
    "Sequence Flow": _l("顺序流"),
    "Conditional Flow": _l("条件流"),
    "Default Flow": _l("默认流"),
    "Exclusive Gateway": _l("排他网关"),
    "Parallel Gateway": _l("并行网关"),
    "Start Event": _l("开始事件"),
    "End Event": _l("结束事件"),
    "Script Task": _l("脚本任务"),
    "Call Activity": _l("调用活动"),
    "User task": _l("用户任务"),
    "Script task": _l("脚本任务"),
    "Service task": _l("服务任务"),
    "Manual task": _l("手工任务"),
    "Call activity": _l("调用活动"),
}

# The form-js editor (1.x) has no translation service for its palette and properties panel (bpmn-io/form-js#77):
# form_editor.js puts these texts in place of the English ones it shows (msgid → text, as for the modeler).
FORM_EDITOR_TEXTS = {
    "Components": _l("组件"),
    "Search components": _l("搜索组件"),
    "Input": _l("输入"),
    "Selection": _l("选择"),
    "Presentation": _l("展示"),
    "Containers": _l("容器"),
    "Action": _l("操作"),
    "Text field": _l("单行文本"),
    "Text area": _l("多行文本"),
    "Number": _l("数字"),
    "Date time": _l("日期时间"),
    "Expression": _l("表达式"),
    "File picker": _l("文件选择"),
    "Checkbox": _l("复选框"),
    "Checkbox group": _l("复选框组"),
    "Radio group": _l("单选按钮组"),
    "Select": _l("下拉选择"),
    "Tag list": _l("标签列表"),
    "Text view": _l("文字说明"),
    "Image view": _l("图片"),
    "Table": _l("表格"),
    "HTML view": _l("HTML 内容"),
    "Document preview": _l("文档预览"),
    "Spacer": _l("空白"),
    "Separator": _l("分隔线"),
    "Group": _l("分组"),
    "Dynamic list": _l("动态列表"),
    "iFrame": _l("内嵌页面"),
    "Button": _l("按钮"),
    "General": _l("常规"),
    "Condition": _l("条件"),
    "Layout": _l("布局"),
    "Appearance": _l("外观"),
    "Serialization": _l("序列化"),
    "Validation": _l("校验"),
    "Constraints": _l("约束"),
    "Custom properties": _l("自定义属性"),
    "Options source": _l("选项来源"),
    "Static options": _l("固定选项"),
    "Field label": _l("字段标签"),
    "Field description": _l("字段说明"),
    "Key": _l("键名"),
    "Value": _l("值"),
    "Label": _l("标签"),
    "ID": _l("标识 (ID)"),
    "Default value": _l("默认值"),
    "Disabled": _l("禁用"),
    "Read only": _l("只读"),
    "Required": _l("必填"),
    "Minimum length": _l("最小长度"),
    "Maximum length": _l("最大长度"),
    "Minimum": _l("最小值"),
    "Maximum": _l("最大值"),
    "Validation pattern": _l("校验规则"),
    "Custom regular expression": _l("自定义正则表达式"),
    "Custom error message": _l("自定义错误提示"),
    "Decimal digits": _l("小数位数"),
    "Increment": _l("步长"),
    "Columns": _l("列宽"),
    "Auto": _l("自动"),
    "Create": _l("新增"),
    "Subtype": _l("子类型"),
    "Date label": _l("日期标签"),
    "Time label": _l("时间标签"),
    "Disallow past dates": _l("不允许过去的日期"),
    "Use 24h": _l("24 小时制"),
    "Time interval": _l("时间间隔"),
    "Time format": _l("时间格式"),
    "Searchable": _l("可搜索"),
    "Text": _l("文本"),
    "Height": _l("高度"),
    "Show outline": _l("显示边框"),
    "Output as string": _l("以文本输出"),
    "Prefix": _l("前缀"),
    "Suffix": _l("后缀"),
    "Hide if": _l("隐藏条件"),
    "Type": _l("类型"),
    "Delete item": _l("删除此项"),
    "Toggle section": _l("展开/折叠"),
    "Toggle list item": _l("展开/折叠此项"),
    "Create new list item": _l("新增一项"),
    "Section contains edits": _l("本组有修改"),
    "Open documentation": _l("打开文档"),
}


def form_editor_texts() -> dict[str, str]:
    return {en: str(zh) for en, zh in FORM_EDITOR_TEXTS.items()}


def modeler_texts() -> dict[str, str]:
    return {en: str(zh) for en, zh in MODELER_TEXTS.items()}


class EditedFromStale(ops.AdminError):
    """Another deploy made a different version current after this editor was opened."""
    status = 409


def current_spec_id(process_id: str) -> int | None:
    """The version new instances start now: the modeler page remembers it, the deploy checks it."""
    cur = engine.current_spec(process_id)
    return cur.id if cur is not None else None


def deploy_edited(spec: ProcessSpec, xml: str, actor, seen_current: int | None = None) -> engine.DeployReport:
    """Deploy the diagram edited from ``spec`` as ``spec.filename``; ``AdminError`` when no diagram came.

    ``seen_current`` is the current version when the editor was opened: if another administrator has
    deployed (or restored) a version since, :class:`EditedFromStale` refuses, so the later deploy does not
    silently drop the other one's change."""
    if seen_current is not None:
        cur = engine.current_spec(spec.process_id)
        if cur is not None and cur.id != seen_current:
            raise EditedFromStale(_("打开编辑器之后，{p} 的当前版本已变为 v{v}（其他管理员刚刚部署或恢复）：请重新打开当前版本，"
                                    "在其基础上修改后再部署，以免覆盖该版本的修改").format(p=spec.process_id, v=cur.version), "xml")
    xml = xml or ""
    if not xml.strip():
        raise ops.AdminError(_("没有收到流程图"), "xml")
    if len(xml) > MAX_XML_CHARS or "\x00" in xml:
        raise ops.AdminError(_("流程图过大或含有非法字符"), "xml")
    report = engine.deploy_sources([(spec.filename, xml.encode("utf-8"))])
    ops._audit_deploy(report, actor, f"modeler ({spec.process_id} v{spec.version})")
    return report


# a BPMN id (xsd:ID, an NCName) that is also a plain file name
PROCESS_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")


def deploy_as_new_process(spec: ProcessSpec, xml: str, new_process_id: str, actor) -> engine.DeployReport:
    """Deploy the diagram edited from ``spec`` as a *new* process ``new_process_id`` (file
    ``<new_process_id>.bpmn``): the process element (and the pool or diagram plane that shows it) is renamed,
    so ``spec``'s process and every scheme that runs it are left as they were; a scheme runs the new process
    only once an administrator binds it.  ``AdminError`` for a missing diagram or an unusable id."""
    new_process_id = (new_process_id or "").strip()
    if not PROCESS_ID_RE.match(new_process_id):
        raise ops.AdminError(_("新流程标识须以字母或下划线开头，只含字母、数字、_ . -，最多 100 个字符"), "process_id")
    if engine.current_spec(new_process_id) is not None:
        raise ops.AdminError(_("流程 {p} 已经部署：请在它的版本上在线编辑").format(p=new_process_id), "process_id")
    xml = xml or ""
    if not xml.strip():
        raise ops.AdminError(_("没有收到流程图"), "xml")
    if len(xml) > MAX_XML_CHARS or "\x00" in xml:
        raise ops.AdminError(_("流程图过大或含有非法字符"), "xml")
    filename = f"{new_process_id}.bpmn"
    try:
        root = workflow_deploy.parse_xml(filename, xml.encode("utf-8"))
    except workflow_deploy.DeployRefused as exc:
        return engine.DeployReport([engine.FileReport(filename, exc.refusals)])
    old = spec.process_id
    processes = [p for p in root.iter(f"{{{workflow_deploy.BPMN_NS}}}process") if p.get("id") == old]
    if not processes:
        raise ops.AdminError(_("流程图中没有流程 {p}").format(p=old), "xml")
    if any(el.get("id") == new_process_id for el in root.iter() if isinstance(el.tag, str)):
        raise ops.AdminError(_("流程图中已有标识为 {p} 的元素").format(p=new_process_id), "process_id")
    processes[0].set("id", new_process_id)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("processRef", "bpmnElement", "calledElement"):
            if el.get(attr) == old:
                el.set(attr, new_process_id)
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    report = engine.deploy_sources([(filename, content)])
    ops._audit_deploy(report, actor, f"modeler ({old} v{spec.version} → {new_process_id})")
    return report


def report_json(report: engine.DeployReport) -> dict:
    """What the modeler page shows after a deploy: new or restored versions, or each refusal."""
    new = [{"process_id": s.process_id, "version": s.version, "spec_id": s.id} for s in report.new]
    restored = [{"process_id": s.process_id, "version": s.version, "spec_id": s.id} for s in report.restored]
    refusals = [{"file": r.file, "element": r.element or "", "reason": r.reason} for r in report.refusals]
    if refusals:
        message = _("流程图被拒绝，未保存：")
    elif new:
        message = _("已部署新版本：{v}").format(v="、".join(f"{s['process_id']} v{s['version']}" for s in new))
    elif restored:
        message = _("已恢复为当前版本：{v}").format(v="、".join(f"{s['process_id']} v{s['version']}" for s in restored))
    else:
        message = _("流程图与当前版本相同，未产生新版本")
    return {"ok": not refusals, "message": message, "new": new, "restored": restored, "refusals": refusals}


# ---------------------------------------------------------------------------- the form-js editor

def current_forms() -> list[FormArtifact]:
    """The current version of every deployed form, for the modeler page's links to the form editor."""
    ids = db.session.scalars(select(FormArtifact.form_id).distinct().order_by(FormArtifact.form_id))
    return [f for f in (workflow_forms.current(i) for i in ids) if f is not None]


def current_form_id(form_id: str) -> int | None:
    cur = workflow_forms.current(form_id)
    return cur.id if cur is not None else None


def deploy_edited_form(artifact: FormArtifact, schema: str, actor, seen_current: int | None = None) -> dict:
    """Deploy the form edited from ``artifact`` under its file name; the form's id must stay the same.
    Returns what the editor page shows: the new (or restored) version, or the refusal; a refusal stores
    nothing.  ``seen_current``: as for :func:`deploy_edited` (another deploy since the editor opened: 409)."""
    schema = schema or ""
    if not schema.strip():
        raise ops.AdminError(_("没有收到表单"), "schema")
    before = workflow_forms.current(artifact.form_id)
    if seen_current is not None and before is not None and before.id != seen_current:
        raise EditedFromStale(_("打开编辑器之后，表单 {f} 的当前版本已变为 v{v}（其他管理员刚刚部署或恢复）：请重新打开当前版本，"
                                "在其基础上修改后再部署，以免覆盖该版本的修改").format(f=artifact.form_id, v=before.version),
                              "schema")
    count = _form_versions(artifact.form_id)
    try:
        parsed = workflow_forms.parse_form(schema, artifact.filename)
        if parsed.form_id != artifact.form_id:
            raise workflow_forms.FormDeployError(artifact.filename, parsed.form_id,
                                                 _("表单标识必须保持为 {id}").format(id=artifact.form_id))
        row = workflow_forms.deploy_form(schema, artifact.filename)
    except workflow_forms.FormDeployError as exc:
        return {"ok": False, "message": _("表单被拒绝，未保存："), "version": None,
                "refusals": [{"file": exc.filename, "element": exc.element or "", "reason": exc.reason}]}
    audit.record("form_artifacts", row.id, "deployed", actor, visible_to_enterprise=False,
                 details={"source": "form editor", "form": row.form_id, "version": row.version})
    db.session.flush()
    label = f"{row.form_id} v{row.version}"
    if before is not None and row.id == before.id:
        message = _("表单与当前版本相同，未产生新版本")
    elif _form_versions(artifact.form_id) > count:
        message = _("已部署表单新版本：{v}").format(v=label)
    else:
        message = _("已恢复为当前版本：{v}").format(v=label)
    return {"ok": True, "message": message, "version": row.version, "artifact_id": row.id, "refusals": []}


def _form_versions(form_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(FormArtifact).where(FormArtifact.form_id == form_id))


def deploy_new_form(form_id: str, schema: str, actor) -> dict:
    """Deploy a form made from scratch in the form-js editor as version 1 of ``form_id`` (file
    ``<form_id>.form``; the id is written into the schema).  An id already deployed is refused: that form is
    edited from its own page.  Returns what the editor page shows, like :func:`deploy_edited_form`."""
    form_id = (form_id or "").strip()
    if not formjs_schema.FORM_ID_RE.match(form_id):
        raise ops.AdminError(_("表单标识须以字母或下划线开头，只含字母、数字、_ . -，最多 100 个字符"), "form_id")
    if workflow_forms.current(form_id) is not None:
        raise ops.AdminError(_("表单 {id} 已经部署：请在它的编辑页修改").format(id=form_id), "form_id")
    schema = schema or ""
    if not schema.strip():
        raise ops.AdminError(_("没有收到表单"), "schema")
    filename = f"{form_id}.form"
    if len(schema) > formjs_schema.MAX_SCHEMA_BYTES or "\x00" in schema:
        raise ops.AdminError(_("表单过大或含有非法字符"), "schema")
    try:
        raw = json.loads(schema)
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        return {"ok": False, "message": _("表单被拒绝，未保存："), "version": None,
                "refusals": [{"file": filename, "element": "", "reason": _("不是 JSON 对象")}]}
    raw["id"] = form_id
    try:
        row = workflow_forms.deploy_form(json.dumps(raw, ensure_ascii=False), filename)
    except workflow_forms.FormDeployError as exc:
        return {"ok": False, "message": _("表单被拒绝，未保存："), "version": None,
                "refusals": [{"file": exc.filename, "element": exc.element or "", "reason": exc.reason}]}
    audit.record("form_artifacts", row.id, "deployed", actor, visible_to_enterprise=False,
                 details={"source": "form editor (new)", "form": row.form_id, "version": row.version})
    db.session.flush()
    return {"ok": True, "message": _("已部署新表单：{v}").format(v=f"{row.form_id} v{row.version}"),
            "version": row.version, "artifact_id": row.id, "refusals": []}
