"""The diagram helpers inside the engine: a deployed diagram's script task and gateway condition
count Chinese working days and round money to the fen; an escape in either is refused by start()
(as a failed step: app/workflow/incidents.py)."""
import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from flask import current_app
from sqlalchemy import select

from app.core.db import db
from app.workflow import engine
from app.workflow.models import HumanTask
from app.workflow.deploy import DeployRefused
from app.workflow.sandbox import DiagramExpressionError

PROBE = Path(__file__).resolve().parents[1] / "bpmn" / "sandbox_probe.bpmn"


def _start(org_id, **data):
    engine.deploy_file(PROBE)
    base = {"title": "沙箱探针", "org_id": org_id, "received_at": "2025-09-26T10:00:00+08:00",
            "amount": "1000.00", "ratio": "0.4", "rounding_rule": "down", "filed_on": "2025-10-09"}
    return engine.start("test_sandbox_probe", "test", org_id, {**base, **data})


def test_script_and_condition_use_working_days_and_fen_rounding(world):
    w = world()
    inst = _start(w.bank.id)
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert task is not None and task.bpmn_id == "approve" and task.org_id == w.bank.id
    state = inst.state
    # Friday 2025-09-26 + 5 working days: Sun 09-28 (调休, worked), 09-29, 09-30, National Day off
    # 10-01..10-08, then 10-09 and 10-10
    assert '"due_on":"2025-10-10"' in state and '"share":"400.00"' in state
    assert '"late":false' in state and '"received_on":"2025-09-26"' in state
    db.session.rollback()


def test_the_gateway_takes_the_other_way_when_the_condition_is_false(world):
    w = world()
    inst = _start(w.bank.id, filed_on="2025-12-31", rounding_rule="half_up", amount="0.01", ratio="0.3")
    assert inst.completed and db.session.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id)) is None
    assert '"late":true' in inst.state and '"share":"0.00"' in inst.state
    db.session.rollback()


@pytest.mark.parametrize("where", ["script", "condition"])
@pytest.mark.parametrize("source,names,found_at", [
    ('match "{0.__globals__}":\n    case str(format=f):\n        x = f(date_of)\n', "match", "deploy"),
    ("'{0.__globals__[calendar].__globals__[db]}'.format(add_working_days)", "format", "deploy"),
    ("add_working_days.__globals__", "__globals__", "deploy"),
    ("f'{round_fen.__globals__}'", "__globals__", "deploy"),
    # names and costs are known only with the data: refused when they run
    ("\uff45val('1')", "eval", "start"),
    ("add_working_days(received_at, 10 ** 10 ** 8)", "exceed", "start"),
    ("add_working_days(received_at, 100000)", "at most 1000", "start"),
])
def test_escapes_in_a_deployed_diagram_are_refused(world, tmp_path, where, source, names, found_at):
    """A forbidden construct is found by deploy (naming file and element); a cost bomb when it runs."""
    w = world()
    text = PROBE.read_text(encoding="utf-8")
    tag = "bpmn:script" if where == "script" else "bpmn:conditionExpression"
    text = re.sub(rf"(<{tag}>)(.*?)(</{tag}>)", lambda m: m.group(1) + escape(source) + m.group(3), text, flags=re.S)
    if where == "condition":
        text = re.sub(r"(<bpmn:script>)(.*?)(</bpmn:script>)", r"\1late = False\3", text, flags=re.S)
    path = tmp_path / "sandbox_probe.bpmn"
    path.write_text(text, encoding="utf-8")
    if found_at == "deploy":
        with pytest.raises(DeployRefused) as refused:
            engine.deploy_file(path)
        (refusal,) = refused.value.refusals
        assert refusal.file == "sandbox_probe.bpmn"
        assert refusal.element == ("compute" if where == "script" else "f_ok")
        message = refusal.reason
    else:
        engine.deploy_file(path)
        with pytest.raises(engine.StepFailed) as info:      # the start fails: an incident, not a 500
            engine.start("test_sandbox_probe", "test", w.bank.id, {"org_id": w.bank.id, "received_at": "2025-09-26"})
        assert isinstance(info.value.__cause__, DiagramExpressionError)
        message = info.value.failure.message
    assert current_app.config["SECRET_KEY"] not in message
    if where == "script" or "single expression" not in message:
        assert names in message
    db.session.rollback()
