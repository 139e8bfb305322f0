"""The shape of ryot/, checked from its source: a folder is a layer, imports point down, files
stay small.

:func:`import_graph` parses every module with ``ast`` (nothing is imported) and returns each
import of one ryot module by another — module-level and function-level, relative imports
resolved, ``importlib.import_module("ryot....")`` with a literal name included — so further
rules can reuse it.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

RYOT = Path(__file__).resolve().parent.parent / "ryot"
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "ryot.workload.train.loop"
    target: str  # the imported ryot module, e.g. "ryot.workload.model"
    module_level: bool  # runs on import (not inside a function, not under `if TYPE_CHECKING`)
    line: int

    def __str__(self) -> str:
        where = "" if self.module_level else " (inside a function)"
        return f"{self.source} -> {self.target} (line {self.line}){where}"


def module_files(root: Path = RYOT) -> dict[str, Path]:
    """Every module of the package at ``root``: dotted name -> file (``__init__`` is the
    package)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _nearest_module(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its closest enclosing module (``ryot.a.b.func`` -> ``ryot.a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


class _Collector(ast.NodeVisitor):
    def __init__(self, name: str, is_package: bool, modules: dict[str, Path]) -> None:
        self.name, self.modules, self.depth = name, modules, 0
        self.package = name if is_package else name.rpartition(".")[0]
        self.imports: list[Import] = []

    def _add(self, target: str, node: ast.AST) -> None:
        module = _nearest_module(target, self.modules)
        if module is not None and module != self.name:
            self.imports.append(Import(self.name, module, self.depth == 0, node.lineno))

    def _in_function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _in_function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        type_checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
                         or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        if not type_checking:
            self.generic_visit(node)
            return
        self.depth += 1  # never runs: not a module-level import
        for child in node.body:
            self.visit(child)
        self.depth -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        for alias in node.names:  # `from . import x`: x may be a module of its own
            full = f"{module}.{alias.name}"
            self._add(full if full in self.modules else module, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (name == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str) and node.args[0].value.startswith("ryot")):
            self.imports.append(Import(self.name, node.args[0].value, False, node.lineno))
        self.generic_visit(node)


def import_graph(root: Path = RYOT) -> list[Import]:
    """Every import of one module of the package at ``root`` by another, in file order."""
    modules = module_files(root)
    imports = []
    for name, path in modules.items():
        collector = _Collector(name, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        imports += collector.imports
    return imports


def cycles(imports: list[Import]) -> list[list[str]]:
    """The import cycles among ``imports``: one path per strongly connected component
    (Tarjan's algorithm), each starting and ending at the same module."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.source, set()).add(i.target)
        graph.setdefault(i.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_path_through(sorted(component), graph))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A cycle inside one strongly connected component, for the message."""
    members, start = set(component), component[0]
    path, seen = [start], {start}
    while True:
        nxt = min(n for n in graph[path[-1]] if n in members)
        if nxt in seen:
            return path[path.index(nxt):] + [nxt]
        path.append(nxt)
        seen.add(nxt)


# -- the rules -------------------------------------------------------------------------------------
def test_the_graph_sees_relative_function_level_and_string_imports(tmp_path):
    pkg = tmp_path / "ryot"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import thing\n")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ryot import a\n"
        "import importlib\nX = importlib.import_module('ryot.sub.b')\n")
    found = {(i.source, i.target, i.module_level) for i in import_graph(pkg)}
    assert found == {("ryot.a", "ryot.sub.b", True), ("ryot.sub.b", "ryot.a", False),
                     ("ryot.sub.c", "ryot.a", False), ("ryot.sub.c", "ryot.sub.b", False)}
    everything = import_graph(pkg)
    assert cycles([i for i in everything if i.module_level]) == []
    assert cycles(everything) == [["ryot.a", "ryot.sub.b", "ryot.a"]]


def test_no_import_cycles_at_module_level():
    found = cycles([i for i in import_graph() if i.module_level])
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_import_cycles_even_inside_functions():
    """An import inside a function hides a cycle from Python, not from a reader (the three cycles
    of issue #10 were of this kind). One exception: ``ryot.evaluate``, the package's facade,
    reaches the engine inside the function so that ``import ryot`` stays cheap."""
    found = cycles([i for i in import_graph() if i.module_level or i.source != "ryot"])
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


# -- layers: read from the folders ------------------------------------------------------------
# The layers, lowest first: a module's layer is the folder under ryot/ it lives in. An import may
# point to a lower layer or stay in its own. The entry points (cli/, pytest_plugin, train) share
# one layer; the facades and ryot/__init__ sit on top, and nothing inside ryot imports them.
LAYERS = ("infra", "stats", "measure", "core", "workload", "metrics", "importers", "verification",
          "history",
          "fleet", "bench",
          "entry", "facade")
ENTRY_POINTS = ("cli", "pytest_plugin", "train")
FACADES = ("orchestrator", "kernel_optimizer", "semantic_compression", "inference_scaling")
MAX_ROOT_MODULES = 8


def layer_of(module: str) -> str:
    """``ryot.core.kv.cache`` -> ``core``; ``ryot.cli.train`` -> ``entry``; ``ryot`` ->
    ``facade``."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FACADES:
        return "facade"
    if parts[1] in ENTRY_POINTS:
        return "entry"
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: ryot/{parts[1]} is not a layer folder; add it to LAYERS "
                             "(and docs/architecture.md) or move it into one")
    return parts[1]


def upward_imports(root: Path = RYOT) -> list[Import]:
    """Every import of a higher layer, and every import of a facade from inside ryot."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    for module in module_files(root):
        layer_of(module)  # every module lives in a layer
    found = []
    for i in import_graph(root):
        source, target = layer_of(i.source), layer_of(i.target)
        if target == "facade" or rank[target] > rank[source]:
            if not (i.source == "ryot" and not i.module_level):  # ryot.evaluate, lazily
                found.append(i)
    return found


def _imports_of(package: str, forbidden: tuple[str, ...]) -> list[Import]:
    return [i for i in import_graph() if (i.source == package or i.source.startswith(package + "."))
            and any(i.target == f or i.target.startswith(f + ".") for f in forbidden)]


def test_every_import_points_down_or_stays_in_its_layer():
    found = upward_imports()
    assert not found, ("imports of a higher layer or of a facade:\n" + "\n".join(map(str, found)))


def test_a_planted_upward_import_is_seen(tmp_path):
    """The rule above can fail: the optimizer core importing the engine, in a scratch copy."""
    copy = tmp_path / "ryot"
    shutil.copytree(RYOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "core" / "config.py"
    target.write_text(target.read_text() + "\nfrom ryot.verification import runner  # planted\n")
    planted = [i for i in upward_imports(copy) if i.source == "ryot.core.config"]
    assert [(i.source, i.target) for i in planted] == [("ryot.core.config",
                                                         "ryot.verification.runner")]
    (copy / "stats" / "intervals.py").write_text("import ryot.orchestrator\n")
    assert any(i.target == "ryot.orchestrator" for i in upward_imports(copy))


def test_a_module_outside_every_layer_is_refused(tmp_path):
    copy = tmp_path / "ryot"
    copy.mkdir()
    (copy / "__init__.py").write_text("")
    (copy / "helpers.py").write_text("")
    with pytest.raises(AssertionError, match="ryot/helpers is not a layer folder"):
        upward_imports(copy)


def test_the_root_holds_only_facades_and_entry_points():
    modules = sorted(p.name for p in RYOT.iterdir() if p.suffix == ".py" or
                     (p.is_dir() and (p / "__init__.py").exists() and p.name in ENTRY_POINTS))
    assert len(modules) <= MAX_ROOT_MODULES, modules
    allowed = {"__init__.py", *(f"{m}.py" for m in (*FACADES, *ENTRY_POINTS)), *ENTRY_POINTS}
    assert set(modules) <= allowed, set(modules) - allowed


@pytest.mark.parametrize("facade", FACADES)
def test_facades_hold_re_exports_and_all_only(facade):
    tree = ast.parse((RYOT / f"{facade}.py").read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "Assign"}, kinds  # docstring, imports, __all__
    names = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets]
    assert set(names) <= {"__all__", "__getattr__"}, names


def test_every_public_module_declares_all():
    missing = [name for name, path in module_files().items()
               if not any(part.startswith("_") and part != "__init__"
                          for part in path.relative_to(RYOT).with_suffix("").parts)
               and "__all__" not in path.read_text(encoding="utf-8")
               and path.name != "__main__.py"]
    assert not missing, f"public modules without __all__: {missing}"


def test_the_workload_imports_no_metrics_or_engine():
    found = _imports_of("ryot.workload", ("ryot.metrics", "ryot.verification"))
    assert not found, "\n".join(map(str, found))


def test_the_engine_reaches_providers_only_through_the_registry():
    """The acceptance engine judges samples; it reaches providers only through the registry,
    which loads ``ryot.metrics`` by name when a run needs it, and never the workload or core."""
    found = [i for i in _imports_of("ryot.verification", ("ryot.metrics", "ryot.workload",
                                                            "ryot.core"))
             if not (i.source == "ryot.verification.registry"
                     and i.target.startswith("ryot.metrics") and not i.module_level)]
    assert not found, "the engine core must not import:\n" + "\n".join(map(str, found))


def test_no_file_over_400_lines():
    long = {str(p.relative_to(RYOT.parent)): n for p in RYOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines (split them by job): {long}"


def test_every_end_to_end_module_named_in_conftest_exists():
    """A renamed module would silently leave the e2e marker (and join the coverage run)."""
    from tests.conftest import END_TO_END

    missing = [path for path in END_TO_END if not (RYOT.parent / path).is_file()]
    assert not missing, missing
