"""What a diagram may evaluate: an allow-list of Python syntax, names, methods and costs.

Gateway conditions, script tasks, timer expressions and task-assignment expressions in ``bpmn/``
run here.  They see the task data, the helpers registered with :func:`helper` and a fixed set of
guarded builtins; business computations are Python functions registered by the feature packages,
never Python written in the diagram.

An expression goes through three steps before it runs:

1. **Parse and check** (:func:`check_source`).  Every AST node must be of a type in
   :data:`_ALLOWED_NODES`; anything else (``match``, ``try``/``except*``, ``while``, ``def``,
   ``class``, ``lambda``, decorators, imports, ``:=``, ``*x``/``**x``, ``yield``, ``global``,
   ``with``, ``del``, ``raise``, ``assert`` ...) is refused.  Names and keyword names may not start
   with ``_``; an attribute may appear only as the callee of a method call whose name is in
   :data:`METHODS`; f-strings may not use ``!r``/``!s``/``!a`` or computed format specs; bytes and
   complex literals are refused; integer literals, source length, node count and nesting depth are
   bounded.  Python NFKC-normalises identifiers while parsing (``ｅval`` is ``eval``), so every
   check sees the normalised name.
2. **Rewrite** (:class:`_Guard`).  Every operation that can cost more than a constant or reach an
   object goes through a checked function: binary operators, comparisons, calls, method calls,
   subscripts, item assignment, loops and comprehensions, dict/set keys and f-string fields.
3. **Run** with a fresh :class:`_Meter`: the checked functions verify the receiver's *type* at
   run time (``str.format`` is not a method of plain data, whatever the syntax that reached it),
   bound integer sizes and sequence lengths *before* computing, and charge every loop step and
   every walk over a container to a fuel budget.  When the fuel runs out the expression stops with
   :class:`DiagramExpressionError`; nothing relies on a timeout.

Every refusal raises :class:`DiagramExpressionError` (or its subclass :class:`DiagramNameError`
for an unknown name) with a message that names what was refused.
"""
from __future__ import annotations

import ast
import copy
import math
import operator
import re
import types
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException


class DiagramExpressionError(Exception):
    """A diagram expression tried something a diagram may not do."""


class DiagramNameError(DiagramExpressionError, NameError):
    """A diagram expression used a name that is neither task data, a helper nor an allowed builtin."""


# ---------------------------------------------------------------------------- limits

MAX_SOURCE_CHARS = 10_000    # a condition is a line; a script a few dozen lines
MAX_NODES = 3_000            # AST nodes in one expression or script
MAX_DEPTH = 60               # AST nesting depth (deep nesting crashes CPython's compiler)
MAX_INT_BITS = 1_024         # about 308 decimal digits: far beyond any amount in fen
MAX_SEQUENCE = 100_000       # elements of a list/tuple/dict/set or characters of a string
MAX_NUMBER_TEXT = 200        # characters int() / Decimal() parse
MAX_DECIMAL_EXPONENT = 400   # |exponent| of a Decimal that is formatted or turned into an int
MAX_ROUND_DIGITS = 100       # ndigits of round()
MAX_DATA_DEPTH = 32          # nesting of a value a script leaves in the task data
FUEL = 2_000_000             # loop steps plus container elements walked, per evaluation

_HELPERS: dict[str, callable] = {}
_BUILTIN_NAMES = frozenset({
    "len", "min", "max", "abs", "round", "sum", "any", "all", "sorted", "int", "str", "bool", "list",
    "tuple", "dict", "Decimal", "range", "enumerate", "zip", "True", "False", "None"})
_MISSING = object()


def helper(name: str | None = None):
    """Register a function that diagrams may call by name."""
    def deco(fn):
        key = name or fn.__name__
        if not key.isidentifier() or key.startswith("_") or key in _BUILTIN_NAMES:
            raise ValueError(f"cannot register a diagram helper named {key!r}")
        _HELPERS[key] = fn
        return fn
    return deco


def registered_helpers() -> dict[str, callable]:
    return dict(_HELPERS)


# ---------------------------------------------------------------------------- the allow-list

_ALLOWED_NODES = frozenset({
    # modules and statements
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Pass,
    ast.Break, ast.Continue,
    # expressions
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare, ast.Call, ast.keyword,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Name, ast.Constant, ast.List, ast.Tuple,
    ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    # contexts and operators
    ast.Load, ast.Store, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
})

# What an author sees for the constructs people try most often.
_REFUSED_LABELS = {
    "Match": "a match statement", "TryStar": "try/except*", "Try": "try/except",
    "While": "a while loop", "Lambda": "lambda", "FunctionDef": "a function definition (def)",
    "AsyncFunctionDef": "a function definition (async def)", "ClassDef": "a class definition",
    "Import": "import", "ImportFrom": "import", "NamedExpr": "an assignment expression (:=)",
    "Starred": "a starred expression (*x)", "Yield": "yield", "YieldFrom": "yield from",
    "Await": "await", "Global": "global", "Nonlocal": "nonlocal", "With": "with",
    "AsyncWith": "async with", "AsyncFor": "async for", "Raise": "raise", "Assert": "assert",
    "Delete": "del", "Return": "return", "AnnAssign": "an annotated assignment", "Del": "del",
    "MatMult": "the @ operator",
}

# Methods a diagram may call, by the exact type of the receiver (checked at run time).
METHODS: dict[type, frozenset[str]] = {
    str: frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith",
                    "split", "join", "count", "find", "isdigit"}),
    list: frozenset({"append", "count", "index"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "keys", "values", "items"}),
    date: frozenset({"isoformat", "weekday"}),
    datetime: frozenset({"isoformat", "weekday", "date"}),
}
_METHOD_NAMES = frozenset().union(*METHODS.values())
_CONSTANT_METHODS = frozenset({"get", "keys", "values", "items", "append", "isoformat", "weekday", "date"})

_SCALARS = (type(None), bool, int, float, str, Decimal, date, datetime, timedelta)
_NUMBERS = (bool, int, float, Decimal)
_SEQUENCES = (str, list, tuple)
_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
_ITERABLES = (list, tuple, str, dict, set, frozenset, range, enumerate, zip, types.GeneratorType, *_VIEWS)
_FORMAT_SPEC = re.compile(r"^(?:.?[<>^=])?[+\- ]?#?0?\d{0,2}[,_]?(?:\.\d{1,2})?[bdeEfFgGnoxX%s]?$")


def _snippet(source: str) -> str:
    return repr(source if len(source) <= 200 else source[:200] + "…")


def _refuse(what: str, source: str, node: ast.AST | None = None) -> DiagramExpressionError:
    where = f" (line {node.lineno})" if node is not None and hasattr(node, "lineno") else ""
    return DiagramExpressionError(f"{what} is not allowed in a diagram expression{where}: {_snippet(source)}")


def check_source(source: str, mode: str) -> ast.AST:
    """Parse ``source`` and check it against the allow-list; returns the (unrewritten) tree."""
    if not isinstance(source, str):
        raise DiagramExpressionError(f"a diagram expression must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise DiagramExpressionError(
            f"diagram expression is too long ({len(source)} characters, at most {MAX_SOURCE_CHARS})")
    tree = _parse(source, mode)
    _check_tree(tree, source)
    return tree


def _parse(source: str, mode: str) -> ast.AST:
    try:
        return ast.parse(source, mode=mode)
    except SyntaxError as exc:
        if mode == "eval":   # statements where one expression belongs: name what they contain
            try:
                statements = ast.parse(source, mode="exec")
            except (SyntaxError, RecursionError, MemoryError, ValueError):
                pass
            else:
                _check_tree(statements, source)
                raise DiagramExpressionError(
                    f"a condition or property must be a single expression, not statements: "
                    f"{_snippet(source)}") from None
        raise DiagramExpressionError(
            f"diagram expression is not valid Python syntax ({exc.msg}): {_snippet(source)}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise DiagramExpressionError(
            f"diagram expression is nested too deeply or malformed ({type(exc).__name__}): "
            f"{_snippet(source)}") from None


def _check_tree(tree: ast.AST, source: str) -> None:
    parents: dict[int, ast.AST] = {}
    count = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise DiagramExpressionError(
                f"diagram expression is too large (more than {MAX_NODES} syntax nodes): {_snippet(source)}")
        if depth > MAX_DEPTH:
            raise DiagramExpressionError(
                f"diagram expression is nested too deeply (more than {MAX_DEPTH} levels): {_snippet(source)}")
        _check_node(node, parents.get(id(node)), source)
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
            stack.append((child, depth + 1))


def _check_node(node: ast.AST, parent: ast.AST | None, source: str) -> None:
    kind = type(node).__name__
    if type(node) not in _ALLOWED_NODES:
        if getattr(node, "decorator_list", None):
            raise _refuse(f"a decorator (on {_REFUSED_LABELS.get(kind, kind)})", source, node)
        raise _refuse(_REFUSED_LABELS.get(kind, f"the syntax {kind}"), source, node)
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise _refuse(f"the name {node.id!r} (names starting with '_' are reserved)", source, node)
    elif isinstance(node, ast.keyword):
        if node.arg is None:
            raise _refuse("keyword unpacking (**x)", source, node)
        if node.arg.startswith("_"):
            raise _refuse(f"the keyword argument {node.arg!r}", source, node)
    elif isinstance(node, ast.Attribute):
        if not (isinstance(parent, ast.Call) and parent.func is node):
            raise _refuse(f"reading the attribute {node.attr!r} (only method calls such as "
                          f"x.get(...) are allowed)", source, node)
        if node.attr not in _METHOD_NAMES:
            raise _refuse(f"the method {node.attr!r} (allowed methods: {', '.join(sorted(_METHOD_NAMES))})",
                          source, node)
        if not isinstance(node.ctx, ast.Load):
            raise _refuse(f"assigning to the attribute {node.attr!r}", source, node)
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (bytes, bytearray)):
            raise _refuse("a bytes literal", source, node)
        if isinstance(value, complex):
            raise _refuse("a complex number", source, node)
        if value is Ellipsis:
            raise _refuse("the ... (Ellipsis) literal", source, node)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise _refuse(f"an integer literal longer than {MAX_INT_BITS} bits", source, node)
    elif isinstance(node, ast.FormattedValue):
        if node.conversion != -1:
            raise _refuse(f"the f-string conversion !{chr(node.conversion)}", source, node)
        spec = node.format_spec
        if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
            raise _refuse("a computed f-string format spec ({x:{y}})", source, node)
    elif isinstance(node, ast.Dict) and any(k is None for k in node.keys):
        raise _refuse("dict unpacking ({**x})", source, node)
    elif isinstance(node, ast.comprehension) and node.is_async:
        raise _refuse("an async comprehension", source, node)
    elif isinstance(node, (ast.For, ast.comprehension)):
        _check_target(node.target, source, allow_item=False)
    elif isinstance(node, ast.Assign):
        if len(node.targets) != 1 and any(not isinstance(t, ast.Name) for t in node.targets):
            raise _refuse("chained assignment to anything but plain names", source, node)
        for target in node.targets:
            _check_target(target, source, allow_item=len(node.targets) == 1)
    elif isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
        raise _refuse("augmented assignment to an item (write d[k] = d[k] + v)", source, node)
    elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load) and not (
            isinstance(parent, ast.Assign) and parent.targets == [node]):
        raise _refuse("assigning to an item here", source, node)


def _check_target(target: ast.AST, source: str, allow_item: bool) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _check_target(elt, source, allow_item=False)
        return
    if isinstance(target, ast.Subscript) and allow_item:
        return
    raise _refuse(f"assigning to {type(target).__name__} here (assign to a name, or d[key] = value)",
                  source, target)


# ---------------------------------------------------------------------------- the rewrite

def _name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _call(name: str, *args: ast.AST, keywords=()) -> ast.Call:
    return ast.Call(func=_name(name), args=list(args), keywords=list(keywords))


def _size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


class _Guard(ast.NodeTransformer):
    """Routes every costly or object-reaching operation through the meter's checked functions.

    The names it introduces start with ``_zx_``; a diagram cannot write them (names starting with
    ``_`` are refused by the check, which runs on the author's source before this rewrite).
    """

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return _call("_zx_binop", ast.Constant(type(node.op).__name__), node.left, node.right)

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1:
            return _call("_zx_compare", ast.Constant(type(node.ops[0]).__name__), node.left,
                         node.comparators[0])
        # a chain keeps Python's semantics: each comparator evaluated once, and only if needed
        args = [node.left]
        for op, right in zip(node.ops, node.comparators):
            args.append(ast.Constant(type(op).__name__))
            args.append(ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                      defaults=[]), body=right))
        return _call("_zx_chain", *args)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute):
            return _call("_zx_method", node.func.value, ast.Constant(node.func.attr), *node.args,
                         keywords=node.keywords)
        return _call("_zx_call", node.func, *node.args, keywords=node.keywords)

    def visit_Subscript(self, node):
        self.generic_visit(node)
        return _call("_zx_getitem", node.value, self._key(node.slice))

    @staticmethod
    def _key(key):
        if isinstance(key, ast.Slice):
            none = ast.Constant(None)
            return _call("_zx_slice", key.lower or none, key.upper or none, key.step or none)
        return key

    def visit_Assign(self, node):
        target = node.targets[0]
        if isinstance(target, ast.Subscript):
            obj, key = self.visit(target.value), self._key(self.visit(target.slice))
            value = self.visit(node.value)
            return ast.Expr(value=_call("_zx_setitem", obj, key, value))
        self.generic_visit(node)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        value = _call("_zx_binop", ast.Constant(type(node.op).__name__), _name(node.target.id), node.value)
        return ast.Assign(targets=[ast.Name(id=node.target.id, ctx=ast.Store())], value=value)

    def visit_For(self, node):
        cost = 1 + sum(_size(s) for s in node.body)
        self.generic_visit(node)
        node.iter = _call("_zx_iter", node.iter, ast.Constant(cost))
        return node

    def _comprehension(self, node, parts):
        cost = 1 + sum(_size(p) for p in parts) + sum(_size(c) for g in node.generators for c in g.ifs)
        self.generic_visit(node)
        for gen in node.generators:
            gen.iter = _call("_zx_iter", gen.iter, ast.Constant(cost))
        return node

    def visit_ListComp(self, node):
        return self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node):
        return self._comprehension(node, [node.elt])

    def visit_SetComp(self, node):
        node = self._comprehension(node, [node.elt])
        node.elt = _call("_zx_key", node.elt)
        return node

    def visit_DictComp(self, node):
        node = self._comprehension(node, [node.key, node.value])
        node.key = _call("_zx_key", node.key)
        return node

    def visit_Dict(self, node):
        self.generic_visit(node)
        node.keys = [_call("_zx_key", k) for k in node.keys]
        return node

    def visit_Set(self, node):
        self.generic_visit(node)
        node.elts = [_call("_zx_key", e) for e in node.elts]
        return node

    def visit_FormattedValue(self, node):
        self.generic_visit(node)
        spec = "".join(v.value for v in node.format_spec.values) if node.format_spec else ""
        node.value = _call("_zx_format", node.value, ast.Constant(spec))
        node.format_spec = None
        return node


@lru_cache(maxsize=1024)
def _compiled(source: str, mode: str):
    tree = _Guard().visit(check_source(source, mode))
    ast.fix_missing_locations(tree)
    return compile(tree, "<diagram>", mode)


# ---------------------------------------------------------------------------- the run-time checks

class _Meter:
    """The checked operations for one evaluation, with its fuel."""

    def __init__(self, source: str):
        self.source = source
        self.fuel = FUEL
        self.builtins = {
            "len": self.len, "min": self.min, "max": self.max, "abs": self.abs, "round": self.round,
            "sum": self.sum, "any": self.any, "all": self.all, "sorted": self.sorted, "int": self.int,
            "str": self.str, "bool": self.bool, "list": self.list, "tuple": self.tuple, "dict": self.dict,
            "Decimal": self.decimal, "range": self.range, "enumerate": self.enumerate, "zip": self.zip,
            "True": True, "False": False, "None": None,
        }
        self._callables = {id(f) for f in self.builtins.values() if callable(f)}

    # -- helpers of the checks
    def refuse(self, what: str) -> DiagramExpressionError:
        return DiagramExpressionError(f"{what}: {_snippet(self.source)}")

    def charge(self, units: int) -> None:
        self.fuel -= units
        if self.fuel < 0:
            raise self.refuse(f"diagram expression is too costly (it used more than {FUEL} steps)")

    def weigh(self, *values) -> int:
        """Charge for walking ``values`` element by element (shared references count each time)."""
        units = 0
        stack = list(values)
        while stack:
            v = stack.pop()
            units += 1
            t = type(v)
            if t is str:
                units += len(v) >> 6
            elif t is int:
                units += v.bit_length() >> 6
            elif t in (list, tuple, set, frozenset) or t in _VIEWS:
                units += len(v)
                if units > self.fuel:
                    break
                if t in _VIEWS:
                    continue
                stack.extend(v)
            elif t is dict:
                units += len(v)
                if units > self.fuel:
                    break
                stack.extend(v.keys())
                stack.extend(v.values())
            if units > self.fuel:
                break
        self.charge(units)
        return units

    def check_result(self, value):
        t = type(value)
        if t is int and value.bit_length() > MAX_INT_BITS:
            raise self.refuse(f"the result is an integer longer than {MAX_INT_BITS} bits")
        if t in (str, list, tuple, dict, set, frozenset):
            if len(value) > MAX_SEQUENCE:
                raise self.refuse(f"the result has more than {MAX_SEQUENCE} elements")
            self.charge(len(value) >> 4)
        return value

    def materialize(self, iterable, what: str) -> list:
        t = type(iterable)
        if t not in _ITERABLES:
            raise self.refuse(f"{what} cannot iterate over a {t.__name__}")
        if t in (list, tuple, str, dict, set, frozenset) or t in _VIEWS:
            self.weigh(iterable)
            return list(iterable)
        out = []
        for item in iterable:
            self.charge(1)
            out.append(item)
            if len(out) > MAX_SEQUENCE:
                raise self.refuse(f"{what} got more than {MAX_SEQUENCE} elements")
        self.weigh(out)
        return out

    def allowed_callable(self, f) -> bool:
        return id(f) in self._callables or any(f is h for h in _HELPERS.values())

    # -- the rewritten syntax
    def binop(self, op: str, a, b):
        ta, tb = type(a), type(b)
        if op == "Mod" and ta in (str, bytes):
            raise self.refuse("%-formatting of strings is not allowed (use an f-string)")
        for t in (ta, tb):
            if t not in _SCALARS and t not in (list, tuple, set, frozenset):
                raise self.refuse(f"the operator {op} is not allowed on a {t.__name__}")
        if op == "Pow":
            if ta is int and tb is int and b > 0 and (abs(a).bit_length() - 1) * b >= MAX_INT_BITS:
                raise self.refuse(f"the power {a} ** {b} would exceed {MAX_INT_BITS} bits"
                                  if a.bit_length() < 64 else f"a power would exceed {MAX_INT_BITS} bits")
            if Decimal in (ta, tb) and isinstance(b, (int, Decimal)) and abs(b) > 10_000:
                raise self.refuse("a Decimal power with an exponent above 10000")
        elif op == "Mult":
            if ta in _SEQUENCES and tb in (int, bool) or tb in _SEQUENCES and ta in (int, bool):
                seq, n = (a, b) if ta in _SEQUENCES else (b, a)
                if len(seq) * max(n, 0) > MAX_SEQUENCE:
                    raise self.refuse(f"repeating a {type(seq).__name__} of {len(seq)} elements {n} times "
                                      f"would exceed {MAX_SEQUENCE} elements")
                self.charge(len(seq) * max(n, 0) >> 4)
            elif ta is int and tb is int and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
                raise self.refuse(f"the product would exceed {MAX_INT_BITS} bits")
        elif op == "LShift":
            if ta is int and tb is int and b > 0 and a.bit_length() + b > MAX_INT_BITS:
                raise self.refuse(f"shifting left by {b} would exceed {MAX_INT_BITS} bits")
        if ta in (set, frozenset) or tb in (set, frozenset):
            self.weigh(a, b)
        return self.check_result(_BINOPS[op](a, b))

    def compare(self, op: str, a, b):
        if op not in ("Is", "IsNot"):
            self.weigh(a, b)
        return _COMPARES[op](a, b)

    def chain(self, left, *pairs):
        result = True
        for i in range(0, len(pairs), 2):
            right = pairs[i + 1]()
            result = self.compare(pairs[i], left, right)
            if not result:
                return result
            left = right
        return result

    def call(self, f, /, *args, **kwargs):
        if not self.allowed_callable(f):
            raise self.refuse(f"calling a {type(f).__name__} is not allowed (only registered helpers "
                              f"and the builtins {', '.join(sorted(k for k, v in self.builtins.items() if callable(v)))})")
        if id(f) not in self._callables:   # a registered helper: charge for the data it will see
            self.weigh(*args, *kwargs.values())
        return f(*args, **kwargs)

    def method(self, obj, name: str, /, *args, **kwargs):
        t = type(obj)
        allowed = METHODS.get(t)
        if allowed is None or name not in allowed:
            raise self.refuse(f"the method {name!r} is not allowed on a {t.__name__}")
        if name in _CONSTANT_METHODS:
            self.weigh(*args, *kwargs.values())
        else:
            self.weigh(obj, *args, *kwargs.values())
            if name in ("count", "index", "find") and t is not str:
                self.charge(len(obj) * max(1, self.weigh(*args)))
        if name == "join":
            parts = self.materialize(args[0], "str.join") if args else []
            total = len(obj) * max(len(parts) - 1, 0) + sum(len(p) for p in parts if type(p) is str)
            if total > MAX_SEQUENCE:
                raise self.refuse(f"str.join would make more than {MAX_SEQUENCE} characters")
            args = (parts,)
        if name == "append" and len(obj) >= MAX_SEQUENCE:
            raise self.refuse(f"a list may not grow beyond {MAX_SEQUENCE} elements")
        return self.check_result(getattr(obj, name)(*args, **kwargs))

    def getitem(self, obj, key):
        t = type(obj)
        if t not in (dict, list, tuple, str, range):
            raise self.refuse(f"indexing a {t.__name__} is not allowed")
        if type(key) is slice:
            result = obj[key]
            self.charge(len(result) >> 4)
            return result
        self.weigh(key)
        return obj[key]

    def setitem(self, obj, key, value):
        t = type(obj)
        if t not in (dict, list):
            raise self.refuse(f"assigning an item of a {t.__name__} is not allowed")
        self.weigh(key)
        if t is dict and key not in obj and len(obj) >= MAX_SEQUENCE:
            raise self.refuse(f"a dict may not grow beyond {MAX_SEQUENCE} entries")
        obj[key] = value

    @staticmethod
    def slice(lower, upper, step):
        return slice(lower, upper, step)

    def key(self, k):
        self.weigh(k)
        return k

    def iter(self, iterable, cost: int):
        t = type(iterable)
        if t not in _ITERABLES:
            raise self.refuse(f"iterating over a {t.__name__} is not allowed")
        for item in iterable:
            self.charge(cost)
            yield item

    def format(self, value, spec: str):
        t = type(value)
        if t not in _SCALARS:
            raise self.refuse(f"an f-string may only show text, numbers and dates, not a {t.__name__}")
        if spec:
            if t in (date, datetime):
                if len(spec) > 40 or "{" in spec:
                    raise self.refuse(f"the date format {spec!r}")
            elif not _FORMAT_SPEC.match(spec):
                raise self.refuse(f"the f-string format spec {spec!r}")
            if t is Decimal and value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
                raise self.refuse(f"formatting a Decimal with exponent {value.adjusted()}")
        elif t is str:
            return value
        return format(value, spec)

    # -- the builtins
    def len(self, obj, /):
        return len(obj)

    def _with_key(self, key):
        if key is None:
            return None
        if not self.allowed_callable(key):
            raise self.refuse(f"key= must be a registered helper or an allowed builtin, not a {type(key).__name__}")
        return lambda v: self.call(key, v)

    def _minmax(self, fn, args, key, default):
        if not args:
            raise self.refuse(f"{fn.__name__}() needs at least one argument")
        items = self.materialize(args[0], f"{fn.__name__}()") if len(args) == 1 else list(args)
        if len(args) != 1:
            self.weigh(items)
        kw = {"key": self._with_key(key)}
        if default is not _MISSING:
            kw["default"] = default
        return fn(items, **kw)

    def min(self, *args, key=None, default=_MISSING):
        return self._minmax(min, args, key, default)

    def max(self, *args, key=None, default=_MISSING):
        return self._minmax(max, args, key, default)

    def abs(self, x, /):
        return abs(x)

    def bool(self, x=False, /):
        return bool(x)

    def round(self, number, ndigits=None):
        if type(number) not in _NUMBERS:
            raise self.refuse(f"round() of a {type(number).__name__}")
        if ndigits is not None and (type(ndigits) is not int or abs(ndigits) > MAX_ROUND_DIGITS):
            raise self.refuse(f"round() to {ndigits!r} digits (at most {MAX_ROUND_DIGITS})")
        return round(number, ndigits)

    def sum(self, iterable, /, start=0):
        items = self.materialize(iterable, "sum()")
        for v in (start, *items):
            if type(v) not in _NUMBERS:
                raise self.refuse(f"sum() adds numbers only, not a {type(v).__name__}")
        return self.check_result(sum(items, start))

    def any(self, iterable, /):
        return any(self.iter(iterable, 1))

    def all(self, iterable, /):
        return all(self.iter(iterable, 1))

    def sorted(self, iterable, /, *, key=None, reverse=False):
        items = self.materialize(iterable, "sorted()")
        self.charge(self.weigh(items) * max(1, math.ceil(math.log2(len(items) + 1))))
        return sorted(items, key=self._with_key(key), reverse=bool(reverse))

    def int(self, x=0, /, base=None):
        t = type(x)
        if t is str:
            if len(x) > MAX_NUMBER_TEXT:
                raise self.refuse(f"int() of a text longer than {MAX_NUMBER_TEXT} characters")
            return int(x) if base is None else int(x, base)
        if base is not None:
            raise self.refuse("int() with a base is for text only")
        if t is Decimal and x.is_finite() and x.adjusted() > MAX_DECIMAL_EXPONENT:
            raise self.refuse(f"int() of a Decimal with exponent {x.adjusted()}")
        if t not in _NUMBERS:
            raise self.refuse(f"int() of a {t.__name__}")
        return self.check_result(int(x))

    def str(self, x="", /):
        t = type(x)
        if t not in _SCALARS:
            raise self.refuse(f"str() of a {t.__name__} is not allowed (text, numbers and dates only)")
        if t is Decimal and x.is_finite() and abs(x.adjusted()) > MAX_DECIMAL_EXPONENT:
            raise self.refuse(f"str() of a Decimal with exponent {x.adjusted()}")
        return str(x)

    def list(self, iterable=(), /):
        return self.materialize(iterable, "list()")

    def tuple(self, iterable=(), /):
        return tuple(self.materialize(iterable, "tuple()"))

    def dict(self, iterable=(), /, **kwargs):
        pairs = self.materialize(iterable, "dict()") if type(iterable) is not dict else list(iterable.items())
        self.weigh(pairs, kwargs)
        return dict(pairs, **kwargs)

    def decimal(self, value="0", /):
        t = type(value)
        if t is float:
            raise self.refuse("Decimal() of a float (write the amount as text: Decimal('0.1'))")
        if t is str and len(value) > MAX_NUMBER_TEXT:
            raise self.refuse(f"Decimal() of a text longer than {MAX_NUMBER_TEXT} characters")
        if t not in (str, int, bool, Decimal):
            raise self.refuse(f"Decimal() of a {t.__name__}")
        return Decimal(value)

    def range(self, *args):
        if any(type(a) is not int for a in args):
            raise self.refuse("range() takes integers only")
        r = range(*args)
        if len(r) > MAX_SEQUENCE:
            raise self.refuse(f"range() of more than {MAX_SEQUENCE} numbers")
        return r

    def enumerate(self, iterable, /, start=0):
        return enumerate(self.materialize(iterable, "enumerate()"), start)

    def zip(self, *iterables):
        return zip(*(self.materialize(i, "zip()") for i in iterables))

    def namespace(self) -> dict:
        return {"_zx_binop": self.binop, "_zx_compare": self.compare, "_zx_chain": self.chain,
                "_zx_call": self.call, "_zx_method": self.method, "_zx_getitem": self.getitem,
                "_zx_setitem": self.setitem, "_zx_slice": self.slice, "_zx_key": self.key,
                "_zx_iter": self.iter, "_zx_format": self.format}


_BINOPS = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "Div": operator.truediv,
    "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": operator.pow,
    "LShift": operator.lshift, "RShift": operator.rshift, "BitOr": operator.or_,
    "BitXor": operator.xor, "BitAnd": operator.and_,
}
_COMPARES = {
    "Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le,
    "Gt": operator.gt, "GtE": operator.ge, "Is": operator.is_, "IsNot": operator.is_not,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}


# ---------------------------------------------------------------------------- the environment

def _is_plain_data(value, meter: _Meter) -> str | None:
    """None if ``value`` may be stored in task data, else the name of the offending type."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        meter.charge(1)
        t = type(v)
        if depth > MAX_DATA_DEPTH:
            return f"data nested deeper than {MAX_DATA_DEPTH} levels"
        if t in (list, tuple):
            stack.extend((x, depth + 1) for x in v)
        elif t is dict:
            for k, x in v.items():
                if type(k) not in (str, int):
                    return f"a dict key of type {type(k).__name__}"
                stack.append((x, depth + 1))
        elif t not in _SCALARS:
            return t.__name__
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates checked expressions with task data and registered helpers only."""

    @staticmethod
    def _globals(meter: _Meter, context, external_context):
        g = {k: v for k, v in (external_context or {}).items() if not k.startswith("_")}
        g.update((k, v) for k, v in context.items() if not k.startswith("_"))
        g.update(_HELPERS)
        g.update(meter.namespace())
        g["__builtins__"] = meter.builtins
        return g

    @staticmethod
    def _run(code, g, source):
        try:
            return eval(code, g)
        except NameError as exc:
            name = getattr(exc, "name", None) or str(exc)
            raise DiagramNameError(   # worded as Python's own, so SpiffWorkflow adds "did you mean"
                f"name {name!r} is not defined: not task data, a registered helper or an allowed "
                f"builtin: {_snippet(source)}") from None
        except (RecursionError, MemoryError) as exc:
            raise DiagramExpressionError(
                f"diagram expression ran out of resources ({type(exc).__name__}): {_snippet(source)}") from None

    def evaluate(self, expression, context, external_context=None):
        code = _compiled(expression, "eval")
        meter = _Meter(expression)
        result = self._run(code, self._globals(meter, context, external_context), expression)
        problem = _is_plain_data(result, meter)
        if problem:
            raise DiagramExpressionError(f"a diagram expression may give only plain data, not {problem}: "
                                         f"{_snippet(expression)}")
        return result

    def execute(self, script, context, external_context=None):
        code = _compiled(script, "exec")
        clash = set(_HELPERS) & set(context)
        if clash:
            raise DiagramExpressionError(f"task data overwrites helper(s): {sorted(clash)}")
        meter = _Meter(script)
        g = self._globals(meter, context, external_context)
        before = dict(g)
        self._run(code, g, script)
        for key, value in g.items():
            if key.startswith("_") or (key in before and key not in context and before[key] is value):
                continue   # a guard, a helper or an external value the script did not rebind
            if key in before and key not in context and key not in _HELPERS:
                continue   # a rebound external value (a data object) is not written back, as before
            if key in context and context[key] is value and type(value) not in (list, dict):
                continue   # unchanged (a list or dict may have been changed in place: checked)
            if key in _HELPERS:
                if value is _HELPERS[key]:
                    continue
                raise DiagramExpressionError(f"a script may not assign to the helper name {key!r}: "
                                             f"{_snippet(script)}")
            problem = _is_plain_data(value, meter)
            if problem:
                raise DiagramExpressionError(f"a script may store only plain data in {key!r}, not "
                                             f"{problem}: {_snippet(script)}")
            context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise DiagramExpressionError("service tasks are not supported; use a registered helper")


def _with_cause(exc: SpiffWorkflowException) -> SpiffWorkflowException:
    """SpiffWorkflow wraps what the environment raised and keeps it only as ``__context__``; the
    adapter (``engine._run_engine``) looks for ``.exception`` to show the author our own message."""
    inner = exc.__cause__ or exc.__context__
    if isinstance(inner, DiagramExpressionError) and getattr(exc, "exception", None) is None:
        exc.exception = inner
    return exc


class DiagramScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over :class:`RestrictedEnvironment`, keeping our refusals visible."""

    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except SpiffWorkflowException as exc:
            _with_cause(exc)
            raise

    def execute(self, task, script, external_context=None):
        try:
            return super().execute(task, script, external_context)
        except SpiffWorkflowException as exc:
            _with_cause(exc)
            raise


def make_script_engine() -> PythonScriptEngine:
    return DiagramScriptEngine()


def evaluate(expression: str, data: dict):
    """Evaluate a diagram expression (e.g. a task-assignment property) outside the engine."""
    return RestrictedEnvironment().evaluate(expression, copy.copy(data))


def execute(script: str, data: dict) -> dict:
    """Run a diagram script on a copy of ``data`` outside the engine; returns the new data."""
    out = copy.deepcopy(data)
    RestrictedEnvironment().execute(script, out)
    return out
