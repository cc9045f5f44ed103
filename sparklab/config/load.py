"""Load ``cluster.yml`` plus ``--key value`` overrides and validate them before Ansible starts.

The schema lives only in ``plugins/module_utils`` (``config_schema.py``, applied by ``validate`` of
``cluster_config.py``; shared with the
``sparklab.cluster.cluster_config`` action that every playbook runs first); :mod:`sparklab.core.contract`
imports it by file path so runner.py needs no installed collection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from sparklab.config.explain import explain, validate_offline
from sparklab.core.contract import contract, module_utils
from sparklab.core.errors import BadInput

DEFAULT_CONFIG = "cluster.yml"


@dataclass(frozen=True)
class Config:
    """A validated configuration."""

    given: dict[str, Any]  # the cluster_* keys the user set (file + overrides)
    resolved: dict[str, Any]  # every key with defaults and derived values
    source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.resolved["cluster_name"])

    @property
    def region(self) -> str:
        return str(self.resolved["cluster_aws_region"])

    def extravars(self, **extra: Any) -> dict[str, Any]:
        """What the playbooks get with ``-e @file``: the user's keys only (plus ``extra``)."""
        out = dict(self.given)
        out.update(extra)
        return out


def schema() -> ModuleType:
    """The shared schema module (``plugins/module_utils/cluster_config.py``)."""
    return contract()


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """``--worker-count 3 --cluster_admin_cidrs 203.0.113.7/32`` -> ``{cluster_worker_count: 3, ...}``.

    The ``cluster_`` prefix is optional, ``-`` and ``_`` are interchangeable, values are YAML
    scalars (``3`` is a number, ``true`` a boolean, ``[a, b]`` a list); ``--key=value`` works too.
    """
    return _parse_overrides(args)[0]


def _parse_overrides(args: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides, and the flag each key came from, as the user typed it (``--name``)."""
    out: dict[str, Any] = {}
    flags: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise BadInput(f"{arg}: unexpected argument (fix: use --<key> <value>, e.g. --worker-count 3)")
        name, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise BadInput(missing_value(name))
            value = args[i + 1]
            i += 1
        i += 1
        key = name.replace("-", "_")
        if not key.startswith("cluster_"):
            key = f"cluster_{key}"
        flags[key] = f"--{name}"
        try:
            out[key] = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            out[key] = value
    return out, flags


def missing_value(name: str) -> str:
    """``--<name>`` came without a value: an unknown flag, or a configuration key missing its value."""
    key = "cluster_" + name.replace("-", "_").removeprefix("cluster_")
    if key in contract().SCHEMA:
        return f"--{name}: missing value (fix: --{name} <value>)"
    close = contract().closest_key(key)
    fix = (f"did you mean --{close[len('cluster_'):].replace('_', '-')}?" if close
           else "see python3 runner.py <verb> --help for the flags of a verb")
    return f"--{name}: unknown flag (fix: {fix})"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: PyYAML's own error follows
                continue
            if first != line:
                raise DuplicateKey(key, first, line)
        return super().construct_mapping(node, deep=deep)


class DuplicateKey(Exception):
    """A mapping key given twice (YAML 1.2 forbids it; PyYAML keeps the last silently)."""

    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(key, first, second)
        self.key, self.first, self.second = key, first, second


MAX_CONFIG_BYTES = 1024 * 1024  # a cluster.yml is a few hundred bytes; /dev/zero is endless


def load_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror}) (fix: pass -c <your cluster.yml>)") from None
    if len(raw) > MAX_CONFIG_BYTES:
        limit = f"{MAX_CONFIG_BYTES >> 20} MiB"
        raise BadInput(f"-c {path}: larger than {limit} (fix: pass -c <your cluster.yml>)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput(f"{path}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}) "
                       "(fix: save the file as UTF-8)") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except DuplicateKey as exc:
        raise BadInput(f"{exc.key}: set twice in {path}, on lines {exc.first} and {exc.second} "
                       "(fix: keep one of them)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{path}:{where} is not valid YAML (fix: compare with cluster.example.yml)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{path}: must be a mapping of cluster_* keys (fix: see cluster.example.yml)")
    return data


def load(config_path: str | None, overrides: list[str] | dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> Config:
    """Read, merge and validate; raise :class:`BadInput` (one line naming the key) on any mistake."""
    given: dict[str, Any] = {}
    source = "defaults"
    if config_path is not None:
        path = Path(config_path)
        given.update(load_file(path))
        source = str(path)
    elif Path(DEFAULT_CONFIG).is_file():
        given.update(load_file(Path(DEFAULT_CONFIG)))
        source = DEFAULT_CONFIG
    origins = {key: f"in {source}" for key in given}
    if isinstance(overrides, list):
        extra, flags = _parse_overrides(overrides)
    else:
        extra, flags = dict(overrides or {}), {}
    given.update(extra)
    origins.update(flags)
    if source == "defaults" and "cluster_name" not in given:
        raise BadInput(f"no ./{DEFAULT_CONFIG} found in {Path.cwd()} and no --name given, so cluster_name "
                       f"is missing (fix: cp cluster.example.yml {DEFAULT_CONFIG} and set cluster_name, "
                       "or pass -c FILE or --name NAME)")
    for key in given:
        if not isinstance(key, str) or not key.startswith("cluster_"):
            raise BadInput(f"{key}: not a sparklab key; every key starts with cluster_ "
                           "(fix: see cluster.example.yml)")
    mod = schema()
    try:
        resolved, warnings = validate_offline(mod, given, environ)
    except mod.ConfigError as exc:
        raise BadInput(explain(mod, exc, given, origins, environ)) from None
    user_keys = {k: v for k, v in given.items() if k in mod.SCHEMA}
    # Hand Ansible the normalised values of the keys the user set (e.g. "3" -> 3).
    normalised = {k: resolved[k] for k in user_keys}
    return Config(given=normalised, resolved=resolved, source=source, warnings=list(warnings))


def detect_admin_cidrs(config: Config) -> list[str]:
    """The admin CIDRs `up` will open: the configured ones, or the caller's /32 (one HTTP call)."""
    if config.resolved.get("cluster_admin_cidrs"):
        return list(config.resolved["cluster_admin_cidrs"])
    mod = schema()
    try:
        return [module_utils("admin_address").detect_admin_cidr()]
    except mod.ConfigError as exc:
        raise BadInput(str(exc)) from None
