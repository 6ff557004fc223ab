"""The import graph of app/ and forms/ has no cycles, and imports live at module level.

An import placed inside a function to dodge a circle hides the circle instead of removing it, so
the graph below counts every import: module-level AND inside functions (and dynamic
``importlib.import_module("app.…")`` calls with a literal name).  Only ``if TYPE_CHECKING:``
imports are left out (they never run).

Packages: ``import app.x.y`` or ``from app.x import y`` (``y`` a submodule) is an edge to
``app.x.y`` only.  Python also runs ``app/__init__.py`` and ``app/x/__init__.py`` on the way, but
that is not a dependency of the importer on the package's own code, so it is not counted (else every
module would sit in a cycle with ``app``).  ``from app.x import name`` (a name defined in, or
re-exported by, ``app/x/__init__.py``) is an edge to ``app.x``.

The second test lists the function-local imports of app/ and forms/ modules: each must be in
``LAZY_ALLOWED`` below, with the reason it stays lazy.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "forms")

# (importing module, imported module) -> why it stays inside a function
LAZY_ALLOWED: dict[tuple[str, str], str] = {
    # Flask's application-factory pattern: create_app() wires extensions, models, blueprints and the
    # CLI at call time, so importing `app` (e.g. for `app.core.db`) does not import every feature
    **{("app", mod): "application factory (create_app registers it)" for mod in (
        "app.core.logs", "app.core.proxy", "app.accounts.throttle", "app.core.security_headers",
        "app.core.input_guard", "app.core.outage", "app.core.sqlite", "app.jobs.wiring",
        "app.accounts.models", "app.core.audit", "app.core.sequences", "app.core.workdays",
        "app.workflow.models", "app.policies.models", "app.applications.models", "app.loans.models",
        "app.compensation.models", "app.jobs.models", "app.notifications.models", "app.duties.models",
        "app.fund.models",
        "app.accounts.views", "app.applications.views", "app.loans.views", "app.tasks.views",
        "app.admin.views", "app.workflow.views", "app.fund.views", "app.admin.calendar",
        "app.compensation.views", "app.notifications.views", "app.jobs.views", "app.duties.views",
        "app.core.health", "app.accounts.sessions", "app.core.money", "app.core.timeutil", "app.core.i18n",
        "app.cli", "app.formjs.models", "app.workflow.cockpit_views",
        "app.loanbook.models", "app.api.models", "app.loanbook.views", "app.api.admin_views", "app.api.views",
        "app.credit.models", "app.credit.views",
        "app.registers.views", "app.dashboards.views", "app.reports.views", "app.reports.models",
        "app.pages.views", "app.subsidies.models", "app.subsidies.views",
        "app.performance.models", "app.performance.views",
        "app.home.views",
    )},
    # a CLI command body: the demo data (organisations, users, schemes) is loaded only by `flask zx demo`
    ("app.cli", "app.demo"): "CLI command body (demo)",
}


def _modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(name: str) -> str | None:
    """The longest known module that ``name`` (a dotted module path) names or lies in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str):
    """(imported module, line, inside a function?) for every import of an app/forms module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    base = module if _is_package(module) else module.rpartition(".")[0]
    out = []

    def targets(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")[: len(base.split(".")) - (node.level - 1)]
                source = ".".join(anchor + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import sub` imports the submodule; `from pkg import name` the package itself
            return [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            return [node.args[0].value]
        return []

    def visit(node, in_function: bool):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        for target in targets(node):
            resolved = _resolve(target)
            if resolved is not None and resolved != module:
                out.append((resolved, node.lineno, in_function))
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return out


def _graph() -> dict[str, set[str]]:
    return {m: {target for target, _line, _fn in _imports(m)} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(comps)


def _describe(comp: list[str], graph: dict[str, set[str]]) -> str:
    members = set(comp)
    edges = [f"{a} -> {b}" for a in comp for b in sorted(graph[a] & members)]
    return "cycle among " + ", ".join(comp) + ":\n    " + "\n    ".join(edges)


def test_the_graph_sees_the_modules():
    # the walker itself: it finds the modules and the edges it must (a broken walker would pass anything)
    graph = _graph()
    assert {"app", "app.core.db", "app.fund.operations", "forms.fund"} <= set(graph)
    assert "app.core.db" in graph["app.fund.operations"]
    assert "app.cli" in graph["app"]                       # function-level imports are counted
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, "import cycles (move the code to where it belongs):\n" + "\n".join(
        _describe(c, graph) for c in cycles)


def test_function_local_imports_are_allowed_ones():
    found = sorted({(m, target, line) for m in MODULES for target, line, in_fn in _imports(m) if in_fn})
    unexpected = [f"{MODULES[m].relative_to(ROOT)}:{line}: {target}" for m, target, line in found
                  if (m, target) not in LAZY_ALLOWED]
    assert not unexpected, ("function-local imports of app modules (import at module level, or add to "
                            "LAZY_ALLOWED with the reason):\n  " + "\n  ".join(unexpected))
    stale = sorted(set(LAZY_ALLOWED) - {(m, target) for m, target, _line in found})
    assert not stale, f"LAZY_ALLOWED entries no longer needed: {stale}"
