"""Deploy checks every file before a version exists; a refusal names file, element and reason; one
bad file refuses only itself; redeploying older content makes it current again; Camunda Modeler 7
diagrams deploy and run, their tasks landing in the queue their candidate group names."""
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.tasks import queries
from app.workflow import engine
from app.workflow.deploy import DeployRefused
from app.workflow.models import HumanTask, ProcessInstance, ProcessSpec
from tests.unit.sandbox_corpus import ESCAPES

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA7 = ROOT / "tests" / "bpmn" / "camunda7_review.bpmn"

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" {extra_ns} '
        'id="Defs_{pid}" targetNamespace="https://zengxin.example/bpmn/test">\n')


def pid(prefix="t"):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def props(**kw):
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}" />' for k, v in kw.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties></bpmn:extensionElements>"


def user_task(ext=None, attrs=""):
    ext = props(formKey="filing_ack", assignTo="org_id") if ext is None else ext
    return (f'<bpmn:userTask id="step" name="办理" {attrs}>{ext}'
            '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>')


def diagram(process_id, step=None, *, extra="", lanes="", extra_ns="", name="测试") -> bytes:
    """start → step → end, with ``extra`` elements added to the process."""
    step = user_task() if step is None else step
    return (HEAD.format(pid=process_id, extra_ns=extra_ns)
            + f'<bpmn:process id="{process_id}" name="{name}" isExecutable="true">{lanes}'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            + step +
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="end" />'
            + extra + '</bpmn:process></bpmn:definitions>\n').encode("utf-8")


def gateway(process_id, condition, language="", extra_ns="") -> bytes:
    """start → gateway: flow "f_yes" (``condition``) → end, default "f2" → end."""
    lang = f' language="{language}"' if language else ""
    step = ('<bpmn:exclusiveGateway id="step" default="f2"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f_yes</bpmn:outgoing></bpmn:exclusiveGateway>')
    extra = ('<bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>'
             '<bpmn:sequenceFlow id="f_yes" sourceRef="step" targetRef="end_yes">'
             f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{lang}>{condition}</bpmn:conditionExpression>'
             '</bpmn:sequenceFlow>')
    return diagram(process_id, step, extra=extra, extra_ns=extra_ns)


def refusals_of(name, content, **kw):
    report = engine.deploy_sources([(name, content)], **kw)
    (f,) = report.files
    return f


def the_refusal(f, element):
    found = [r for r in f.refusals if r.element == element]
    assert found, f"no refusal for {element}: {[str(r) for r in f.refusals]}"
    assert all(r.file == f.file for r in found)
    return " ".join(r.reason for r in found)


def versions(process_id):
    return db.session.scalar(select(func.count()).select_from(ProcessSpec).where(ProcessSpec.process_id == process_id))


# ---------------------------------------------------------------------------- every shipped diagram

@pytest.mark.parametrize("path", sorted((ROOT / "bpmn").glob("*.bpmn")), ids=lambda p: p.name)
def test_every_diagram_in_bpmn_passes_the_deploy_checks(ctx, path):
    f = refusals_of(path.name, path.read_bytes(), rollback=False)
    assert f.ok, [str(r) for r in f.refusals]
    db.session.rollback()


# ---------------------------------------------------------------------------- refusals

def test_camunda8_feel_condition_is_refused_naming_file_and_flow(ctx):
    p = pid()
    zeebe = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
    f = refusals_of("c8_order.bpmn", gateway(p, "=approved = true", extra_ns=zeebe))
    assert "FEEL" in the_refusal(f, "f_yes") and f.file == "c8_order.bpmn"
    assert versions(p) == 0
    db.session.rollback()


def test_camunda7_juel_condition_is_refused_naming_file_and_flow(ctx):
    p = pid()
    f = refusals_of("c7_juel.bpmn", gateway(p, "${approved}"))
    assert "JUEL" in the_refusal(f, "f_yes")
    assert versions(p) == 0
    db.session.rollback()


def test_other_expression_languages_are_refused(ctx):
    f = refusals_of("js.bpmn", gateway(pid(), "approved", language="javascript"))
    assert "javascript" in the_refusal(f, "f_yes")
    db.session.rollback()


def test_user_task_without_a_form_or_with_an_unknown_form_is_refused(ctx):
    f = refusals_of("no_form.bpmn", diagram(pid(), user_task(props(assignTo="org_id"))))
    assert "formKey" in the_refusal(f, "step")
    f = refusals_of("unknown_form.bpmn", diagram(pid(), user_task(props(formKey="guarantee_review", assignTo="org_id"))))
    assert "guarantee_review" in the_refusal(f, "step")
    db.session.rollback()


def test_user_task_without_an_assignee_rule_is_refused(ctx):
    f = refusals_of("nobody.bpmn", diagram(pid(), user_task(props(formKey="filing_ack"))))
    assert "assignTo" in the_refusal(f, "step") and "candidateGroups" in the_refusal(f, "step")
    f = refusals_of("bad_kind.bpmn", diagram(pid(), user_task(props(formKey="filing_ack"), 'camunda:candidateGroups="mayor"')))
    assert "mayor" in the_refusal(f, "step")
    db.session.rollback()


@pytest.mark.parametrize("source,names", ESCAPES[:6] + [("x = ().__class__.__base__.__subclasses__()", "__subclasses__")])
def test_forbidden_script_is_found_at_deploy(ctx, source, names):
    from xml.sax.saxutils import escape
    step = (f'<bpmn:scriptTask id="step"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            f'<bpmn:script>{escape(source)}</bpmn:script></bpmn:scriptTask>')
    p = pid()
    f = refusals_of("escape.bpmn", diagram(p, step))
    assert names in the_refusal(f, "step")
    assert versions(p) == 0
    db.session.rollback()


def test_assign_to_and_timer_expressions_are_checked_at_deploy(ctx):
    f = refusals_of("assign.bpmn", diagram(pid(), user_task(props(formKey="filing_ack", assignTo="org_id.__class__"))))
    assert "__class__" in the_refusal(f, "step")
    timer = ('<bpmn:intermediateCatchEvent id="step"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
             '<bpmn:timerEventDefinition id="ted"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H'
             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    f = refusals_of("timer.bpmn", diagram(pid(), timer))
    assert '"PT1H"' in the_refusal(f, "step")
    db.session.rollback()


def test_unresolved_call_activity_is_refused_and_a_deployed_or_batched_one_resolves(ctx, world):
    w = world()
    callee, caller = pid("callee"), pid("caller")
    call = (f'<bpmn:callActivity id="step" calledElement="{callee}">'
            '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>')
    f = refusals_of(f"{caller}.bpmn", diagram(caller, call))
    assert callee in the_refusal(f, "step")
    assert versions(caller) == 0
    # deployed together, the caller resolves the callee in the same deployment
    report = engine.deploy_sources([(f"{caller}.bpmn", diagram(caller, call)), (f"{callee}.bpmn", diagram(callee))])
    assert not report.refusals and versions(caller) == 1 and versions(callee) == 1
    # and it runs: the callee's user task lands in the caller's organisation's queue
    inst = engine.start(caller, "test", 1, {"org_id": w.bank.id, "title": "调用"})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert ht.org_id == w.bank.id and ht.form_key == "filing_ack"
    db.session.rollback()


def test_call_activity_resolves_a_version_deployed_before(ctx):
    callee, caller = pid("callee"), pid("caller")
    assert refusals_of(f"{callee}.bpmn", diagram(callee)).ok
    call = (f'<bpmn:callActivity id="step" calledElement="{callee}">'
            '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>')
    assert refusals_of(f"{caller}.bpmn", diagram(caller, call)).ok
    db.session.rollback()


def test_a_process_id_belongs_to_its_file_unless_taken_over_explicitly(ctx):
    p = pid()
    assert refusals_of("first.bpmn", diagram(p)).ok
    other = diagram(p, name="不相关的流程")
    f = refusals_of("unrelated.bpmn", other)
    reason = the_refusal(f, p)
    assert "first.bpmn" in reason and versions(p) == 1
    # two files of one deployment declaring the same new id: the second is refused
    q = pid()
    report = engine.deploy_sources([("a.bpmn", diagram(q)), ("b.bpmn", diagram(q, name="另一个"))])
    assert report.files[0].ok and "a.bpmn" in the_refusal(report.files[1], q)
    # deployed explicitly as a new version of that process, the other file is accepted and owns it
    f = refusals_of("unrelated.bpmn", other, takeover=True)
    assert f.ok and versions(p) == 2 and engine.latest_spec(p).filename == "unrelated.bpmn"
    db.session.rollback()


def test_one_bad_file_refuses_only_itself(ctx, tmp_path):
    good, bad = pid("good"), pid("bad")
    (tmp_path / "good.bpmn").write_bytes(diagram(good))
    (tmp_path / "bad.bpmn").write_bytes(gateway(bad, "${x}"))
    (tmp_path / "broken.bpmn").write_bytes(b"<bpmn:definitions")
    report = engine.deploy_directory(tmp_path)
    by_file = {f.file: f for f in report.files}
    assert by_file["good.bpmn"].ok and [s.process_id for s in by_file["good.bpmn"].new] == [good]
    assert not by_file["bad.bpmn"].ok and versions(bad) == 0
    assert not by_file["broken.bpmn"].ok and by_file["broken.bpmn"].refusals[0].file == "broken.bpmn"
    db.session.rollback()


def test_a_doctype_is_refused(ctx):
    content = diagram(pid()).replace(b"<bpmn:definitions", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
                                                         b"<bpmn:definitions", 1)
    f = refusals_of("xxe.bpmn", content)
    assert f.refusals and "DOCTYPE" in f.refusals[0].reason
    db.session.rollback()


def test_deploy_file_raises_with_every_refusal(ctx, tmp_path):
    path = tmp_path / "two_problems.bpmn"
    path.write_bytes(diagram(pid(), user_task(props())))
    with pytest.raises(DeployRefused) as info:
        engine.deploy_file(path)
    assert {r.element for r in info.value.refusals} == {"step"} and len(info.value.refusals) == 2
    assert "two_problems.bpmn · step" in str(info.value)
    db.session.rollback()


# ---------------------------------------------------------------------------- rollback

def test_redeploying_older_content_makes_it_current_and_running_instances_keep_theirs(world, tmp_path):
    w = world()
    p = pid("rb")
    path = tmp_path / f"{p}.bpmn"
    v1 = diagram(p, user_task(props(formKey="filing_ack", assignTo="org_id")), name="一")
    v2 = diagram(p, user_task(props(formKey="filing_ack", assignTo="org_id")).replace('name="办理"', 'name="办理v2"'), name="二")
    path.write_bytes(v1)
    (s1,) = engine.deploy_file(path)
    i1 = engine.start(p, "test", 1, {"org_id": w.bank.id})
    path.write_bytes(v2)
    (s2,) = engine.deploy_file(path)
    assert s2.version == s1.version + 1 and engine.latest_spec(p).id == s2.id
    i2 = engine.start(p, "test", 2, {"org_id": w.bank.id})
    assert i2.spec_id == s2.id
    # the older content again: no new version, v1 is current, new instances start it
    path.write_bytes(v1)
    report = engine.deploy_sources([(path.name, v1)])
    assert [r.id for r in report.restored] == [s1.id] and not report.new and versions(p) == 2
    assert engine.latest_spec(p).id == s1.id
    i3 = engine.start(p, "test", 3, {"org_id": w.bank.id})
    assert i3.spec_id == s1.id
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == i3.id))
    assert task.name == "办理"
    # the instance started on v2 keeps v2 and completes on it
    t2 = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == i2.id))
    assert t2.name == "办理v2"
    engine.complete(t2.id, w.user("officer"), {})
    assert db.session.get(ProcessInstance, i2.id).completed and i2.spec_id == s2.id and i1.spec_id == s1.id
    # a start-up deploy (no rollback) leaves the current version alone
    path.write_bytes(v2)
    report = engine.deploy_directory(tmp_path, rollback=False)
    assert [r.id for r in report.files[0].older] == [s2.id] and engine.latest_spec(p).id == s1.id
    db.session.rollback()


# ---------------------------------------------------------------------------- assignment from the diagram

def test_camunda_modeler_7_diagram_deploys_starts_lands_in_the_queue_and_completes(world):
    w = world()
    (spec,) = engine.deploy_file(CAMUNDA7)
    assert spec.process_id == "test_camunda7_review"
    finance = w.units["finance"]
    inst = engine.start("test_camunda7_review", "test", 7, {"scheme_id": w.scheme.id, "title": "Camunda 7"})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert ht.bpmn_id == "Activity_review" and ht.form_key == "comp_advance_review"
    assert ht.org_id == finance.id and ht.org_kind == "finance_bureau"
    assert ht.id in [t.id for t in queries.open_tasks(finance.id)]
    assert ht.id not in [t.id for t in queries.open_tasks(w.units["finoffice"].id)]
    result = engine.complete(ht.id, w.user("finance"), {"approved": True})
    assert result.instance.completed
    assert "Event_approved" in engine.progress(result.instance)["completed"]
    db.session.rollback()


def test_lane_and_candidate_group_with_role_name_the_organisation(world):
    w = world()
    p = pid("lane")
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="lane_financial_office" name="金融办">'
             '<bpmn:flowNodeRef>step</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')
    engine.deploy_sources([(f"{p}.bpmn", diagram(p, user_task(props(formKey="filing_ack")), lanes=lanes))])
    inst = engine.start(p, "test", 1, {"scheme_id": w.scheme.id})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert ht.org_id == w.units["finoffice"].id and ht.org_kind == "financial_office"
    # kind:role — the guarantee company in its scheme role
    q = pid("group")
    f = refusals_of(f"{q}.bpmn", diagram(q, user_task(props(formKey="filing_ack"), 'camunda:candidateGroups="guarantee:guarantee"')))
    assert f.ok
    inst = engine.start(q, "test", 1, {"scheme_id": w.scheme.id})
    ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert ht.org_id == w.units["guarantee"].id
    # a kind with several members in the scheme (two banks) names no single organisation: refused
    r = pid("banks")
    engine.deploy_sources([(f"{r}.bpmn", diagram(r, user_task(props(formKey="filing_ack", orgKind="bank"))))])
    with pytest.raises(engine.WorkflowError) as info:
        engine.start(r, "test", 1, {"scheme_id": w.scheme.id})
    assert "assignTo" in str(info.value)
    db.session.rollback()


def test_a_kind_with_several_members_goes_to_the_member_the_data_names(world):
    """Two banks in each scheme: ``orgKind=bank`` sends the task to the bank the data names as ``bank_org_id``,
    in that instance's scheme; a bank of another scheme, an organisation of another kind or garbage is refused
    (the step stops with the message), never guessed."""
    w, other = world(), world()
    r = pid("banks")
    engine.deploy_sources([(f"{r}.bpmn", diagram(r, user_task(props(formKey="filing_ack", orgKind="bank"))))])
    db.session.commit()          # kept across the rollbacks of the refused starts below

    def queue_of(data):
        inst = engine.start(r, "test", 1, data)
        ht = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
        return ht.org_id, ht.org_kind

    assert queue_of({"scheme_id": w.scheme.id, "bank_org_id": w.bank2.id}) == (w.bank2.id, "bank")
    assert queue_of({"scheme_id": w.scheme.id, "bank_org_id": w.bank.id}) == (w.bank.id, "bank")
    assert queue_of({"scheme_id": other.scheme.id, "bank_org_id": other.bank.id}) == (other.bank.id, "bank")
    for data, words in [({"scheme_id": w.scheme.id, "bank_org_id": other.bank.id}, "不是本政策中角色为 bank"),
                        ({"scheme_id": w.scheme.id, "bank_org_id": "x"}, "不是本政策中角色为 bank"),
                        ({"bank_org_id": w.units["guarantee"].id}, "不是类型为 bank 的单位")]:
        with pytest.raises(engine.WorkflowError) as info:
            queue_of(data)
        assert words in str(info.value), data
        db.session.rollback()
    # without a scheme, an organisation of the kind named by the data
    assert queue_of({"bank_org_id": other.bank2.id}) == (other.bank2.id, "bank")
    db.session.rollback()
