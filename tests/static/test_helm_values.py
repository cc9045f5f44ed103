"""Every Helm release, checked against the chart's own values.yaml.

The releases are the files in playbooks/vars/releases/ (cluster phase) and the `<role>_release`
defaults of the add-on roles, rendered with Ansible's templating (cluster_* defaults from the
configuration schema, and the variables of the role that owns the release); then every values key
path must exist in the reference copy of the chart's values.yaml (tests/helpers/reference_data.py).
Keys the chart reads without declaring them are allowed only one by one through
KEYS_READ_BY_TEMPLATES, each with its reason (tests/static/test_helm_render.py then renders them with
helm). A release without a reference values.yaml must be listed in NO_REFERENCE with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from addons_render import (
    cluster_variables,
    leaf_paths,
    load_release,
    path_in_reference,
    release_files,
    render,
    role_variables,
)
from reference_data import REFERENCE_DIR

# Add-on roles that own their release in their defaults: release -> (role, variable).
ROLE_RELEASES = {
    "kube_opex_analytics": ("kube_opex_analytics", "kube_opex_analytics_release"),
    "spark_operator": ("spark_operator", "spark_operator_release"),
}

# Release -> reference folder, per variant. kube-opex-analytics is rendered once per known tag.
KUBE_OPEX_TAGS = {"v25.10.1": "kube-opex-analytics-25.10.1", "v26.01.1": "kube-opex-analytics-26.01.1"}
REFERENCES: dict[str, dict[str, str]] = {
    "kube_opex_analytics": KUBE_OPEX_TAGS,
    "spark_operator": {"default": "spark-operator-2.5.2"},
    "metrics_server": {"default": "metrics-server-chart-3.13.1"},
}

# Releases whose chart has no reference values.yaml in ../shared/reference/ (and why that is accepted).
NO_REFERENCE: dict[str, str] = {
    "flannel": "shared/reference holds no values.yaml of the Flannel chart, so its keys cannot be "
    "compared with upstream here; only its rendering and shape are checked",
    "local_path_provisioner": "shared/reference holds no values.yaml of the local-path-provisioner chart, "
    "so its keys cannot be compared with upstream here; only its rendering and shape are checked",
}

# (release, key path) -> why the chart reads it although its values.yaml does not declare it.
# Each key is listed on its own: a misspelt key is not covered by its neighbour's entry.
KEYS_READ_BY_TEMPLATES: dict[tuple[str, tuple[str, ...]], str] = {
    (
        "kube_opex_analytics",
        ("image", "version"),
    ): "the chart's named template 'kube-opex-analytics.imageVersion' "
    "uses .Values.image.version, else the chart version",
    ("kube_opex_analytics", ("envs", "KOA_POLLING_INTERVAL_SEC")): "templates/deployment.yaml turns each "
    "key of .Values.envs into a container environment variable; the application's backend.py reads this one",
}

# Chart versions the release files must pin, per reference folder.
REFERENCE_CHART_VERSION = {
    "spark-operator-2.5.2": "2.5.2",
    "metrics-server-chart-3.13.1": "3.13.1",
    "kube-opex-analytics-25.10.1": "25.10.0",
    "kube-opex-analytics-26.01.1": "26.01.1",
}

REQUIRED_KEYS = {"name", "namespace", "chart", "values"}


def definitions() -> dict[str, Any]:
    """Every release, raw: the release files and the add-on roles' release defaults."""
    out = {release: load_release(path)[1] for release, path in release_files().items()}
    for release, (role, variable) in ROLE_RELEASES.items():
        out[release] = role_variables(role)[variable]
    return out


def variables_for(release: str, variant: str, tmp_path: Path) -> dict[str, Any]:
    variables: dict[str, Any] = dict(cluster_variables(tmp_path))
    if release in ROLE_RELEASES:
        variables.update(role_variables(ROLE_RELEASES[release][0]))
    if release == "kube_opex_analytics":
        variables["kube_opex_analytics_git_tag"] = variant
    return variables


def rendered(release: str, variant: str, tmp_path: Path) -> dict:
    return render(definitions()[release], variables_for(release, variant, tmp_path))


def unknown_keys(release: str, values: dict, reference: dict) -> list[str]:
    bad = []
    for path in leaf_paths(values):
        if (release, path) in KEYS_READ_BY_TEMPLATES:
            continue
        if not path_in_reference(path, reference):
            bad.append(".".join(path))
    return bad


def cases() -> list[tuple[str, str]]:
    """(release, variant) for every release file that has a reference values.yaml."""
    return [(r, v) for r in definitions() if r in REFERENCES for v in REFERENCES[r]]


def test_every_release_has_the_typed_shape_and_a_known_name() -> None:
    files = release_files()
    assert set(files) == {"flannel", "metrics_server", "local_path_provisioner"}
    for release, path in files.items():
        name, _ = load_release(path)
        assert name == f"sparklab_release_{release}", path.name
    for release, definition in definitions().items():
        missing = REQUIRED_KEYS - set(definition)
        assert not missing, f"{release} lacks {sorted(missing)}"


def test_every_release_has_a_reference_or_a_stated_reason() -> None:
    for release in definitions():
        assert (release in REFERENCES) != (release in NO_REFERENCE), (
            f"{release}: map it to a folder of {REFERENCE_DIR} in REFERENCES, or list it in NO_REFERENCE "
            "with the reason it cannot be checked"
        )
    for release, reason in NO_REFERENCE.items():
        assert len(reason) > 40, f"{release}: give a real reason"


@pytest.mark.parametrize(("release", "variant"), cases())
def test_release_values_keys_exist_in_reference_values_yaml(
    release: str, variant: str, tmp_path: Path
) -> None:
    folder = REFERENCE_DIR / REFERENCES[release][variant]
    reference = yaml.safe_load((folder / "values.yaml").read_text())
    definition = rendered(release, variant, tmp_path)
    assert definition["values"], f"{release} sets no values"
    assert unknown_keys(release, definition["values"], reference) == []


@pytest.mark.parametrize("release", sorted(NO_REFERENCE))
def test_release_without_reference_is_not_key_checked_but_renders(release: str, tmp_path: Path) -> None:
    # Its values keys are NOT compared with upstream (see NO_REFERENCE for why); this only proves
    # that the file, when present, renders and has its values as a mapping.
    if release not in definitions():
        pytest.fail(f"{release} is listed in NO_REFERENCE but has no release file: remove the entry")
    assert isinstance(rendered(release, "default", tmp_path)["values"], dict)


@pytest.mark.parametrize(("release", "variant"), cases())
def test_release_pins_the_chart_version_of_its_reference(release: str, variant: str, tmp_path: Path) -> None:
    definition = rendered(release, variant, tmp_path)
    assert str(definition["chart"]["version"]) == REFERENCE_CHART_VERSION[REFERENCES[release][variant]]
    if release == "kube_opex_analytics":
        assert definition["chart"]["git_tag"] == variant


def test_keys_read_by_templates_are_really_absent_from_values_yaml() -> None:
    # An allow-list entry for a key that values.yaml declares would hide nothing but is still wrong.
    for (release, prefix), reason in KEYS_READ_BY_TEMPLATES.items():
        assert reason
        for folder in REFERENCES[release].values():
            reference = yaml.safe_load((REFERENCE_DIR / folder / "values.yaml").read_text())
            assert not path_in_reference(prefix, reference), f"{prefix} is declared in {folder}"


def test_key_check_flags_keys_the_chart_does_not_have() -> None:
    reference = yaml.safe_load((REFERENCE_DIR / "kube-opex-analytics-25.10.1" / "values.yaml").read_text())
    values = {"service": {"type": "NodePort", "nodePort": 30080}, "dataVolume": {"persist": True}}
    assert unknown_keys("kube_opex_analytics", values, reference) == ["service.nodePort"]
    # Only the listed envs keys pass: a misspelt variable is reported like any unknown key.
    envs = {"envs": {"KOA_POLLING_INTERVAL_SEC": "300", "KOA_POLING_INTERVAL_SEC": "300"}}
    assert unknown_keys("kube_opex_analytics", envs, reference) == ["envs.KOA_POLING_INTERVAL_SEC"]
    spark = yaml.safe_load((REFERENCE_DIR / "spark-operator-2.5.2" / "values.yaml").read_text())
    assert unknown_keys("spark_operator", {"sparkJobNamespaces": ["x"]}, spark) == ["sparkJobNamespaces"]
    # Free-form maps (empty in values.yaml) take any sub-key.
    assert (
        unknown_keys("spark_operator", {"controller": {"resources": {"limits": {"memory": "1Gi"}}}}, spark)
        == []
    )
