"""The architecture of ARCHITECTURE.md, checked: what import-linter cannot see.

`make test` runs `lint-imports` (the layers and the independence of the feature packages). These tests
add the two rules a layers contract cannot express: no feature receives the `Mesh` facade, and no
import is hidden inside a function to dodge a cycle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "catalog"
# Who may know the facade: the facade itself and what sits above it.
ABOVE_THE_FACADE = ("catalog/mesh.py", "catalog/cli/", "catalog/mcp/", "catalog/samples/", "catalog/__init__.py")
# Heavy or optional third-party modules a function may import when it first needs them (startup time).
LAZY_OK = {"pyspark", "tantivy", "psycopg", "psycopg2", "vl_convert", "altair", "nbformat", "matplotlib",
           "jsonschema", "open_data_contract_standard", "playwright",
           "openlineage"}  # openlineage-python's client imports pandas and its transports: ~2.5 s, only when events flow


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(REPO)), ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(CATALOG.rglob("*.py"))]


def _names_facade(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "catalog.mesh":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "catalog" and any(
                a.name in ("mesh", "Mesh", "open_mesh") for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name == "catalog.mesh" for a in node.names):
            lines.append(node.lineno)
    return lines


def test_no_module_below_the_facade_imports_it():
    """Feature modules receive the narrow things they need, so none can call back up into the `Mesh`."""
    offenders = [f"{path}:{line}" for path, tree in _modules() if not path.startswith(ABOVE_THE_FACADE)
                 for line in _names_facade(tree)]
    assert not offenders, "modules below the facade import it: " + ", ".join(offenders)


def test_no_import_of_our_own_modules_hides_inside_a_function():
    """A function-level `from catalog...` import is how a cycle hides from import-linter; there is none.
    The CLI's commands are the exception: each loads its feature when it runs, so `meshwork --help` is quick,
    and nothing sits above them to form a cycle."""
    offenders = []
    for path, tree in _modules():
        if path.startswith("catalog/cli/"):
            continue
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "catalog":
                    offenders.append(f"{path}:{node.lineno} from {node.module}")
                elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "catalog" for a in node.names):
                    offenders.append(f"{path}:{node.lineno} import catalog...")
    assert not offenders, "function-level imports of catalog modules:\n" + "\n".join(offenders)


def test_function_level_imports_are_only_of_heavy_optional_libraries():
    """The few lazy imports left are third-party libraries that are slow to import or optional."""
    lazy = set()
    for path, tree in _modules():
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(func):
                    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        lazy.add(node.module.split(".")[0])
                    elif isinstance(node, ast.Import):
                        lazy.update(a.name.split(".")[0] for a in node.names)
    assert lazy - LAZY_OK - {"catalog"} - set(sys.stdlib_module_names) == set()
