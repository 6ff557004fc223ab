"""The administrators' browser modeler (bpmn-js Modeler with a properties panel): a deployed version's
diagram is opened, edited in the browser and deployed back under the version's own file name, so the
deploy's ownership rule takes it as a new version of the same process (or, for content identical to an
older version, makes that version current again).  Deploy checks it like any other file: a refused
diagram stores nothing.  Deployed ``.form`` files are edited the same way in the form-js editor."""
from __future__ import annotations

from sqlalchemy import func, select

from app.admin import operations as ops
from app.core import audit
from app.core.db import db
from app.core.i18n import _, _l
from app.formjs.models import FormArtifact
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
}


def modeler_texts() -> dict[str, str]:
    return {en: str(zh) for en, zh in MODELER_TEXTS.items()}


def deploy_edited(spec: ProcessSpec, xml: str, actor) -> engine.DeployReport:
    """Deploy the diagram edited from ``spec`` as ``spec.filename``; ``AdminError`` when no diagram came."""
    xml = xml or ""
    if not xml.strip():
        raise ops.AdminError(_("没有收到流程图"), "xml")
    if len(xml) > MAX_XML_CHARS or "\x00" in xml:
        raise ops.AdminError(_("流程图过大或含有非法字符"), "xml")
    report = engine.deploy_sources([(spec.filename, xml.encode("utf-8"))])
    ops._audit_deploy(report, actor, f"modeler ({spec.process_id} v{spec.version})")
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


def deploy_edited_form(artifact: FormArtifact, schema: str, actor) -> dict:
    """Deploy the form edited from ``artifact`` under its file name; the form's id must stay the same.
    Returns what the editor page shows: the new (or restored) version, or the refusal; a refusal stores
    nothing."""
    schema = schema or ""
    if not schema.strip():
        raise ops.AdminError(_("没有收到表单"), "schema")
    before = workflow_forms.current(artifact.form_id)
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
