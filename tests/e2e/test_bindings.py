"""Per-scheme process bindings: code starts the scheme's bound process, an administrator pins a
version in the browser with history, other schemes are unaffected, only fitting processes bind."""
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import db
from app.policies import bindings
from app.policies.models import ProcessBinding, ProcessBindingHistory, Scheme
from app.workflow import engine
from app.workflow.models import ProcessInstance
from tests.conftest import application_form

pytestmark = pytest.mark.usefixtures("retire_new_schemes")
ROOT = Path(__file__).resolve().parents[2]
LOAN = ROOT / "bpmn" / "loan_application.bpmn"


def test_no_code_names_a_process_id_when_starting_one():
    """Only the bindings module starts processes; everything else asks it for the scheme's process."""
    allowed = {ROOT / "app" / "policies" / "bindings.py", ROOT / "app" / "policies" / "replay.py",
               ROOT / "app" / "workflow" / "engine.py"}
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        if path in allowed:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"engine\.start(_spec)?\(", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders
    starts = [l for p in (ROOT / "app").rglob("*.py") for l in p.read_text(encoding="utf-8").splitlines()
              if "bindings.start_for(" in l]
    assert len(starts) >= 4      # loan, compensation, rectification, the duties


def test_default_bindings_are_todays_behaviour(world):
    w = world("qianjiang_2018")
    for code, kind in bindings.KINDS.items():
        b = bindings.binding(w.scheme, code)
        assert (b.process_id, b.spec_id) == (kind.default_process, None)
        assert b.spec().id == engine.latest_spec(kind.default_process).id
        assert bindings.fits(b.spec(), code)
    assert not bindings.KINDS["credit_data_collection"].per_scheme
    assert bindings.binding(w.scheme, "credit_data_collection").scheme_id is None


def _deploy_copy(tmp_path, pid, name):
    """A copy of the loan diagram under its own process id (still declaring the loan kind)."""
    xml = LOAN.read_text(encoding="utf-8")
    xml = xml.replace('id="loan_application"', f'id="{pid}"').replace(
        'processRef="loan_application"', f'processRef="{pid}"').replace(
        'bpmnElement="loan_application"', f'bpmnElement="{pid}"')
    xml = re.sub(r'(<bpmn:process id="[^"]+" name=")[^"]*"', rf'\g<1>{name}"', xml, count=1)
    (tmp_path / name).mkdir(exist_ok=True)
    path = tmp_path / name / f"{pid}.bpmn"   # one file name: versions of one process (deploy's ownership rule)
    path.write_text(xml, encoding="utf-8")
    rows = engine.deploy_file(path)
    db.session.commit()
    return rows[0]


def test_pinning_a_version_for_one_scheme(world, login, tmp_path):
    a, b = world("qianjiang_2018"), world("qianjiang_2018")
    pid = f"loan_h10_{uuid.uuid4().hex[:6]}"
    v1 = _deploy_copy(tmp_path, pid, "第一版")
    v2 = _deploy_copy(tmp_path, pid, "第二版")
    assert (v1.version, v2.version) == (1, 2)
    admin = login(a.user("admin"))
    page = admin.get(f"/admin/schemes/{a.scheme.id}").data.decode()
    assert f'value="spec:{v1.id}"' in page and f'value="current:{pid}"' in page
    r = admin.post(f"/admin/schemes/{a.scheme.id}/bindings/loan_application",
                   data={"loan_application-target": f"spec:{v1.id}",
                         "loan_application-note": "区金融办 2026 第3号纪要：试行新审批链"})
    assert r.status_code == 302, r.data.decode()[:2000]

    # a new application of scheme A runs the pinned version; scheme B still runs today's process
    firm_a, firm_b = login(a.user("firm")), login(b.user("firm"))
    assert firm_a.post("/applications/new", data=application_form(a), content_type="multipart/form-data").status_code == 302
    assert firm_b.post("/applications/new", data=application_form(b), content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    inst_a = db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == pid)).all()
    assert [i.spec_id for i in inst_a] == [v1.id]
    assert bindings.spec_for(db.session.get(Scheme, b.scheme.id), "loan_application").id == \
        engine.latest_spec("loan_application").id
    # the pinned instance has its first task in the department's queue, as today's process does
    dept = login(a.user("dept")).get("/tasks/").data.decode()
    assert "部门审核推荐" in dept

    # history: who, from → to, why; shown on the page
    hist = db.session.scalars(select(ProcessBindingHistory).where(
        ProcessBindingHistory.scheme_id == a.scheme.id)).all()
    assert [(h.kind, h.from_process_id, h.from_spec_id, h.to_process_id, h.to_spec_id, h.changed_by_id)
            for h in hist] == [("loan_application", "loan_application", None, pid, v1.id, a.u["admin"].id)]
    page = admin.get(f"/admin/schemes/{a.scheme.id}").data.decode()
    assert "第3号纪要" in page and 'class="badge bg-warning text-dark pinned"' in page

    # back to "current": follows the newest version of the bound process
    r = admin.post(f"/admin/schemes/{a.scheme.id}/bindings/loan_application",
                   data={"loan_application-target": f"current:{pid}", "loan_application-note": "转为当前版本"})
    assert r.status_code == 302
    assert bindings.spec_for(db.session.get(Scheme, a.scheme.id), "loan_application").id == v2.id
    assert len(bindings.history(db.session.get(Scheme, a.scheme.id))) == 2


def test_only_a_process_of_the_kind_can_be_bound(world, login, tmp_path):
    w = world("jiangjin_2020")
    pid = f"loan_h10_{uuid.uuid4().hex[:6]}"
    spec = _deploy_copy(tmp_path, pid, "贷款")
    with pytest.raises(bindings.BindingError):
        bindings.set_binding(w.user("admin"), w.scheme, "compensation", pid, None, "错误的绑定")
    db.session.rollback()
    admin = login(w.user("admin"))
    r = admin.post(f"/admin/schemes/{w.scheme.id}/bindings/compensation",
                   data={"compensation-target": f"spec:{spec.id}", "compensation-note": "x"})
    assert r.status_code == 400      # not among the choices of the compensation kind
    assert db.session.scalar(select(ProcessBinding).where(ProcessBinding.scheme_id == w.scheme.id)) is None
    # credit-data collection is bound deployment-wide, not per scheme
    assert admin.post(f"/admin/schemes/{w.scheme.id}/bindings/credit_data_collection",
                      data={"credit_data_collection-target": "current:credit_data_collection",
                            "credit_data_collection-note": "x"}).status_code == 404
    assert "季度信用信息采集" in admin.get("/admin/bindings").data.decode()
    same = admin.post("/admin/bindings/credit_data_collection",
                      data={"credit_data_collection-target": "current:credit_data_collection",
                            "credit_data_collection-note": "x"})
    assert same.status_code == 400 and "绑定没有变化" in same.data.decode()
    current = engine.latest_spec("credit_data_collection")
    r = admin.post("/admin/bindings/credit_data_collection",
                   data={"credit_data_collection-target": f"spec:{current.id}",
                         "credit_data_collection-note": "固定全局版本"})
    assert r.status_code == 302
    row = db.session.scalar(select(ProcessBinding).where(ProcessBinding.scheme_id.is_(None),
                                                         ProcessBinding.kind == "credit_data_collection"))
    try:
        assert row is not None and row.spec_id == current.id
        assert bindings.spec_for(None, "credit_data_collection").id == current.id
    finally:   # the deployment-wide row is shared by the whole test session: leave it as it was
        db.session.execute(ProcessBindingHistory.__table__.delete().where(
            ProcessBindingHistory.scheme_id.is_(None), ProcessBindingHistory.kind == "credit_data_collection"))
        if row is not None:
            db.session.delete(row)
        db.session.commit()


def test_bindings_and_replay_are_for_administrators_only(world, login):
    w = world("qianjiang_2018")
    for who in ("officer", "finoffice", "firm"):
        c = login(w.user(who))
        assert c.post(f"/admin/schemes/{w.scheme.id}/bindings/loan_application",
                      data={"loan_application-target": "current:loan_application",
                            "loan_application-note": "x"}).status_code == 403
        assert c.get("/admin/bindings").status_code == 403
        assert c.get(f"/admin/schemes/{w.scheme.id}/replay").status_code == 403
    assert db.session.scalar(select(ProcessBinding).where(ProcessBinding.scheme_id == w.scheme.id)) is None
    page = login(w.user("admin")).get(f"/admin/schemes/{w.scheme.id}/replay").data.decode()
    assert 'id="replay-summary"' in page and "alert-success" in page
    assert page.count("replay-pass") == len(w.scheme.params.examples) and "replay-fail" not in page
