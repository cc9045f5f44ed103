"""Shared code for the add-on tests: run a playbook locally, render release data files and role
templates with Ansible's own templating, and walk Helm values against a chart's values.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from collection_finder import ensure_checkout_collections

REPO = Path(__file__).resolve().parents[2]
RELEASES_DIR = REPO / "playbooks" / "vars" / "releases"

VENV_BIN = Path(sys.executable).parent


def make_collections_dir(base: Path) -> Path:
    """A collections path in which sparklab.cluster is this checkout."""
    root = base / "collections"
    link = root / "ansible_collections" / "sparklab" / "cluster"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    return root


def ansible_env(base: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    collections = f"{make_collections_dir(base)}:{os.environ.get('ANSIBLE_COLLECTIONS_PATH', '')}"
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_ROLES_PATH=str(REPO / "roles"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCAL_TEMP=str(base / "ansible-tmp"),
        ANSIBLE_HOME=str(base / "ansible-home"),
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def run_playbook(playbook: Path, base: Path, *args: str, env: Mapping[str, str] | None = None) -> dict:
    """Run a playbook against localhost with the json callback and return its parsed output."""
    cmd = [
        str(VENV_BIN / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        # The Python running these tests is the one the modules run with; nothing is discovered.
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        str(playbook),
        *args,
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, env=ansible_env(base, **(env or {})), capture_output=True, text=True, timeout=300
    )
    start = proc.stdout.find("{")
    if start < 0:
        raise AssertionError(f"no json output (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(proc.stdout[start:])
    result["rc"] = proc.returncode
    result["stderr"] = proc.stderr
    return result


def task_results(result: dict, name_part: str) -> list[dict]:
    """Host results of every task whose name contains name_part, in run order."""
    found = []
    for play in result["plays"]:
        for task in play["tasks"]:
            if name_part in task["task"]["name"]:
                found.extend(task["hosts"].values())
    return found


def release_files() -> dict[str, Path]:
    """Release name (file stem) -> data file, for every file in playbooks/vars/releases/."""
    return {p.stem: p for p in sorted(RELEASES_DIR.glob("*.yml"))}


def load_release(path: Path) -> tuple[str, dict]:
    """The one variable a release file defines: (variable name, raw definition)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or len(data) != 1:
        raise AssertionError(f"{path.name} must define exactly one variable, found {list(data or {})}")
    ((name, value),) = data.items()
    return name, value


def render(template_data: Any, variables: Mapping[str, Any]) -> Any:
    """Render data loaded from a trusted file with Ansible's templating (filters and tests included)."""
    ensure_checkout_collections()
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    def trust(value: Any) -> Any:
        if isinstance(value, str):
            return trust_as_template(value)
        if isinstance(value, dict):
            return {k: trust(v) for k, v in value.items()}
        if isinstance(value, list):
            return [trust(v) for v in value]
        return value

    templar = Templar(loader=DataLoader(), variables={k: trust(v) for k, v in variables.items()})
    return templar.template(trust(template_data))


def role_variables(role: str) -> dict[str, Any]:
    """defaults/main.yml then vars/main.yml of a role, raw (not rendered)."""
    variables: dict[str, Any] = {}
    for part in ("defaults", "vars"):
        path = REPO / "roles" / role / part / "main.yml"
        if path.exists():
            variables.update(yaml.safe_load(path.read_text()) or {})
    return variables


def leaf_paths(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of a values mapping; a dict value is walked, anything else is a leaf."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def path_in_reference(path: tuple[str, ...], reference: Mapping[str, Any]) -> bool:
    """True when every key of path exists in the reference values.yaml.

    Below a key whose reference value is an empty mapping or null (free-form maps such as
    `annotations: {}` or `resources: {}`), any sub-key is accepted: the chart passes it through.
    """
    node: Any = reference
    for key in path:
        if node is None or (isinstance(node, Mapping) and not node):
            return True
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def cluster_variables(state_home: Path, **overrides: Any) -> dict[str, Any]:
    """Every cluster_* variable as the cluster_config action returns it (schema defaults + overrides)."""
    from sparklab.config.load import schema

    resolved, _ = schema().validate(
        {"cluster_name": "static-test", **overrides}, environ={"SPARKLAB_HOME": str(state_home)}
    )
    return resolved


def render_role_template(role: str, template: str, variables: Mapping[str, Any]) -> Any:
    """Render roles/<role>/templates/<template> with Ansible's templating and parse the YAML."""
    text = (REPO / "roles" / role / "templates" / template).read_text()
    return yaml.safe_load(render(text, variables))
