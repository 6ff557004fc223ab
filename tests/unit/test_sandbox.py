"""Diagram expressions see task data and registered helpers only."""
import pytest

from app.workflow.sandbox import DiagramExpressionError, evaluate, helper


@pytest.mark.parametrize("expr", [
    "__import__('os').system('true')",
    "().__class__.__mro__[1].__subclasses__()",
    "x.__class__",
    "_os.system('true')",
    "getattr(x, 'y')",
    "open('/etc/passwd').read()",
    "(lambda: 1)()",
    "eval('1')",
    "x.real",
    "'__class__'",
])
def test_dangerous_expressions_are_refused(expr):
    with pytest.raises((DiagramExpressionError, NameError)) as info:
        evaluate(expr, {"x": 1})
    if info.type is NameError:  # not in scope at all: getattr / open / eval are not provided
        assert any(n in expr for n in ("getattr", "open", "eval"))


def test_refusal_message_names_the_problem():
    with pytest.raises(DiagramExpressionError, match="__import__"):
        evaluate("__import__('os')", {})
    with pytest.raises(DiagramExpressionError, match="__mro__|__class__"):
        evaluate("().__class__.__mro__", {})
    with pytest.raises(DiagramExpressionError, match="_os"):
        evaluate("_os.path", {})


def test_data_and_registered_helpers_work():
    @helper("zx_test_double")
    def double(v):
        return v * 2

    assert evaluate("dept_decision == 'recommend'", {"dept_decision": "recommend"}) is True
    assert evaluate("zx_test_double(amount) > 10", {"amount": 6}) is True
    assert evaluate("data.get('k', 0) + len(items)", {"data": {"k": 2}, "items": [1, 2]}) == 4
