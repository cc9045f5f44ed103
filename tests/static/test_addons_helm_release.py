"""The helm_release role, run for real: kubernetes.core.helm 6.6 drives a stand-in for the
cluster-facing part of helm (tests/static/fake_helm.py), which hands ``version`` and ``show chart``
to the real helm 4.1.4, so the module takes its Helm 4 code paths and every chart name and version
comes from the chart itself.

Chart sources are real: a chart archive made by ``helm package`` and served by an HTTP server on
127.0.0.1 (downloaded and checked against its SHA-256), and a local git repository (checked out at a
tag, checked against the pinned commit and the Chart.yaml name and version).

What is proved here: the argument spec takes one typed release and refuses bad ones, each source
is fetched and verified, kubernetes.core.helm is called with the namespace, values and flags the
release and the role defaults ask for, and a second run changes nothing. What helm then does on a
cluster is not.
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from addons_render import run_playbook, task_results
from helm_binary import helm_binary

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
        helm_release:
          name: dash
          namespace: dash-ns
          chart:
            name: dash-chart
            version: 1.2.0
            git_url: "file://{base}/upstream"
            git_tag: v1.2.3
            git_commit: "{commit}"
            path: manifests/helm
          values:
            image:
              version: "1.2.0"
            envs:
              KOA_POLLING_INTERVAL_SEC: "300"

    - name: Install the release from a chart archive
      ansible.builtin.include_role:
        name: sparklab.cluster.helm_release
      vars:
        <<: *common
        helm_release:
          name: ops
          namespace: ops-ns
          chart:
            name: ops-chart
            version: 2.5.2
            archive_url: "{url}/charts/ops-chart-2.5.2.tgz"
            sha256: "{sha256}"
          atomic: false
          timeout: 7m0s
          values:
            spark:
              jobNamespaces: ["{{{{ job_namespace }}}}"]

    - name: Try an archive whose SHA-256 differs from the pinned one
      block:
        - name: Install the tampered archive
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release:
              name: tampered
              namespace: ops-ns
              chart:
                name: ops-chart
                version: 2.5.2
                archive_url: "{url}/charts/ops-chart-2.5.2.tgz"
                sha256: "{bad_sha256}"
      rescue:
        - name: Record the checksum failure
          ansible.builtin.set_fact:
            checksum_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a git chart whose version differs from the expected one
      block:
        - name: Install the mismatching git chart
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release:
              name: wrong
              namespace: default
              chart: {{name: dash-chart, version: 9.9.9, git_url: "file://{base}/upstream", git_tag: v1.2.3,
                      git_commit: "{commit}", path: manifests/helm}}
      rescue:
        - name: Record the version mismatch failure
          ansible.builtin.set_fact:
            mismatch_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a git tag that no longer points to the pinned commit
      block:
        - name: Install the moved tag
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release:
              name: moved
              namespace: default
              chart: {{name: dash-chart, version: 1.2.0, git_url: "file://{base}/upstream", git_tag: v1.2.3,
                      git_commit: "{other_commit}", path: manifests/helm}}
      rescue:
        - name: Record the moved tag failure
          ansible.builtin.set_fact:
            moved_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a release with two chart sources
      block:
        - name: Install the release with two sources
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release:
              name: both
              namespace: default
              chart: {{name: x, version: "1", ref: ./chart, archive_url: "{url}/x.tgz", sha256: "{sha256}"}}
      rescue:
        - name: Record the two-sources failure
          ansible.builtin.set_fact:
            two_sources_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Try a release with a wrongly typed option and an unknown key
      block:
        - name: Install the release with a bad type
          ansible.builtin.include_role:
            name: sparklab.cluster.helm_release
          vars:
            <<: *common
            helm_release:
              name: typed
              namespace: default
              chart: {{name: x, version: "1", ref: ./chart}}
              values: not-a-dict
              chart_ref: ./chart
      rescue:
        - name: Record the argument spec failure
          ansible.builtin.set_fact:
            spec_msg: "{{{{ ansible_failed_result.msg }}}}"

    - name: Show the recorded failures
      ansible.builtin.debug:
        msg:
          checksum: "{{{{ checksum_msg | default('') }}}}"
          mismatch: "{{{{ mismatch_msg | default('') }}}}"
          moved: "{{{{ moved_msg | default('') }}}}"
          two_sources: "{{{{ two_sources_msg | default('') }}}}"
          spec: "{{{{ spec_msg | default('') }}}}"
"""


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


class ChartServer(http.server.SimpleHTTPRequestHandler):
    gets: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        type(self).gets.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("chart-server")
    (root / "charts").mkdir()
    ChartServer.gets = []

    def handler(*args: object) -> ChartServer:
        return ChartServer(*args, directory=str(root))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, chart_server: tuple[str, Path]) -> Path:
    url, served = chart_server
    base = tmp_path_factory.mktemp("helm_release")
    # A git repository holding a chart folder, tagged.
    chart = base / "upstream" / "manifests" / "helm"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dash-chart\nversion: 1.2.0\nappVersion: '1.0'\n")
    git(base / "upstream", "init", "-q", "-b", "main")
    git(base / "upstream", "add", ".")
    git(base / "upstream", "commit", "-q", "-m", "chart")
    git(base / "upstream", "tag", "v1.2.3")
    commit = git(base / "upstream", "rev-parse", "v1.2.3^{commit}")
    # A chart archive made by the real helm, served on 127.0.0.1.
    source = base / "ops-chart"
    (source / "templates").mkdir(parents=True)
    (source / "Chart.yaml").write_text(
        "apiVersion: v2\nname: ops-chart\nversion: 2.5.2\nappVersion: '2.5.2'\n"
    )
    subprocess.run(
        [str(helm_binary()), "package", str(source), "-d", str(served / "charts")],
        check=True,
        capture_output=True,
    )
    archive = served / "charts" / "ops-chart-2.5.2.tgz"
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    # The stand-in helm, next to which it keeps its state.
    (base / "bin").mkdir()
    helm = base / "bin" / "helm"
    shutil.copy(Path(__file__).with_name("fake_helm.py"), helm)
    helm.write_text(helm.read_text().replace("#!/usr/bin/env python3", f"#!{sys.executable}", 1))
    helm.chmod(0o755)
    (base / "kubeconfig").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": []}))
    (base / "site.yml").write_text(
        textwrap.dedent(PLAYBOOK).format(
            base=base,
            url=url,
            commit=commit,
            other_commit="0" * 40,
            sha256=sha256,
            bad_sha256="f" * 64,
        )
    )
    (base / "sha256").write_text(sha256)
    return base


@pytest.fixture(scope="module")
def runs(workspace: Path) -> tuple[dict, dict]:
    # ansible_become=false: the role asks for root on real nodes; here the test already is the user.
    args = ("-e", "ansible_become=false")
    env = {"SPARKLAB_REAL_HELM": str(helm_binary())}
    first = run_playbook(workspace / "site.yml", workspace, *args, env=env)
    second = run_playbook(workspace / "site.yml", workspace, *args, env=env)
    return first, second


def releases(workspace: Path) -> dict:
    return yaml.safe_load((workspace / "bin" / "releases.json").read_text())


def test_helm_release_installs_both_releases_with_the_charts_helm_reads(
    runs: tuple[dict, dict], workspace: Path
) -> None:
    first, _ = runs
    assert first["rc"] == 0, first["stderr"]
    state = releases(workspace)
    assert set(state) == {"dash", "ops"}
    # "<name>-<version>" as the real `helm show chart` read them from the checkout and the archive.
    assert state["dash"]["status"]["chart"] == "dash-chart-1.2.0"
    assert state["ops"]["status"]["chart"] == "ops-chart-2.5.2"
    assert state["ops"]["status"]["app_version"] == "2.5.2"
    assert state["dash"]["kubeconfig_set"] and state["ops"]["kubeconfig_set"]


def test_helm_release_checks_out_git_chart_at_tag_into_cache(
    runs: tuple[dict, dict], workspace: Path
) -> None:
    checkout = workspace / "cache" / "local" / str(workspace / "upstream").lstrip("/") / "v1.2.3"
    assert (checkout / "manifests" / "helm" / "Chart.yaml").is_file()
    argv = releases(workspace)["dash"]["argv"]
    assert argv[-1] == str(checkout / "manifests" / "helm")
    assert "--version" not in " ".join(argv), "a chart folder is installed as is, without --version"


def test_helm_release_installs_the_verified_archive_from_the_cache(
    runs: tuple[dict, dict], workspace: Path, chart_server: tuple[str, Path]
) -> None:
    sha256 = (workspace / "sha256").read_text()
    cached = workspace / "cache" / "archives" / sha256 / "ops-chart-2.5.2.tgz"
    assert cached.is_file()
    argv = releases(workspace)["ops"]["argv"]
    assert argv[-1] == str(cached)
    assert not any(a.startswith("--repo") for a in argv)
    # Two runs, one download: the second run finds the archive with the right digest in place.
    # (The tampered release asks for the same URL with another digest, twice.)
    assert ChartServer.gets.count("/charts/ops-chart-2.5.2.tgz") == 1 + 2


def test_helm_release_passes_namespace_values_and_helm_4_flags(
    runs: tuple[dict, dict], workspace: Path
) -> None:
    state = releases(workspace)
    dash, ops = state["dash"], state["ops"]
    assert dash["status"]["namespace"] == "dash-ns"
    assert dash["values"] == {"image": {"version": "1.2.0"}, "envs": {"KOA_POLLING_INTERVAL_SEC": "300"}}
    dash_cmd = " ".join(dash["argv"])
    # Role defaults: wait, atomic (Helm 4 spells it --rollback-on-failure), create the namespace, 10m0s.
    for option in ("--wait", "--rollback-on-failure", "--create-namespace", "--timeout 10m0s"):
        assert option in dash_cmd
    assert "--atomic" not in dash_cmd, "Helm 4 has no --atomic"
    ops_cmd = " ".join(ops["argv"])
    assert "--timeout 7m0s" in ops_cmd
    assert "--rollback-on-failure" not in ops_cmd, "the release's atomic: false wins over the default"
    assert ops["values"] == {"spark": {"jobNamespaces": ["jobs"]}}


def test_helm_release_refuses_bad_digest_version_moved_tag_two_sources_and_bad_types(
    runs: tuple[dict, dict],
) -> None:
    first, _ = runs
    (shown,) = task_results(first, "Show the recorded failures")
    msgs = shown["msg"]
    assert "checksum" in msgs["checksum"].lower() and "f" * 64 in msgs["checksum"]
    assert (
        "holds chart dash-chart version 1.2.0" in msgs["mismatch"]
        and "not dash-chart 9.9.9" in msgs["mismatch"]
    )
    assert "not the pinned " + "0" * 40 in msgs["moved"] and "the tag moved upstream" in msgs["moved"]
    assert "mutually exclusive: archive_url|git_url|ref" in msgs["two_sources"]
    assert "'values' is of type str" in msgs["spec"] and "helm_release.chart_ref" in msgs["spec"]
    assert set(releases_names(first)) <= {"dash", "ops"}


def releases_names(result: dict) -> list[str]:
    return [
        h["invocation"]["module_args"]["release_name"]
        for h in task_results(result, "release | Install or upgrade the Helm release")
        if "invocation" in h
    ]


def test_helm_release_second_run_changes_nothing(runs: tuple[dict, dict], workspace: Path) -> None:
    first, second = runs
    assert second["rc"] == 0, second["stderr"]
    assert first["stats"]["localhost"]["changed"] >= 4
    assert second["stats"]["localhost"]["changed"] == 0
    upgrades = [
        line
        for line in (workspace / "bin" / "calls.log").read_text().splitlines()
        if " upgrade " in line or line.startswith("upgrade")
    ]
    assert len(upgrades) == 2, "each release is deployed once; the second run only compares"
