"""No import cycles among the allpath modules (the simulator, ``allpath.sim``, included).

The graph is read from the source with ``ast`` (nothing is imported): an edge A -> B for every
``import allpath.B`` / ``from allpath.B import x`` at module level in A (inside ``try`` and
plain ``if`` blocks too; ``if TYPE_CHECKING:`` blocks are left out, they never run). ``from
allpath.pkg import name`` is an edge to ``allpath.pkg.name`` when that is a module, else to the
package ``allpath.pkg`` (its ``__init__``).

A second graph adds the imports deferred into functions (and ``importlib.import_module`` /
``feature("allpath.x")`` calls): a cycle dodged by importing inside a function is still a
cycle in the data flow, so that graph must be free of cycles too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import allpath

SRC = Path(allpath.__file__).resolve().parent.parent  # .../src


def _modules(root: Path) -> dict[str, tuple[Path, str]]:
    """Module name -> (file, the package its relative imports start from)."""
    out: dict[str, tuple[Path, str]] = {}
    for path in sorted((root / "allpath").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = ".".join(parts)
        else:
            package = ".".join(parts[:-1])
        out[".".join(parts)] = (path, package)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (not those in functions)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                yield from _module_level(block)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)


_IMPORT_CALLS = ("import_module", "feature", "__import__")


def _deferred(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom | str]:
    """Every import statement outside ``if TYPE_CHECKING:``, and modules imported by name."""
    skipped = {id(n) for top in ast.walk(tree) if isinstance(top, ast.If)
               and _is_type_checking(top.test) for n in ast.walk(top)
               if isinstance(n, ast.Import | ast.ImportFrom)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            yield node
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _IMPORT_CALLS:
                yield node.args[0].value


def import_graph(root: Path = SRC, *, deferred: bool = False) -> dict[str, set[str]]:
    """allpath module -> the allpath modules it imports at module level (``deferred``: and
    in functions, and by name)."""
    modules = _modules(root)

    def owner(name: str) -> str | None:  # the module (or package) that defines ``name``
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        deps: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = _deferred(tree) if deferred else _module_level(tree.body)
        for node in nodes:
            if isinstance(node, str):
                targets = [node]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                           for a in node.names]
            for target in targets:
                if target == "allpath" or target.startswith("allpath."):
                    dep = owner(target)
                    if dep is not None and dep != name:
                        deps.add(dep)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_allpath_modules() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the whole package was read, not an empty folder
    assert "allpath.sim.fast" in graph and "allpath.sim.salvage" in graph  # the simulator too
    found = cycles(graph)
    assert not found, "import cycles (module -> the modules of its cycle it imports):\n" + \
        "\n".join(f"  {m} -> {sorted(graph[m] & set(c))}" for c in found for m in c)


def test_no_import_cycle_even_through_imports_deferred_into_functions() -> None:
    graph = import_graph(deferred=True)
    found = cycles(graph)
    assert not found, "import cycles through deferred imports:\n" + \
        "\n".join(f"  {m} -> {sorted(graph[m] & set(c))}" for c in found for m in c)


def test_cycle_finder_reports_a_cycle_written_into_a_package(tmp_path: Path) -> None:
    pkg = tmp_path / "allpath"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("from allpath.low.a import x\n")
    (pkg / "low" / "a.py").write_text("from .b import y\nx = 1\n")
    (pkg / "low" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from allpath.up import z\n"
        "try:\n    from allpath.low import x\nexcept ImportError:\n    pass\ny = 2\n")
    (pkg / "up.py").write_text("import allpath.low.b\n\ndef f():\n    from allpath import low\n")
    graph = import_graph(tmp_path)
    assert graph["allpath.low.b"] == {"allpath.low"}  # TYPE_CHECKING left out, try kept
    assert graph["allpath.up"] == {"allpath.low.b"}  # the import in a function left out
    assert cycles(graph) == [["allpath.low", "allpath.low.a", "allpath.low.b"]]
    deferred = import_graph(tmp_path, deferred=True)
    assert deferred["allpath.up"] == {"allpath.low.b", "allpath.low"}
    assert deferred["allpath.low.b"] == {"allpath.low"}  # TYPE_CHECKING still left out


def test_deferred_graph_sees_an_import_inside_a_function_and_by_name(tmp_path: Path) -> None:
    pkg = tmp_path / "allpath"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import allpath.b\n")
    (pkg / "b.py").write_text("def f():\n    from allpath import a\n")
    (pkg / "c.py").write_text("import importlib\n\ndef g():\n"
                              "    return importlib.import_module('allpath.a')\n")
    assert cycles(import_graph(tmp_path)) == []
    deferred = import_graph(tmp_path, deferred=True)
    assert cycles(deferred) == [["allpath.a", "allpath.b"]]
    assert deferred["allpath.c"] == {"allpath.a"}
