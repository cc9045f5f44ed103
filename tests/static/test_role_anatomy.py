"""Every role under roles/ follows the house role anatomy (docs: /STYLE.md "Role anatomy", "Naming").

One parametrized test per rule, over every role:
- the argument spec lists exactly the defaults (plus required inputs without a default, such as
  helm_release's release); a default the spec states equals the one in
  defaults/main.yml; every default, rendered with Ansible's own templating (Templar) in a sample
  cluster context, passes Ansible's role argument validation (ArgumentSpecValidator), so types agree;
- the README names every default;
- every task and handler calls its module by FQCN;
- task names: capitalised, no trailing period, Jinja only at the end, tasks of a sub-file prefixed
  with "<file> | ";
- variables: defaults start with "<role>_", role vars and registered or set facts with
  "<role>_" or "__<role>_";
- tasks/main.yml only dispatches, and no role depends on another through meta/main.yml.

What this cannot check: that a default means what its description says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from collection_finder import ensure_checkout_collections

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").exists())

# Task and block keywords of ansible-core (ansible.playbook.task.Task / block.Block fattributes,
# plus the loop lookups and `listen` of handlers): every other key of a task is its action.
KEYWORDS = {
    "action", "any_errors_fatal", "args", "async", "become", "become_exe", "become_flags",
    "become_method", "become_user", "changed_when", "check_mode", "collections", "connection",
    "debugger", "delay", "delegate_facts", "delegate_to", "diff", "environment", "failed_when",
    "ignore_errors", "ignore_unreachable", "loop", "loop_control", "module_defaults", "name",
    "no_log", "notify", "poll", "port", "register", "remote_user", "retries", "run_once", "tags",
    "throttle", "timeout", "until", "vars", "when", "block", "rescue", "always", "listen",
}  # fmt: skip

# A sample cluster context for rendering defaults: what a play on the control plane of a
# three-node cluster provides (schema defaults, inventory host variables, gathered facts).
HOSTVARS = {
    "private_ip_address": "10.42.0.10",
    "private_dns_name": "ip-10-42-0-10.eu-west-1.compute.internal",
    "public_ip_address": "203.0.113.10",
    "public_dns_name": "ec2-203-0-113-10.eu-west-1.compute.amazonaws.com",
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _defaults(role: str) -> dict[str, Any]:
    return _load(REPO / "roles" / role / "defaults" / "main.yml") or {}


def _entry_points(role: str) -> dict[str, Any]:
    return _load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]


def _task_files(role: str) -> list[Path]:
    return sorted((REPO / "roles" / role / "tasks").glob("*.yml")) + sorted(
        (REPO / "roles" / role / "handlers").glob("*.yml")
    )


def _tasks(tasks: list[dict] | None) -> Iterator[dict]:
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _context(tmp_path: Path) -> dict[str, Any]:
    from sparklab.config.load import schema

    cluster, _ = schema().validate({"cluster_name": "anatomy"}, environ={"SPARKLAB_HOME": str(tmp_path)})
    variables: dict[str, Any] = dict(cluster)
    for role in ROLES:
        variables.update(_defaults(role))
        variables.update(_load(REPO / "roles" / role / "vars" / "main.yml") or {})
    groups = {
        "control_plane": ["cp-1"],
        "workers": ["worker-1", "worker-2"],
        "all": ["cp-1", "worker-1", "worker-2"],
    }
    groups["cluster"] = groups["all"]
    variables.update(
        inventory_hostname="cp-1",
        groups=groups,
        hostvars={h: HOSTVARS for h in groups["all"]},
        ansible_facts={
            "hostname": "cp-1",
            "default_ipv4": {"address": "10.42.0.10"},
            "architecture": "x86_64",
        },
        ansible_host="203.0.113.10",
        playbook_dir=str(REPO / "playbooks"),
        role_path=str(REPO / "roles"),
    )
    return variables


def _render(value: Any, variables: dict[str, Any]) -> Any:
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    ensure_checkout_collections()

    def trust(item: Any) -> Any:
        if isinstance(item, str):
            return trust_as_template(item)
        if isinstance(item, dict):
            return {k: trust(v) for k, v in item.items()}
        if isinstance(item, list):
            return [trust(v) for v in item]
        return item

    templar = Templar(loader=DataLoader(), variables={k: trust(v) for k, v in variables.items()})
    return templar.template(trust(value))


def _spec_options(role: str) -> dict[str, dict[str, Any]]:
    """Options of every entry point (main, and e.g. a verify entry point used with tasks_from)."""
    return {o: spec for entry in _entry_points(role).values() for o, spec in entry["options"].items()}


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_lists_exactly_the_defaults_with_the_same_values(role: str, tmp_path: Path) -> None:
    defaults = _defaults(role)
    options = _spec_options(role)
    # A required input the caller passes (helm_release's release) has no default, and only such.
    inputs = {o for o, spec in options.items() if spec.get("required") and "default" not in spec}
    assert set(options) - inputs == set(defaults) - inputs, (
        f"{role}: in the spec only {sorted(set(options) - set(defaults) - inputs)}, "
        f"in defaults only {sorted(set(defaults) - set(options))}"
    )
    assert "main" in _entry_points(role)
    variables = _context(tmp_path)
    for name, entry in _entry_points(role).items():
        assert entry.get("short_description"), f"{role}:{name} has no short_description"
        for option, spec in entry["options"].items():
            assert spec.get("type") and spec.get("description"), f"{option}: type and description required"
            if option not in defaults:
                continue
            if "default" in spec and spec["default"] != defaults[option]:
                # A templated default may be documented by its value in a standard cluster.
                assert "{{" in str(defaults[option]), f"{option}: spec default differs from defaults"
                assert spec["default"] == _render(defaults[option], variables), (
                    f"{option}: spec default {spec['default']!r} is not {defaults[option]!r} nor its value"
                )


@pytest.mark.parametrize("role", ROLES)
def test_rendered_defaults_pass_the_role_argument_validation(role: str, tmp_path: Path) -> None:
    """Defaults that read results of earlier roles (registered at run time) cannot be rendered here
    and are left out; all others are rendered and validated, at least one per role."""
    from ansible.errors import AnsibleUndefinedVariable
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    variables = _context(tmp_path)
    defaults = _defaults(role)
    checked = 0
    for name, entry in _entry_points(role).items():
        values, specs = {}, {}
        for option, spec in entry["options"].items():
            if option not in defaults:
                continue
            try:
                values[option] = _render(defaults[option], variables)
            except AnsibleUndefinedVariable:
                continue
            specs[option] = spec
        result = ArgumentSpecValidator(specs).validate(values, validate_role_argument_spec=True)
        assert result.error_messages == [], f"{role}:{name}"
        checked += len(values)
    assert checked > 0 or not defaults


@pytest.mark.parametrize("role", ROLES)
def test_readme_documents_every_default(role: str) -> None:
    readme = (REPO / "roles" / role / "README.md").read_text()
    missing = [name for name in _defaults(role) if f"`{name}`" not in readme]
    assert missing == [], f"{role}/README.md does not document {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_every_module_is_called_by_its_fully_qualified_name(role: str) -> None:
    short = []
    for path in _task_files(role):
        for task in _tasks(_load(path)):
            if "block" in task:
                continue
            actions = set(task) - KEYWORDS - {k for k in task if k.startswith("with_")}
            assert len(actions) == 1, f"{path.name}: {task.get('name')}: actions {actions}"
            (action,) = actions
            if action.count(".") < 2:
                short.append(f"{path.relative_to(REPO)}: {task.get('name')}: {action}")
    assert short == []


NAME = re.compile(r"^[A-Z][^{]*?(\{\{.*\}\})?$")


@pytest.mark.parametrize("role", ROLES)
def test_task_names_are_capitalised_prefixed_and_end_in_jinja_only(role: str) -> None:
    bad = []
    for path in _task_files(role):
        sub_file = path.parent.name == "tasks" and path.name != "main.yml"
        for task in _tasks(_load(path)):
            name = task.get("name")
            if name is None:
                bad.append(f"{path.name}: unnamed task {sorted(task)}")
                continue
            text = name
            if sub_file:
                prefix = f"{path.stem} | "
                if not name.startswith(prefix):
                    bad.append(f"{path.name}: {name!r} lacks the prefix {prefix!r}")
                    continue
                text = name[len(prefix) :]
            if not NAME.match(text) or text.rstrip().endswith("."):
                bad.append(f"{path.name}: {name!r}")
    assert bad == []


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role: str) -> None:
    public, private = f"{role}_", f"__{role}_"
    bad = [f"defaults: {n}" for n in _defaults(role) if not n.startswith(public)]
    bad += [f"argument spec: {n}" for n in _spec_options(role) if not (n.startswith(public) or n == role)]
    role_vars = _load(REPO / "roles" / role / "vars" / "main.yml") or {}
    bad += [f"vars: {n}" for n in role_vars if not n.startswith((public, private))]
    for path in _task_files(role):
        for task in _tasks(_load(path)):
            names = [task["register"]] if "register" in task else []
            names += [k for k in (task.get("ansible.builtin.set_fact") or {}) if k != "cacheable"]
            bad += [
                f"{path.name}: {n}"
                for n in names
                if not (n.startswith((public, private)) or n == private[:-1])
            ]
    assert bad == []


@pytest.mark.parametrize("role", ROLES)
def test_main_tasks_only_dispatch_and_no_role_depends_on_another(role: str) -> None:
    for task in _load(REPO / "roles" / role / "tasks" / "main.yml"):
        assert set(task) & {"ansible.builtin.import_tasks", "ansible.builtin.include_tasks"}, task.get("name")
    assert (_load(REPO / "roles" / role / "meta" / "main.yml") or {}).get("dependencies", []) == []


def test_every_role_is_covered() -> None:
    on_disk = {p.name for p in (REPO / "roles").iterdir() if p.is_dir()}
    assert set(ROLES) == on_disk and len(ROLES) >= 22
