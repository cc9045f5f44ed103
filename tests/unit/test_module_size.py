"""No module of the ``sparklab`` package is over ``MAX_LINES`` lines, so each stays one concern.

Lines are counted as ``wc -l`` counts them: every line, blank lines, comments and docstrings
included (nothing to argue about, and a docstring that grows is a module that grows). A module
over the limit is split by responsibility, as ``local.py`` (run, checks, processes, sampler,
driver) and ``live.py`` (state, rendering, the glue) were.

The collection's ``plugins/`` is held to the same limit; an Ansible module (``plugins/modules/``) is
counted without its ``DOCUMENTATION``, ``EXAMPLES`` and ``RETURN`` blocks, the YAML that
``ansible-doc`` reads, which is documentation, not code.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 300
# The WordCount application is shipped to the driver pod as one file (the ConfigMap key the role
# mounts, roles/spark_wordcount/files/wordcount_app.py): it runs there alone, so it cannot be split
# into modules that import each other.
EXEMPT = {"sparklab/job/wordcount_app.py": "shipped alone into the Spark driver pod"}


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def oversized(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """Every ``*.py`` under ``root`` with more than ``limit`` lines, by path relative to its parent."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        count = line_count(path)
        if count > limit:
            found[path.relative_to(root.parent).as_posix()] = count
    return found


def test_size_finder_counts_every_line_and_reports_only_modules_over_the_limit(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "at_limit.py").write_text("x = 1\n\n" * 5)  # 10 lines, half of them blank
    (pkg / "sub" / "over.py").write_text('"""doc"""\n' + "# note\n" * 10)  # 11 lines
    assert line_count(pkg / "at_limit.py") == 10
    assert oversized(pkg, limit=10) == {"pkg/sub/over.py": 11}


def test_no_sparklab_module_is_over_300_lines() -> None:
    found = oversized(REPO / "sparklab")
    assert len(list((REPO / "sparklab").rglob("*.py"))) > 20  # the package is really read
    assert {path: count for path, count in found.items() if path not in EXEMPT} == {}


def test_each_exempt_module_still_exists_and_still_needs_the_exemption() -> None:
    """An exemption is dropped as soon as the module fits or is gone."""
    found = oversized(REPO / "sparklab")
    for path in EXEMPT:
        assert path in found, f"{path} fits in {MAX_LINES} lines or is gone: remove it from EXEMPT"


# The top-level string blocks of an Ansible module that ansible-doc reads; not counted as code.
DOC_BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def doc_block_lines(source: str) -> set[int]:
    """Line numbers (from 1) of the module-level ``DOCUMENTATION = r\"\"\"...\"\"\"`` style blocks."""
    lines: set[int] = set()
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in DOC_BLOCKS and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def plugin_line_count(path: Path, ansible_module: bool) -> int:
    """Every line, as ``line_count``; an Ansible module's doc blocks left out."""
    source = path.read_text(encoding="utf-8")
    dropped = doc_block_lines(source) if ansible_module else set()
    return len(source.splitlines()) - len(dropped)


def oversized_plugins(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """Every ``*.py`` under ``root`` (a collection's ``plugins/``) over ``limit``, modules without docs."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        count = plugin_line_count(path, ansible_module=path.parent.name == "modules")
        if count > limit:
            found[path.relative_to(root.parent).as_posix()] = count
    return found


MODULE_FIXTURE = '''"""A module."""
DOCUMENTATION = r"""
module: demo
short_description: Demo
"""

EXAMPLES = r"""
- demo:
"""
RETURN = """
x: {}
"""  # three lines
NOTES = r"""
kept: a string block under another name is code
"""


def main():
    DOCUMENTATION = """
    kept: not at module level
    """
    return DOCUMENTATION
'''


def test_plugin_counter_leaves_out_only_a_modules_three_doc_blocks(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    (plugins / "modules").mkdir(parents=True)
    (plugins / "filter").mkdir()
    module = plugins / "modules" / "demo.py"
    module.write_text(MODULE_FIXTURE)
    (plugins / "filter" / "demo.py").write_text(MODULE_FIXTURE)  # a filter's blocks count
    total = len(MODULE_FIXTURE.splitlines())
    assert total == 22
    assert doc_block_lines(MODULE_FIXTURE) == {2, 3, 4, 5, 7, 8, 9, 10, 11, 12}
    assert plugin_line_count(module, ansible_module=True) == 12  # 22 - 10
    assert plugin_line_count(module, ansible_module=False) == total
    assert oversized_plugins(plugins, limit=12) == {"plugins/filter/demo.py": 22}
    assert oversized_plugins(plugins, limit=11) == {"plugins/filter/demo.py": 22,
                                                    "plugins/modules/demo.py": 12}


def test_no_plugins_module_is_over_300_lines_modules_counted_without_their_docs() -> None:
    root = REPO / "plugins"
    assert len(list((root / "modules").glob("*.py"))) >= 5  # the collection's plugins are really read
    assert oversized_plugins(root) == {}
