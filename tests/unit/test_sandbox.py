"""Diagram expressions see task data, registered helpers and guarded builtins only.

Every known escape in ``sandbox_corpus.ESCAPES`` is run through both evaluation paths — ``evaluate``
(gateway conditions, task properties, timers) and ``execute`` (script tasks) — and must be refused
with :class:`DiagramExpressionError` naming what was refused, without leaking the secret that sits
in the globals of the registered helper ``zx_probe``.
"""
import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import app.compensation.rules  # noqa: F401  (registers joint_review_outcome, used by compensation.bpmn)
from app.workflow import sandbox
from app.workflow.sandbox import DiagramExpressionError, DiagramNameError, evaluate, execute, helper
from tests.unit import sandbox_corpus
from tests.unit.sandbox_corpus import ESCAPES, GOOD, SECRET

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

helper("zx_probe")(sandbox_corpus.zx_probe)


class EvilStr(str):
    """A str subclass whose methods could be anything: not plain data."""


def _data():
    return {"x": 1, "y": "s", "xs": [1, 2, 3], "d": {"a": 1}, "s": EvilStr("A"), "f": "str"}


def _refusal(run, source):
    with pytest.raises(DiagramExpressionError) as info:
        run(source, _data())
    message = str(info.value)
    assert SECRET not in message
    return message


def _ids(corpus):
    return [re.sub(r"\s+", " ", c[0])[:40] for c in corpus]


@pytest.mark.parametrize("source,names", ESCAPES, ids=_ids(ESCAPES))
def test_escape_is_refused_by_execute(source, names):
    message = _refusal(execute, source)
    assert names.lower() in message.lower(), message


@pytest.mark.parametrize("source,names", ESCAPES, ids=_ids(ESCAPES))
def test_escape_is_refused_by_evaluate(source, names):
    message = _refusal(evaluate, source)
    try:
        ast.parse(source, mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        # statements where a condition belongs: the message names the construct, or says so
        if "single expression" in message or "not valid Python syntax" in message:
            return
    assert names.lower() in message.lower(), message


@pytest.mark.parametrize("source,data,expected", GOOD, ids=_ids(GOOD))
def test_good_expressions_keep_working(source, data, expected):
    result = evaluate(source, data)
    if isinstance(result, (Decimal, date)):
        result = str(result)
    assert result == expected
    out = execute(f"result = {source}", data)
    assert out["result"] == evaluate(source, data)


def _diagram_expressions():
    """Every expression and script the diagrams in bpmn/ hold, with the mode they run in."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    import xml.etree.ElementTree as ET
    found = []
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        root = ET.parse(path).getroot()
        for el in root.iterfind(".//bpmn:conditionExpression", ns):
            found.append((path.name, el.text.strip(), "eval"))
        for tag in ("timeDate", "timeDuration", "timeCycle"):
            for el in root.iterfind(f".//bpmn:{tag}", ns):
                found.append((path.name, el.text.strip(), "eval"))
        for el in root.iterfind(".//bpmn:script", ns):
            found.append((path.name, el.text.strip(), "exec"))
        for el in root.iterfind(".//spiffworkflow:property[@name='assignTo']", ns):
            found.append((path.name, el.get("value"), "eval"))
    return found


def test_every_expression_in_the_diagrams_passes_the_check():
    found = _diagram_expressions()
    assert len(found) > 20
    for _name, source, mode in found:
        sandbox._compiled(source, mode)   # raises DiagramExpressionError if refused


def test_the_issue_9_escape_would_reach_the_secret_without_the_check():
    """The corpus is real: the same trick run by plain Python reads the secret."""
    scope = {"zx_probe": sandbox_corpus.zx_probe}
    escape = 'match "{0.__globals__[SECRET_KEY]}":\n    case str(format=f):\n        x = f(zx_probe)\n'
    exec(escape, scope)
    assert scope["x"] == SECRET
    with pytest.raises(DiagramExpressionError, match="match"):
        execute(escape, {})


def test_identifiers_are_checked_after_nfkc_normalisation():
    # ast applies NFKC: the fullwidth spelling arrives as the ASCII name, so it is refused as such
    assert ast.parse("\uff45val", mode="eval").body.id == "eval"
    with pytest.raises(DiagramNameError, match="'eval'"):
        evaluate("\uff45val('1')", {})
    assert ast.parse("x._\ufe33class\ufe33\ufe33", mode="eval").body.attr == "__class__"
    with pytest.raises(DiagramExpressionError, match="'__class__'"):
        evaluate("x._\ufe33class\ufe33\ufe33", {"x": 1})
    with pytest.raises(DiagramExpressionError, match="'__import__'"):
        execute("_\ufe33import\ufe33\ufe33('os')", {})
    # task data under the normalised name is what the expression sees
    assert evaluate("\uff41mount + 1", {"amount": 1}) == 2


def test_unknown_names_are_diagram_errors_that_are_also_name_errors():
    with pytest.raises(DiagramNameError, match="'missing_field'") as info:
        evaluate("missing_field == 1", {})
    assert isinstance(info.value, NameError)


def test_methods_are_checked_on_the_receiver_type_at_run_time():
    assert evaluate("s.upper()", {"s": "ab"}) == "AB"
    with pytest.raises(DiagramExpressionError, match="'upper' is not allowed on a EvilStr"):
        evaluate("s.upper()", {"s": EvilStr("ab")})
    with pytest.raises(DiagramExpressionError, match="'get' is not allowed on a list"):
        evaluate("xs.get(0)", {"xs": [1]})
    with pytest.raises(DiagramExpressionError, match="'append' is not allowed on a tuple"):
        evaluate("t.append(1)", {"t": (1,)})


def test_scripts_store_plain_data_only():
    assert execute("out = [v * 2 for v in xs]\nd['k'] = len(out)\n", {"xs": [1, 2], "d": {}}) == \
        {"xs": [1, 2], "d": {"k": 2}, "out": [2, 4]}   # a comprehension's variable stays inside it
    for script, what in [("g = (v for v in xs)", "generator"), ("f = len", "method"),
                         ("h = zx_probe", "function"), ("k = d.keys()", "dict_keys"),
                         ("r = range(3)", "range"), ("xs.append(zx_probe)", "function")]:
        with pytest.raises(DiagramExpressionError, match=what):
            execute(script, {"xs": [1], "d": {}})
    with pytest.raises(DiagramExpressionError, match="helper name 'round_fen'"):
        execute("round_fen = 1", {})
    with pytest.raises(DiagramExpressionError, match="overwrites helper"):
        execute("y = 1", {"round_fen": 2})


def test_conditions_give_plain_data_only():
    with pytest.raises(DiagramExpressionError, match="function"):
        evaluate("zx_probe", {})
    with pytest.raises(DiagramExpressionError, match="generator"):
        evaluate("(v for v in xs)", {"xs": []})


def test_script_results_and_loops():
    out = execute("total = Decimal('0')\nfor a in amounts:\n    if Decimal(a) > 0:\n        total += Decimal(a)\n"
                  "    else:\n        continue\nshare = round_fen(total * Decimal('0.4'), 'down')\n",
                  {"amounts": ["10.10", "-1", "5.05"]})
    assert out["total"] == Decimal("15.15") and out["share"] == Decimal("6.06")


def test_costs_are_bounded_without_a_timeout():
    # what a hostile diagram would need minutes or gigabytes for is refused after bounded work
    for source in ["x = 2\nfor i in range(30):\n    x = x * x\n",
                   "s = 'ab'\nfor i in range(40):\n    s = s + s\n",
                   "xs = [0]\nfor i in range(40):\n    xs = xs + xs\n"]:
        with pytest.raises(DiagramExpressionError, match="exceed|more than"):
            execute(source, {})
    with pytest.raises(DiagramExpressionError, match="too costly"):
        execute("a = [0] * 100000\nb = [a] * 100000\nc = [list(a)] * 100000\nsame = b == c\n", {})
    with pytest.raises(DiagramExpressionError, match="grow beyond"):
        execute("xs = []\nfor i in range(100000):\n    xs.append(i)\nxs.append(1)\n", {})


def test_refusal_messages_name_the_problem():
    with pytest.raises(DiagramExpressionError, match="__import__"):
        evaluate("__import__('os')", {})
    with pytest.raises(DiagramExpressionError, match="__mro__"):
        evaluate("().__class__.__mro__", {})
    with pytest.raises(DiagramExpressionError, match="_os"):
        evaluate("_os.path", {})
    with pytest.raises(DiagramExpressionError, match="unknown rounding rule 'sideways'"):
        evaluate("round_fen(1, 'sideways')", {})
    with pytest.raises(DiagramExpressionError, match="ISO date"):
        evaluate("add_days('31/01/2025', 1)", {})
    with pytest.raises(DiagramExpressionError, match="float"):
        evaluate("Decimal(0.1)", {})


def test_helpers_cannot_take_reserved_names():
    for name in ("_x", "len", "not an identifier"):
        with pytest.raises(ValueError):
            helper(name)(lambda: None)


def test_data_and_registered_helpers_work():
    @helper("zx_test_double")
    def double(v):
        return v * 2

    assert evaluate("dept_decision == 'recommend'", {"dept_decision": "recommend"}) is True
    assert evaluate("zx_test_double(amount) > 10", {"amount": 6}) is True
    assert evaluate("data.get('k', 0) + len(items)", {"data": {"k": 2}, "items": [1, 2]}) == 4


def test_task_data_cannot_replace_the_guards_or_be_read_under_reserved_names():
    data = {"_zx_call": "not a guard", "_zx_binop": None, "__builtins__": {"open": open}, "_hidden": 1}
    assert evaluate("len(xs) + 1", {**data, "xs": [1]}) == 2
    with pytest.raises(DiagramNameError, match="'open'"):
        evaluate("open('/etc/passwd')", data)
    out = execute("y = len(xs)", {**data, "xs": [1]})
    assert out["y"] == 1 and out["_zx_call"] == "not a guard"
