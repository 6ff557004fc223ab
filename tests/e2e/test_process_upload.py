"""Administrators deploy by uploading .bpmn files on the process-versions page: refusals shown per
file (file, element, reason) with nothing stored for a refused file; older content becomes current."""
import io

from sqlalchemy import func, select

from app.core.db import db
from app.workflow import engine
from app.workflow.models import ProcessSpec
from tests.integration.test_deploy import diagram, gateway, pid


def versions(process_id):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ProcessSpec).where(ProcessSpec.process_id == process_id))


def upload(browser, *files, takeover=False):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    if takeover:
        data["takeover"] = "1"
    return browser.post("/admin/processes/upload", data=data, content_type="multipart/form-data")


def test_upload_deploys_refuses_per_file_and_rolls_back(world, login):
    w = world()
    admin = login(w.user("admin"))
    good, bad = pid("up"), pid("upbad")
    v1 = diagram(good, name="一")
    r = upload(admin, (f"{good}.bpmn", v1))
    assert r.status_code == 302
    assert versions(good) == 1
    page = admin.get("/admin/processes").data.decode()
    row = page[page.index(f'id="spec-{good}-v1"'):].split("</tr>")[0]
    assert "current" in row

    # one good and one refused file: the good one is deployed, the refused one named and not stored
    v2 = diagram(good, name="二")
    r = upload(admin, (f"{good}.bpmn", v2), (f"{bad}.bpmn", gateway(bad, "${approved}")))
    assert r.status_code == 400
    page = r.data.decode()
    assert 'id="deploy-refusals"' in page and f"{bad}.bpmn" in page and "f_yes" in page and "JUEL" in page
    assert versions(bad) == 0 and versions(good) == 2
    db.session.expire_all()
    assert engine.latest_spec(good).version == 2

    # the first content again makes version 1 current, no new version
    r = upload(admin, (f"{good}.bpmn", v1))
    assert r.status_code == 302 and versions(good) == 2
    db.session.expire_all()
    assert engine.latest_spec(good).version == 1

    # an unrelated file with the same process id is refused, unless deployed as a new version of it
    r = upload(admin, ("other.bpmn", diagram(good, name="别的")))
    assert r.status_code == 400 and f"{good}.bpmn" in r.data.decode() and versions(good) == 2
    r = upload(admin, ("other.bpmn", diagram(good, name="别的")), takeover=True)
    assert r.status_code == 302 and versions(good) == 3


def test_upload_is_for_administrators_and_bpmn_files_only(world, login):
    w = world()
    officer = login(w.user("officer"))
    assert upload(officer, ("x.bpmn", diagram(pid()))).status_code == 403
    admin = login(w.user("admin"))
    p = pid()
    r = upload(admin, ("notes.txt", diagram(p)))
    assert r.status_code == 400 and versions(p) == 0


def test_a_form_and_the_diagram_naming_it_deploy_in_one_upload(world, login):
    """A user task may name a form-js form instead of a registered page: deploy accepts the key once
    the form is deployed, and the upload page takes .form files with the diagram (forms first)."""
    import json
    import uuid
    from pathlib import Path

    from app.formjs.models import FormArtifact
    bpmn_dir = Path(__file__).resolve().parents[1] / "bpmn"
    key = f"up_form_{uuid.uuid4().hex[:6]}"
    form = json.loads((bpmn_dir / "guarantee_review.form").read_text(encoding="utf-8"))
    form["id"] = key
    xml = (bpmn_dir / "guarantee_review.bpmn").read_text(encoding="utf-8")
    process = pid("upform")
    xml = (xml.replace('name="formKey" value="test_guarantee_review"', f'name="formKey" value="{key}"')
           .replace('"test_guarantee_review"', f'"{process}"'))
    admin = login(world().user("admin"))
    # the diagram alone is refused: its form key names nothing yet
    r = upload(admin, (f"{process}.bpmn", xml.encode()))
    assert r.status_code == 400 and key in r.data.decode() and versions(process) == 0
    r = upload(admin, (f"{key}.form", json.dumps(form, ensure_ascii=False).encode()), (f"{process}.bpmn", xml.encode()))
    assert r.status_code == 302, r.data.decode()[:3000]
    assert versions(process) == 1
    assert db.session.scalar(select(func.count()).select_from(FormArtifact).where(FormArtifact.form_id == key)) == 1
    # anything else is refused, nothing stored
    r = upload(admin, ("notes.html", b"<script>alert(1)</script>"))
    assert r.status_code == 400
