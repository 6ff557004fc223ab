"""The administrators' browser modeler, over HTTP: the page and the diagram's XML are for administrators
only; the edited XML posted back is deployed under the version's own file name (a new version of the same
process), a refused diagram is listed (file, element, reason) and stores nothing."""
from sqlalchemy import select

from app.core.db import db
from app.workflow import engine
from app.workflow.models import ProcessSpec
from tests.e2e.test_process_upload import upload, versions
from tests.integration.test_deploy import diagram, gateway, pid


def deployed(admin, process_id, content=None):
    name = f"{process_id}.bpmn"
    assert upload(admin, (name, content or diagram(process_id))).status_code == 302
    db.session.expire_all()
    return db.session.scalar(select(ProcessSpec).where(ProcessSpec.process_id == process_id))


def post_json(browser, url, payload):
    browser._fresh_g()
    return browser.client.post(url, json=payload, headers={"X-CSRFToken": browser.csrf})


def test_the_modeler_and_its_xml_are_for_administrators_only(world, login):
    w = world()
    admin = login(w.user("admin"))
    spec = deployed(admin, pid("mod"))
    page = admin.get("/admin/processes").data.decode()
    assert f'href="/admin/processes/{spec.id}/model"' in page and "在线编辑" in page

    r = admin.get(f"/admin/processes/{spec.id}/model")
    assert r.status_code == 200
    html = r.data.decode()
    assert 'id="modeler-canvas"' in html and f"/admin/processes/{spec.id}/bpmn" in html
    assert "vendor/bpmn-js/modeler.min.js" in html and "部署" in html
    assert "&#34;Create task&#34;: &#34;\\u6dfb\\u52a0\\u4efb\\u52a1&#34;" in html   # bpmn-js's own texts: 添加任务
    r = admin.get(f"/admin/processes/{spec.id}/bpmn")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.data.decode() == spec.bpmn_xml

    assert admin.get("/admin/processes/999999999/model").status_code == 404
    assert admin.get("/admin/processes/999999999/bpmn").status_code == 404
    assert admin.post("/admin/processes/999999999/model", data={"xml": "<x/>"}).status_code == 404

    for role in ("officer", "firm", "dept", "finance"):
        other = login(w.user(role))
        assert other.get(f"/admin/processes/{spec.id}/model").status_code == 403
        assert other.get(f"/admin/processes/{spec.id}/bpmn").status_code == 403
        r = other.post(f"/admin/processes/{spec.id}/model", data={"xml": diagram(spec.process_id, name="改").decode()})
        assert r.status_code == 403
    assert versions(spec.process_id) == 1


def test_deploying_the_edited_diagram_makes_a_new_version(world, login):
    w = world()
    admin = login(w.user("admin"))
    p = pid("mod")
    spec = deployed(admin, p)
    edited = diagram(p, name="在线修改").decode()
    r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": edited})     # a form post
    assert r.status_code == 200, r.data
    assert r.json["ok"] and r.json["new"][0]["version"] == 2 and f"{p} v2" in r.json["message"]
    db.session.expire_all()
    new = engine.latest_spec(p)
    assert new.version == 2 and new.filename == spec.filename and "在线修改" in new.bpmn_xml

    # JSON works too; the first content again makes version 1 current (rollback), no new version
    r = post_json(admin, f"/admin/processes/{new.id}/model", {"xml": spec.bpmn_xml})
    assert r.status_code == 200 and r.json["ok"], r.json
    assert [x["version"] for x in r.json["restored"]] == [1], r.json
    db.session.expire_all()
    assert versions(p) == 2 and engine.latest_spec(p).version == 1


def test_a_deploy_from_an_editor_opened_before_anothers_deploy_is_refused(world, login):
    """Two administrators open v1; the first deploys v2; the second's deploy (still based on v1) is refused
    with 409 and stores nothing, instead of making a v3 without the first one's change.  Reopened on the
    current version, the second deploys."""
    import re
    w = world()
    admin = login(w.user("admin"))
    p = pid("two")
    spec = deployed(admin, p)
    page = admin.get(f"/admin/processes/{spec.id}/model").data.decode()
    seen = re.search(r'data-current="(\d+)"', page).group(1)
    assert seen == str(spec.id)
    first = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": diagram(p, name="甲的修改").decode(),
                                                                 "seen_current": seen})
    assert first.status_code == 200 and first.json["ok"], first.json
    second = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": diagram(p, name="乙的修改").decode(),
                                                                  "seen_current": seen})
    assert second.status_code == 409 and not second.json["ok"]
    assert "当前版本已变为 v2" in second.json["message"]
    db.session.expire_all()
    assert versions(p) == 2 and "甲的修改" in engine.current_spec(p).bpmn_xml
    current = engine.current_spec(p)
    page = admin.get(f"/admin/processes/{current.id}/model").data.decode()
    seen = re.search(r'data-current="(\d+)"', page).group(1)
    again = admin.post(f"/admin/processes/{current.id}/model", data={"xml": diagram(p, name="乙的修改").decode(),
                                                                    "seen_current": seen})
    assert again.status_code == 200 and again.json["new"][0]["version"] == 3, again.json
    # a value that is not an id is ignored (no check), never a 500
    junk = admin.post(f"/admin/processes/{current.id}/model", data={"xml": diagram(p, name="丙").decode(),
                                                                   "seen_current": "9" * 40})
    assert junk.status_code == 200


def test_a_refused_edit_is_listed_and_stores_nothing(world, login):
    w = world()
    admin = login(w.user("admin"))
    p = pid("mod")
    spec = deployed(admin, p)
    r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": gateway(p, "${approved}").decode()})
    assert r.status_code == 400 and not r.json["ok"]
    (refusal,) = [x for x in r.json["refusals"] if x["element"] == "f_yes"]
    assert refusal["file"] == spec.filename and "JUEL" in refusal["reason"]
    assert versions(p) == 1
    for bad in ("", "not xml at all", "<bpmn:definitions"):
        r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": bad})
        assert r.status_code == 400 and not r.json["ok"], bad
    assert post_json(admin, f"/admin/processes/{spec.id}/model", {"xml": 42}).status_code == 400
    assert post_json(admin, f"/admin/processes/{spec.id}/model", ["xml"]).status_code == 400
    db.session.expire_all()
    assert versions(p) == 1 and engine.latest_spec(p).version == 1


def test_the_modeler_page_speaks_english_on_request(world, login):
    w = world()
    admin = login(w.user("admin"))
    spec = deployed(admin, pid("mod"))
    html = admin.get(f"/admin/processes/{spec.id}/model?lang=en").data.decode()
    assert "Edit in the browser" in html and "Deploy" in html and "Platform properties" in html
    assert "在线编辑" not in html and "平台属性" not in html
    assert "&#34;Create task&#34;: &#34;Create task&#34;" in html       # bpmn-js's own texts stay English


def test_deploying_as_a_new_process_leaves_the_original_and_its_schemes_alone(world, login):
    """"部署为新流程": the edited diagram becomes version 1 of a new process (its process element renamed, file
    ``<id>.bpmn``), the original keeps its current version — so no scheme changes until one is bound to it."""
    w = world()
    admin = login(w.user("admin"))
    p = pid("mod")
    spec = deployed(admin, p)
    q = p + "_district"
    r = admin.post(f"/admin/processes/{spec.id}/model",
                   data={"xml": diagram(p, name="区县版本").decode(), "new_process_id": q})
    assert r.status_code == 200 and r.json["ok"], r.json
    assert [(x["process_id"], x["version"]) for x in r.json["new"]] == [(q, 1)]
    db.session.expire_all()
    new = engine.latest_spec(q)
    assert new.filename == f"{q}.bpmn" and "区县版本" in new.bpmn_xml and f'id="{q}"' in new.bpmn_xml
    assert engine.latest_spec(p).id == spec.id and versions(p) == 1          # the original is untouched

    # the new id is taken now; a malformed id; a diagram without the original process; a refused diagram
    for bad_id in (q, "1abc", "a b", "x" * 101, "a:b"):
        r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": spec.bpmn_xml, "new_process_id": bad_id})
        assert r.status_code == 400 and not r.json["ok"] and r.json["message"], bad_id
    r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": diagram(pid("other")).decode(),
                                                              "new_process_id": pid("n")})
    assert r.status_code == 400 and p in r.json["message"]
    n = pid("n")
    r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": gateway(p, "${approved}").decode(),
                                                              "new_process_id": n})
    assert r.status_code == 400 and r.json["refusals"][0]["file"] == f"{n}.bpmn"
    for junk in ("", "not xml", "<!DOCTYPE x><x/>"):
        r = admin.post(f"/admin/processes/{spec.id}/model", data={"xml": junk, "new_process_id": pid("n")})
        assert r.status_code == 400 and not r.json["ok"], junk
    db.session.expire_all()
    assert engine.current_spec(n) is None and versions(p) == 1
    other = login(w.user("officer"))
    r = other.post(f"/admin/processes/{spec.id}/model", data={"xml": spec.bpmn_xml, "new_process_id": pid("n")})
    assert r.status_code == 403
