"""The administrators' browser modeler (bpmn-js Modeler with a properties panel): a deployed version's
diagram is opened, edited in the browser and deployed back under the version's own file name, so the
deploy's ownership rule takes it as a new version of the same process (or, for content identical to an
older version, makes that version current again).  Deploy checks it like any other file: a refused
diagram stores nothing."""
from __future__ import annotations

from app.admin import operations as ops
from app.core.i18n import _
from app.workflow import engine
from app.workflow.models import ProcessSpec

MAX_XML_CHARS = 2_000_000


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
