"""cluster.yml, addons.yml and wordcount.yml end to end through real Ansible on systemd node containers.

One control plane and two workers (tests/harness/nodes.py: Debian 12 systemd containers prepared as
nodes.yml leaves a node, over Ansible's docker connection) with stand-in kubeadm, kubelet, kubectl
and helm (tests/harness/standins) against the in-memory API server on the test's docker network.

Proves about our code: every task of the three playbooks runs in order with the real modules and
kubernetes.core (variable scope, module arguments, registered results, the output our roles parse,
the files kubeadm writes and when); a kubeadm init that fails after writing admin.conf is reset and
the next run resumes; a failed Helm release resumes on the next run; a second run of cluster.yml and
of addons.yml changes nothing (apart from the git chart checkouts, see below); WordCount runs with
the kubeconfig that cluster.yml fetched. Only a real cluster proves that Kubernetes, the CNI, the
charts, the dashboard and Spark work: see the end-to-end test on AWS (tests/e2e).

The git chart checkouts are excluded from the no-change check: the harness reaches its local chart
repositories through git's ``insteadOf``, and ``ansible.builtin.git`` compares the remote URL it
reads back (rewritten) with the one it was given (GitHub) and resets it on every run.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time

import pytest
import yaml
from cluster_fixtures import api_server
from nodes import node_containers, prepare_nodes
from playbook_run import cluster_config, run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster-harness")]
HARNESS_ONLY_CHANGES = re.compile(r"git \| Check out the chart repository")


def changed_tasks(stdout: str) -> list[str]:
    """Names of the tasks that reported a change, from the default callback's output."""
    names, task = [], ""
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[6 : line.rfind("]")]
        elif line.startswith("changed:") and task not in names:
            names.append(task)
    return names


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    with node_containers(folder) as nodeset, api_server(folder, host=nodeset.gateway) as server:
        prepare_nodes(
            nodeset, server.url, server.pki.ca_cert.read_bytes(), server.pki.ca_key.read_bytes(), folder
        )
        extra = {
            **cluster_config(),
            **nodeset.release_overrides,
            "helm_download_base_url": "file:///opt/sparklab-harness/dl",
            "helm_checksums": {"linux-amd64": nodeset.helm_sha256},
            "helm_release_install_git": False,
            "kubeconfig_fetch_server_address": nodeset.gateway,
            "kubeconfig_fetch_api_server_port": server.port,
        }
        inventory = nodeset.inventory(folder / "hosts.yml")
        home = folder / "home"

        def play(name: str, **more):
            started = time.monotonic()
            result = run_playbook(
                f"playbooks/{name}.yml",
                inventory,
                {**extra, **more},
                env={"SPARKLAB_HOME": str(home)},
                workdir=folder / "work",
                timeout=2400,
            )
            print(
                f"{name}: rc {result.returncode}, changed {result.changed}, "
                f"{time.monotonic() - started:.0f} s"
            )
            return result

        yield nodeset, server, play, home


def test_cluster_phase_resumes_after_a_failed_init_then_repeats_without_change(harness):
    nodeset, server, play, home = harness
    control_plane = nodeset.nodes[0]
    # kubeadm init fails in its addons phase, long after its kubeconfig phase wrote admin.conf.
    nodeset.write(control_plane, "/etc/sparklab-harness/kubeadm-fail-phase", "addons")
    failed = play("cluster")
    assert failed.returncode == 2, failed.tail()
    assert "kubeadm init failed" in failed.stdout and "The node was reset" in failed.stdout, failed.tail()
    assert nodeset.exec(control_plane, "ls", "/etc/kubernetes").count("admin.conf") == 0

    first = play("cluster")
    assert first.returncode == 0, first.tail()
    nodes = server.cluster.list(server.cluster.kind("nodes"), None)
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(n.name for n in nodeset.nodes)
    csrs = server.cluster.list(server.cluster.kind("certificatesigningrequests"), None)
    serving = [c for c in csrs if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving"]
    signed = {c["spec"]["username"] for c in serving if c.get("status", {}).get("certificate")}
    assert signed == {f"system:node:{n.name}" for n in nodeset.nodes}
    kubeconfig = home / "harness" / "kubeconfig"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == server.url

    second = play("cluster")
    assert second.returncode == 0, second.tail()
    unexpected = [t for t in changed_tasks(second.stdout) if not HARNESS_ONLY_CHANGES.search(t)]
    assert unexpected == [], second.tail()


def test_addons_phase_resumes_after_a_failed_release_then_repeats_without_change(harness):
    nodeset, server, play, _home = harness
    nodeset.write(nodeset.nodes[0], "/etc/sparklab-harness/helm-fail-release", "kube-opex-analytics")
    failed = play("addons")
    assert failed.returncode == 2, failed.tail()
    assert "kube-opex-analytics" in failed.stdout

    first = play("addons")
    assert first.returncode == 0, first.tail()
    assert f"http://{nodeset.nodes[0].ip}:30080/" in first.stdout
    service = server.cluster.get(
        server.cluster.kind("services"), "kube-opex-analytics", "kube-opex-analytics-dashboard"
    )
    assert service["spec"]["ports"][0]["nodePort"] == 30080
    assert server.cluster.get(server.cluster.kind("serviceaccounts"), "spark-jobs", "spark-operator-spark")

    second = play("addons")
    assert second.returncode == 0, second.tail()
    unexpected = [t for t in changed_tasks(second.stdout) if not HARNESS_ONLY_CHANGES.search(t)]
    assert unexpected == [], second.tail()


def test_wordcount_runs_with_the_fetched_kubeconfig(harness):
    _nodeset, _server, play, home = harness
    result = play(
        "wordcount",
        spark_wordcount_generate="1MiB",
        spark_wordcount_poll_seconds=1,
        spark_wordcount_run_id="20261130-130000-cd34",
    )
    assert result.returncode == 0, result.tail()
    run = home / "harness" / "runs" / "20261130-130000-cd34"
    assert json.loads((run / "job.json").read_text())["state"] == "COMPLETED"
    assert json.loads((run / "result.json").read_text())["top"][0] == ["the", 200]
    assert os.path.getsize(run / "driver.log") > 0
