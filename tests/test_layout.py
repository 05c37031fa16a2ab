"""The package's layout: no import cycle between exitkit modules, function-level imports included.

A static walk of every import statement (ast), `if TYPE_CHECKING:` blocks aside. An edge goes to
the module named (`from exitkit.cost.inputs import X` → `exitkit.cost.inputs`; `from exitkit.cost
import inputs` → `exitkit.cost.inputs` when that is a module, else `exitkit.cost`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import exitkit

PKG = Path(exitkit.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = list(f.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: dict[str, Path], here: str, is_pkg: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in modules:
                    found.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = here.split(".") if is_pkg else here.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in modules:
                    found.add(sub)
                elif base in modules:
                    found.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(here)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imports(ast.parse(path.read_text(encoding="utf-8")), modules, name, path.name == "__init__.py")
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_walk_sees_a_cycle():
    """The checker itself: a two-module cycle and a function-level import are both found."""
    g = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert _cycles(g) == [["a", "b"]]
    tree = ast.parse("def f():\n    from exitkit.cost import inputs\n")
    assert _imports(tree, {"exitkit.cost": PKG, "exitkit.cost.inputs": PKG}, "x", False) == {"exitkit.cost.inputs"}
    tc = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import exitkit.cost\n")
    assert _imports(tc, {"exitkit.cost": PKG}, "x", False) == set()


def test_no_import_cycle_between_exitkit_modules():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_flat_top_level_is_gone():
    """The package is organised by role: the old flat modules are not there any more."""
    gone = ["cli_common", "cli_plan", "cli_workload", "cli_collect", "report_view", "report_data", "report_worker",
            "workload_profile", "costing", "profile", "evidence", "notebook_helpers", "widgets", "schema", "store"]  # fmt: skip
    left = [m for m in gone if (PKG / f"{m}.py").exists()]
    assert not left, f"flat modules still at the top: {left}"
