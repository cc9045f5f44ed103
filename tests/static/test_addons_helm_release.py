"""The helm_release role, run for real against a stand-in helm binary and a local git repository.

What is proved here: the role's argument specs load and reject bad input, a chart is checked out
from git at a tag and its version checked, kubernetes.core.helm is called with the options the
release data asks for, and a second run changes nothing. What helm then does on a cluster is not.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from addons_render import run_playbook, task_results

pytestmark = pytest.mark.xdist_group("addons_helm_release")

PLAYBOOK = """
- name: Exercise the helm_release role
  hosts: localhost
  gather_facts: false
  vars:
    job_namespace: jobs
    common: &common
      helm_release_kubeconfig: "{base}/kubeconfig"
      helm_release_binary_path: "{base}/bin/helm"
      helm_release_chart_cache_dir: "{base}/cache"
      helm_release_install_git: false
  tasks:
    - name: Install the release from a git tag
      ansible.builtin.include_role:
        name: sparklab.cluster.helm_release
      vars:
        <<: *common
        helm_release_name: dash
        helm_release_namespace: dash-ns
        helm_release_chart_git_url: "file://{base}/upstream"
        helm_release_chart_git_version: v1.2.3
        helm_release_chart_ref: manifests/helm
        helm_release_chart_version: 1.2.0
        helm_release_values:
          image:
            version: "1.2.0"
          envs:
            KOA_POLLING_INTERVAL_SEC: "300"

    - name: Install the release from a Helm repository
      ansible.builtin.include_role:
        name: sparklab.cluster.helm_release
      vars:
        <<: *common
        # The shape of a playbooks/vars/releases/<release>.yml definition.
        helm_release_definition:
          name: ops
          namespace: ops-ns
          chart_repo_url: https://charts.example.invalid/ops
          chart_ref: ops-chart
          chart_version: 2.5.2
          atomic: false
          timeout: 7m0s
          values:
            spark:
              jobNamespaces: ["{{{{ job_namespace }}}}"]

    - name: Try a git chart whose version differs from the expected one
      block:
        - name: Install the mismatching git chart
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release_name: wrong
            helm_release_chart_git_url: "file://{base}/upstream"
            helm_release_chart_git_version: v1.2.3
            helm_release_chart_ref: manifests/helm
            helm_release_chart_version: 9.9.9
      rescue:
        - name: Record the version mismatch failure
          ansible.builtin.set_fact:
            mismatch_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a release with two chart sources
      block:
        - name: Install the release with two sources
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release_name: both
            helm_release_chart_ref: x
            helm_release_chart_repo_url: https://charts.example.invalid/x
            helm_release_chart_git_url: "file://{base}/upstream"
            helm_release_chart_git_version: v1.2.3
      rescue:
        - name: Record the two-sources failure
          ansible.builtin.set_fact:
            two_sources_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a release with a wrongly typed option
      block:
        - name: Install the release with a bad type
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release_name: typed
            helm_release_chart_ref: ./chart
            helm_release_values: not-a-dict
      rescue:
        - name: Record the argument spec failure
          ansible.builtin.set_fact:
            spec_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Show the recorded failures
      ansible.builtin.debug:
        msg:
          mismatch: "{{{{ mismatch_msg | default('') }}}}"
          two_sources: "{{{{ two_sources_msg | default('') }}}}"
          spec: "{{{{ spec_msg | default('') }}}}"
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("helm_release")
    chart = base / "upstream" / "manifests" / "helm"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v1\nname: dash-chart\nversion: 1.2.0\nappVersion: '1.0'\n")
    git(base / "upstream", "init", "-q", "-b", "main")
    git(base / "upstream", "add", ".")
    git(base / "upstream", "commit", "-q", "-m", "chart")
    git(base / "upstream", "tag", "v1.2.3")
    (base / "bin").mkdir()
    helm = base / "bin" / "helm"
    shutil.copy(Path(__file__).with_name("fake_helm.py"), helm)
    helm.write_text(helm.read_text().replace("#!/usr/bin/env python3", f"#!{sys.executable}", 1))
    helm.chmod(0o755)
    (base / "kubeconfig").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": []}))
    (base / "site.yml").write_text(textwrap.dedent(PLAYBOOK).format(base=base))
    return base


@pytest.fixture(scope="module")
def runs(workspace: Path) -> tuple[dict, dict]:
    # ansible_become=false: the role asks for root on real nodes; here the test already is the user.
    args = ("-e", "ansible_become=false")
    first = run_playbook(workspace / "site.yml", workspace, *args)
    second = run_playbook(workspace / "site.yml", workspace, *args)
    return first, second


def releases(workspace: Path) -> dict:
    return yaml.safe_load((workspace / "bin" / "releases.json").read_text())


def test_helm_release_first_run_installs_both_releases(runs: tuple[dict, dict], workspace: Path) -> None:
    first, _ = runs
    assert first["rc"] == 0, first["stderr"]
    state = releases(workspace)
    assert set(state) == {"dash", "ops"}
    assert state["dash"]["status"]["chart"] == "dash-chart-1.2.0"
    assert state["ops"]["status"]["chart"] == "ops-chart-2.5.2"
    assert state["dash"]["kubeconfig_set"] and state["ops"]["kubeconfig_set"]


def test_helm_release_checks_out_git_chart_at_tag_into_cache(
    runs: tuple[dict, dict], workspace: Path
) -> None:
    checkout = workspace / "cache" / "local" / str(workspace / "upstream").lstrip("/") / "v1.2.3"
    assert (checkout / "manifests" / "helm" / "Chart.yaml").is_file()
    argv = releases(workspace)["dash"]["argv"]
    assert argv[-1] == str(checkout / "manifests" / "helm")
    assert "--version" not in " ".join(argv), "a chart folder is installed as is, without --version"


def test_helm_release_passes_namespace_values_wait_atomic_timeout(
    runs: tuple[dict, dict], workspace: Path
) -> None:
    state = releases(workspace)
    dash, ops = state["dash"], state["ops"]
    assert dash["status"]["namespace"] == "dash-ns"
    assert dash["values"] == {"image": {"version": "1.2.0"}, "envs": {"KOA_POLLING_INTERVAL_SEC": "300"}}
    dash_cmd = " ".join(dash["argv"])
    for option in ("--wait", "--atomic", "--create-namespace", "--timeout 10m0s"):
        assert option in dash_cmd
    ops_cmd = " ".join(ops["argv"])
    assert "--repo=https://charts.example.invalid/ops" in ops_cmd
    assert "--version=2.5.2" in ops_cmd
    assert "--timeout 7m0s" in ops_cmd
    assert "--atomic" not in ops_cmd
    assert ops["values"] == {"spark": {"jobNamespaces": ["jobs"]}}


def test_helm_release_rejects_wrong_chart_version_two_sources_and_bad_types(runs: tuple[dict, dict]) -> None:
    first, _ = runs
    (shown,) = task_results(first, "Show the recorded failures")
    msgs = shown["msg"]
    assert "holds chart version 1.2.0" in msgs["mismatch"] and "not 9.9.9" in msgs["mismatch"]
    assert "at most one of" in msgs["two_sources"]
    assert "helm_release_values" in msgs["spec"]


def test_helm_release_second_run_changes_nothing(runs: tuple[dict, dict], workspace: Path) -> None:
    first, second = runs
    assert second["rc"] == 0, second["stderr"]
    assert first["stats"]["localhost"]["changed"] >= 3
    assert second["stats"]["localhost"]["changed"] == 0
    upgrades = [
        line
        for line in (workspace / "bin" / "calls.log").read_text().splitlines()
        if " upgrade " in line or line.startswith("upgrade")
    ]
    assert len(upgrades) == 2, "each release is deployed once; the second run only compares"
