"""What a diagram may evaluate.

Gateway conditions, script tasks and task-assignment expressions in ``bpmn/`` run here.  They see
only the task data and the helpers registered with :func:`helper`; business computations are
Python functions registered by the feature packages, never Python written in the diagram.

An expression is parsed and checked before it runs.  Refused: imports, names or attributes that
start with an underscore (``__import__``, ``().__class__.__mro__``, a module's ``_os``), lambdas,
comprehension-free function definitions, ``global``/``nonlocal``, ``exec``/``eval``/``open``
(they are simply not in scope), and any attribute access on anything but plain data.
"""
from __future__ import annotations

import ast
import copy
from decimal import Decimal

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment


class DiagramExpressionError(Exception):
    """A diagram expression tried something a diagram may not do."""


_HELPERS: dict[str, callable] = {}

SAFE_BUILTINS = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": sum, "any": any,
    "all": all, "sorted": sorted, "int": int, "str": str, "bool": bool, "list": list,
    "dict": dict, "Decimal": Decimal, "True": True, "False": False, "None": None,
}

# Attribute access is allowed only for these read-only methods of plain data.
SAFE_METHODS = {"get", "keys", "values", "items", "lower", "upper", "strip", "startswith",
                "endswith", "append", "count", "index"}

_FORBIDDEN_NODES = (ast.Import, ast.ImportFrom, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                    ast.ClassDef, ast.Global, ast.Nonlocal, ast.With, ast.AsyncWith, ast.Try,
                    ast.Raise, ast.Delete, ast.Await, ast.Yield, ast.YieldFrom, ast.While)


def helper(name: str | None = None):
    """Register a function that diagrams may call by name."""
    def deco(fn):
        _HELPERS[name or fn.__name__] = fn
        return fn
    return deco


def registered_helpers() -> dict[str, callable]:
    return dict(_HELPERS)


def check_source(source: str, mode: str) -> ast.AST:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise DiagramExpressionError(f"diagram expression is not valid Python syntax: {source!r}") from exc
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            raise DiagramExpressionError(
                f"diagram expression uses a forbidden construct ({type(node).__name__}): {source!r}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise DiagramExpressionError(
                f"diagram expression may not use the name {node.id!r}: {source!r}")
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr not in SAFE_METHODS:
                raise DiagramExpressionError(
                    f"diagram expression may not access the attribute {node.attr!r}; "
                    f"register a helper instead: {source!r}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("__"):
            raise DiagramExpressionError(f"diagram expression may not use dunder strings: {source!r}")
    return tree


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates checked expressions with task data and registered helpers only."""

    def _globals(self, context, external_context):
        g = {"__builtins__": SAFE_BUILTINS}
        g.update(_HELPERS)
        g.update(external_context or {})
        g.update(context)
        return g

    def evaluate(self, expression, context, external_context=None):
        tree = check_source(expression, "eval")
        return eval(compile(tree, "<diagram>", "eval"), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        tree = check_source(script, "exec")
        clash = set(_HELPERS) & set(context)
        if clash:
            raise DiagramExpressionError(f"task data overwrites helper(s): {sorted(clash)}")
        g = self._globals(context, external_context)
        before = set(g)
        exec(compile(tree, "<diagram>", "exec"), g)
        for key, value in g.items():
            if key == "__builtins__" or key in _HELPERS or callable(value):
                continue
            if key in context or key not in before:
                context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise DiagramExpressionError("service tasks are not supported; use a registered helper")


def make_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment())


def evaluate(expression: str, data: dict):
    """Evaluate a diagram expression (e.g. a task-assignment property) outside the engine."""
    return RestrictedEnvironment().evaluate(expression, copy.copy(data))
