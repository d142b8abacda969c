"""No module imports another module's private names (a leading underscore), the simulator
``allpath.sim`` included (issue 16): what a module shares it names publicly, in ``__all__``."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "allpath"


def _private_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("allpath") and node.level == 0):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
    return found


def test_no_private_name_is_imported_across_modules() -> None:
    assert (SRC / "sim" / "fast.py").is_file()  # the simulator is read too
    assert _private_imports(SRC) == []


def test_the_check_finds_a_private_import(tmp_path: Path) -> None:
    pkg = tmp_path / "allpath" / "stage"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def _helper() -> int:\n    return 1\n", encoding="utf-8")
    (pkg / "b.py").write_text("def f() -> int:\n    from allpath.stage.a import _helper\n"
                              "    return _helper()\n", encoding="utf-8")
    assert _private_imports(tmp_path / "allpath") == [
        "allpath.stage.b:2 imports allpath.stage.a._helper"]
