"""The pure core imports only the standard library and itself (style habit 1).

``yibao.money``, ``yibao.errors``, ``yibao.workflow``, ``yibao.engine`` and every ``states.py``
must run without a framework, a database or I/O, so the engine can be reasoned about, tested
and reused anywhere.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "yibao"
PURE = sorted(
    [
        SRC / "money.py",
        SRC / "errors.py",
        SRC / "workflow.py",
        *(SRC / "engine").rglob("*.py"),
        *SRC.rglob("states.py"),
    ]
)
# the error tree and the workflow helper are standard-library only (both checked here), so
# state tables may be declared with yibao.workflow and raise InvalidTransition
ALLOWED_PROJECT = ("yibao.engine", "yibao.money", "yibao.errors", "yibao.workflow")
# the columnar engine (engine/columnar*.py) computes over arrays: numpy, pyarrow (not its
# file readers) and Numba's compiled loops, still pure computation with no I/O
ARRAY_LIBRARIES = ("numpy", "pyarrow", "numba")
ARRAY_IO = ("pyarrow.parquet", "pyarrow.csv", "pyarrow.json", "pyarrow.dataset", "pyarrow.fs")
IO_CALLS = {"open", "print", "input"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_module_imports_only_the_standard_library(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        ok = top in sys.stdlib_module_names or name.startswith(ALLOWED_PROJECT)
        if path.name.startswith("columnar") and top in ARRAY_LIBRARIES:
            ok = not name.startswith(ARRAY_IO)
        assert ok, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_module_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in IO_CALLS, f"{path.name} calls {node.func.id}()"
    banned = {"os", "io", "socket", "subprocess", "pathlib", "shutil", "sqlite3", "urllib", "http"}
    assert not {n.split(".")[0] for n in _imports(path)} & banned


def test_the_check_sees_the_engine() -> None:
    assert any(p.name == "settle.py" for p in PURE) and len(PURE) >= 4
    assert SRC / "workflow.py" in PURE
