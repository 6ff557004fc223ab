"""Every known escape, run by SpiffWorkflow itself: once as the script task, once as the gateway condition.

The probe diagram (tests/bpmn/sandbox_probe.bpmn) has a script task and an exclusive gateway; for
each entry of the corpus a copy is written with the script or the condition replaced, parsed and
validated like a deployed diagram, and run with the engine's script engine.
"""
import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from app.workflow import engine
from app.workflow.sandbox import DiagramExpressionError, helper, make_script_engine
from tests.unit import sandbox_corpus
from tests.unit.sandbox_corpus import ESCAPES, SECRET

PROBE = Path(__file__).resolve().parents[1] / "bpmn" / "sandbox_probe.bpmn"
SCRIPT = re.compile(r"(<bpmn:script>)(.*?)(</bpmn:script>)", re.S)
CONDITION = re.compile(r"(<bpmn:conditionExpression>)(.*?)(</bpmn:conditionExpression>)", re.S)

helper("zx_probe")(sandbox_corpus.zx_probe)


class EvilStr(str):
    """A str subclass: its methods could be anything, so it is not plain data."""


def _run(tmp_path, script=None, condition=None, data=None):
    text = PROBE.read_text(encoding="utf-8")
    if script is not None:
        text = SCRIPT.sub(lambda m: m.group(1) + escape(script) + m.group(3), text)
    if condition is not None:
        text = CONDITION.sub(lambda m: m.group(1) + escape(condition) + m.group(3), text)
    path = tmp_path / "probe.bpmn"
    path.write_text(text, encoding="utf-8")
    spec, subs = engine.parse_file(path)["test_sandbox_probe"]
    workflow = BpmnWorkflow(spec, subs, script_engine=make_script_engine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {"xs": [1, 2], "d": {"a": 1}, "x": 1, "y": "s", "f": "str", "s": EvilStr("A")})
    engine._run_engine(workflow)   # what start/complete do: re-raises the sandbox's own error
    return workflow


def _no_secret(workflow_or_message):
    assert SECRET not in str(workflow_or_message)


@pytest.mark.parametrize("source,names", ESCAPES, ids=[re.sub(r"\s+", " ", e[0])[:40] for e in ESCAPES])
def test_escape_is_refused_as_script_task_and_as_gateway_condition(tmp_path, source, names):
    with pytest.raises(DiagramExpressionError) as info:
        _run(tmp_path, script=source)
    _no_secret(info.value)
    assert names.lower() in str(info.value).lower()
    with pytest.raises(DiagramExpressionError) as info:
        _run(tmp_path, script="late = False", condition=source)
    _no_secret(info.value)
    message = str(info.value).lower()
    assert names.lower() in message or "single expression" in message or "not valid python syntax" in message


def test_the_probe_runs_with_plain_helpers(tmp_path):
    workflow = _run(tmp_path, script="share = round_fen(Decimal(amount) * Decimal('0.35'), 'down')\n"
                                     "due_on = iso_date(add_days(received_at, 10))\nlate = False",
                    condition="late == False and share > round_fen(0) and date_of(due_on) > date_of(received_at)",
                    data={"amount": "100.00", "received_at": "2025-03-01"})
    approve = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "approve"]
    assert approve, "the gateway condition chose the default flow"
    assert str(approve[0].data["share"]) == "35.00" and approve[0].data["due_on"] == "2025-03-11"
