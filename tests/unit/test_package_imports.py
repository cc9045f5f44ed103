"""The import graph of the ``sparklab`` package: acyclic, no private name crossing modules, and
the modules that must load without third-party packages import only the standard library.

The checks read the source with :mod:`ast` (function-level and ``TYPE_CHECKING`` imports count:
a cycle through a lazy import is still a cycle). Each check is first run on a small package
written by the test, to prove it finds what it looks for.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ImportedName:
    importer: str
    module: str
    name: str  # "" for ``import x`` / a whole module
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[ImportedName]:
    """Every import of a module of the package in ``path`` (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield ImportedName(name, alias.name, "", node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if candidate in modules:  # ``from pkg import module``
                    yield ImportedName(name, candidate, "", node.lineno)
                elif base in modules:
                    yield ImportedName(name, base, alias.name, node.lineno)


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = package_modules(root)
    return {name: {imp.module for imp in imports_of(name, path, modules) if imp.module != name}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path ``[a, b, ..., a]``, or ``[]``."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def private_imports(root: Path) -> list[str]:
    """``from pkg.a import _x`` and ``a._x`` (``a`` a module of the package) in another module."""
    modules = package_modules(root)
    found = []
    for name, path in modules.items():
        aliases: dict[str, str] = {}
        for imp in imports_of(name, path, modules):
            if imp.module == name:
                continue
            if imp.name.startswith("_"):
                found.append(f"{path.relative_to(root.parent)}:{imp.line} imports {imp.module}.{imp.name}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                    and aliases[node.value.id] != name):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} uses "
                             f"{aliases[node.value.id]}.{node.attr}")
    return found


def third_party_imports(path: Path, package: str) -> list[str]:
    """Module-level imports of ``path`` that are neither the standard library nor ``package``."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        for full in names:
            top = full.split(".")[0]
            if top != package and top not in sys.stdlib_module_names:
                out.append(full)
    return out


def write_package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# ------------------------------------------------------------------------------- the checks
def test_cycle_finder_reports_a_lazy_import_cycle(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    from pkg.c import g\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\ng = 1\n",
        "d.py": "from . import a\n",
    })
    assert find_cycle(import_graph(pkg)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (pkg / "c.py").write_text("g = 1\n")
    assert find_cycle(import_graph(pkg)) == []


def test_private_name_finder_reports_imports_and_attribute_use(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {
        "__init__.py": "",
        "a.py": "def _hidden():\n    pass\n\ndef shown():\n    _hidden()\n",
        "b.py": "def f():\n    from pkg.a import _hidden, shown\n",
        "c.py": "from pkg import a\n\na._hidden()\n",
        "d.py": "from .a import shown\n",
    })
    assert private_imports(pkg) == ["pkg/b.py:2 imports pkg.a._hidden", "pkg/c.py:3 uses pkg.a._hidden"]


def test_sparklab_import_graph_has_no_cycle() -> None:
    graph = import_graph(REPO / "sparklab")
    assert "sparklab.commands.base" in graph["sparklab.commands.plan"]  # the graph is really read
    assert find_cycle(graph) == []


def test_no_private_name_crosses_sparklab_modules() -> None:
    assert private_imports(REPO / "sparklab") == []


def test_errors_module_imports_nothing_of_sparklab() -> None:
    graph = import_graph(REPO / "sparklab")
    assert graph["sparklab.core.errors"] == set()
    assert graph["sparklab.bootstrap"] == set()


# The subpackages of ``sparklab`` and what each may import (sparklab/__init__.py says why).
# ``bootstrap`` and ``core`` are the base: standard library and each other only.
LAYERS: dict[str, set[str]] = {
    "bootstrap": set(),
    "core": {"core"},
    "config": {"core", "config"},
    "cluster": {"core", "config", "cluster", "bootstrap"},
    "job": {"core", "config", "job", "bootstrap"},
    "cli": {"core", "commands"},
    "commands": {"bootstrap", "core", "config", "cluster", "job", "commands"},
}
# The one module of the cluster side that the job side may use: the playbook events that the
# live view shows while the job's playbook runs.
CLUSTER_API_FOR_JOBS = {"sparklab.cluster.progress"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def direction_violations(root: Path, layers: dict[str, set[str]],
                         exceptions: dict[str, set[str]]) -> list[str]:
    """Every import that goes against ``layers``: ``importer -> imported``.

    ``exceptions`` maps a layer to the modules of other layers it may import besides its own list.
    A module outside every layer (other than the package's ``__init__``) is itself a violation."""
    modules = package_modules(root)
    found = []
    for name, path in modules.items():
        layer = layer_of(name)
        if not layer:
            continue
        if layer not in layers:
            found.append(f"{name} belongs to no layer")
            continue
        for imp in imports_of(name, path, modules):
            target = layer_of(imp.module)
            if (target == layer or target in layers[layer] or not target
                    or imp.module in exceptions.get(layer, set())):
                continue
            found.append(f"{name} -> {imp.module}")
    return sorted(set(found))


def test_direction_finder_reports_an_import_against_the_layers(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {
        "__init__.py": "",
        "core/__init__.py": "", "core/errors.py": "",
        "side/__init__.py": "", "side/a.py": "from pkg.core import errors\n", "side/api.py": "",
        "other/__init__.py": "",
        "other/b.py": "def f():\n    from pkg.side import a\n    from pkg.side.api import x\n",
        "stray.py": "",
    })
    layers = {"core": {"core"}, "side": {"core"}, "other": {"core"}}
    assert direction_violations(pkg, layers, {"other": {"pkg.side.api"}}) == [
        "pkg.other.b -> pkg.side.a", "pkg.stray belongs to no layer"]


def test_sparklab_subpackages_import_only_in_the_directions_of_the_architecture() -> None:
    """The job side never reaches into the cluster side (beyond its progress events), nothing below
    the command line imports ``commands``, and ``core`` imports nothing else of sparklab."""
    modules = package_modules(REPO / "sparklab")
    assert {layer_of(name) for name in modules} >= {"core", "config", "cluster", "job", "commands"}
    assert direction_violations(REPO / "sparklab", LAYERS, {"job": CLUSTER_API_FOR_JOBS}) == []
    top_level = sorted(p.name for p in (REPO / "sparklab").glob("*.py"))
    assert top_level == ["__init__.py", "bootstrap.py", "cli.py"]  # everything else lives in a subpackage


def test_third_party_finder_reports_module_level_imports(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("import os\nimport yaml\nfrom pkg import a\nfrom rich.console import Console\n"
                    "def f():\n    import boto3\n")
    assert third_party_imports(path, "pkg") == ["yaml", "rich.console"]


PARSER_PATH = ("sparklab/cli.py", "sparklab/commands/__init__.py", "sparklab/core/errors.py",
               "sparklab/core/contract.py")


@pytest.mark.parametrize("module", PARSER_PATH)
def test_parser_path_imports_only_the_standard_library(module: str) -> None:
    """``runner.py --help`` must answer before the virtualenv exists: no third-party import there,
    and the sparklab modules it imports at module level are themselves on this list."""
    assert third_party_imports(REPO / module, "sparklab") == []
    tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
    ours = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("sparklab")}
    allowed = {module_name(REPO / "sparklab", REPO / m) for m in PARSER_PATH}
    assert ours <= allowed
