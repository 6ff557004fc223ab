"""Write the engine-state fixture for the installed SpiffWorkflow's serializer format.

    .venv/bin/python tests/data/engine_states/make.py

Writes ``loan_application-<format>.json``: the loan-application diagram's spec and an instance
in the middle of its parallel filing step, both as the adapter stores them.  Keep the files of
earlier formats: tests/integration/test_engine_state.py restores every one of them, so an upgrade
of SpiffWorkflow that can no longer read what a deployment has stored fails the suite.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from app.workflow import engine  # noqa: E402

DATA = {"application_id": 7, "scheme_code": "jiangjin", "amount": "800000.00",
        "filing_recipients": [101, 102, 103], "enterprise_org_id": 11, "department_org_id": 21,
        "bank_org_id": 31}


def build():
    path = ROOT / "bpmn" / "loan_application.bpmn"
    spec, subs = engine.parse_file(path)["loan_application"]
    spec_json = engine._full_serializer.serialize_json(BpmnWorkflow(spec, subs))
    wf = BpmnWorkflow(spec, subs, script_engine=engine.make_script_engine())
    wf.data.update(DATA)
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update(DATA)
    wf.do_engine_steps()
    for bpmn_id, data in (("department_review", {"dept_decision": "recommend"}),
                          ("bank_due_diligence", {"bank_decision": "approve"})):
        task, = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    first = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "filing_ack"][0]
    first.data["filing_ack_by"] = first.data["filing_org_id"]
    first.run()
    wf.do_engine_steps()
    conv = type("C", (engine._SharedSpecConverter,), {"specs": (spec, subs)})
    config = dict(engine.SPIFF_CONFIG)
    config[BpmnWorkflow] = conv
    state = engine._serializer(config).serialize_json(wf)
    ready = sorted(t.data["filing_org_id"] for t in wf.get_tasks(state=TaskState.READY))
    return {"format": engine.SERIALIZER_VERSION, "bpmn_file": path.name, "spec_json": spec_json,
            "state": state, "expect_ready_filing_orgs": ready}


if __name__ == "__main__":
    out = build()
    target = Path(__file__).with_name(f"loan_application-{out['format']}.json")
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(target)
