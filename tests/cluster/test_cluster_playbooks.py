"""nodes.yml, cluster.yml, addons.yml and wordcount.yml end to end through real Ansible on systemd
node containers.

One control plane and two workers (tests/harness/nodes.py: systemd containers of the molecule base
images, over Ansible's docker connection, logged in as ``ubuntu`` with passwordless sudo as on the
AMI: the inventory is the aws_ec2 plugin's recorded host variables next to the repository's
inventory/group_vars, so only ``become`` makes a task root). nodes.yml installs containerd from the
Debian archive and the Kubernetes packages from a local repository whose packages carry the stand-in
kubeadm and kubelet (tests/harness/standins) and the real kubectl 1.35; the helm role installs the
real Helm 4.1.4 (tests/helpers/helm_binary.py) from a local tarball; all of them talk to the
in-memory API server on the test's docker network, which validates what they write
(tests/harness/kube_schema.py).
The role variables the harness sets in place of product defaults (local mirrors, the stand-in API
server's address) are listed with their reasons in docs/testing.md.
The module runs twice: on Debian 12 (bookworm) and on Debian 13 (trixie). On Debian 12 each phase
is one ansible-playbook run: it first meets an injected failure and the next run resumes. On Debian
13 the first pass of nodes.yml, cluster.yml and addons.yml is runner.py's own sequence: the phases
of ``up`` after provision in one ``bridge.run_phases`` (tests/harness/runner_phases.py: ansible-runner
with the RunSpec that ``run_playbooks`` builds, the configuration loaded by the product, its vars
file, environment, progress and run folder, and the harness's inventory); then each phase runs again
by ansible-playbook. So the second distribution adds no failure runs.

Proves about our code: every task of the four playbooks runs in order with the real modules and
kubernetes.core (variable scope, module arguments, registered results, the output our roles parse,
the files kubeadm writes and when) on both distributions; a node phase cut off by an unreachable
package repository resumes on the next run; a kubeadm init that fails after writing admin.conf is
reset and the next run resumes; a Helm release that the API server refuses once is rolled back by
Helm and installed on the next run; every pinned chart installs as published, with kubernetes.core's
argv, on the real Helm with --wait; a second run of nodes.yml, cluster.yml and addons.yml reports no
change at all; runner.py's sequence runs the node phases of ``up`` in order, each successful with
its log in the run folder and its start and end shown by the progress; a WordCount whose driver
failed is followed by one that completes; WordCount runs with the kubeconfig that cluster.yml
fetched; a task that needs root but lost its ``become`` (in a copy of the product) fails, naming the
task and the file it could not read; a helm flag Helm 4 does not have (in a copy of the product)
fails, naming the flag. Only a real cluster proves that Kubernetes, the CNI, the charts, the
dashboard and Spark work: see the end-to-end test on AWS (tests/e2e).
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cluster_fixtures import api_server
from kube_api import ApiServer
from models import SparkOperatorModel
from nodes import K8S_REPO_DIR, NODES_TEST, NodeSet, node_containers, prepare_nodes
from playbook_run import PlaybookResult, cluster_config, failed_tasks, product_copy, run_playbook, workdir_env
from runner_phases import NODE_PHASES, UpRun, run_up_node_phases

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster-harness")]

_REFS = importlib.util.spec_from_file_location(
    "image_refs", Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "image_refs.py"
)
image_refs = importlib.util.module_from_spec(_REFS)
_REFS.loader.exec_module(image_refs)  # type: ignore[union-attr]
IMAGES_YML = Path(__file__).resolve().parents[2] / "playbooks" / "vars" / "images.yml"
PULLED = "/var/lib/sparklab-harness/images"  # where the stand-in crictl stores what it pulled
SPARK = next(r for r in image_refs.deployed_references(IMAGES_YML) if r.startswith("docker.io/apache/spark"))


@dataclass(frozen=True)
class Distribution:
    suite: str  # the molecule base image: scripts/build-base-image.sh SUITE
    inject_failures: bool  # each phase first fails on purpose and the next run resumes


DISTRIBUTIONS = [
    pytest.param(Distribution("bookworm", inject_failures=True), id="debian12-with-injected-failures"),
    pytest.param(Distribution("trixie", inject_failures=False), id="debian13"),
]


@dataclass
class Harness:
    nodeset: NodeSet
    server: ApiServer
    operator: SparkOperatorModel
    play: Callable[..., PlaybookResult]
    home: Path
    distribution: Distribution
    inventory: Path
    extra: dict
    up: Callable[[], UpRun]  # the node phases of `up`, run once through bridge.run_phases

    def first_run(self, name: str) -> PlaybookResult:
        """The run of phase ``name`` that completes it first: on Debian 13 that phase of the
        product's own sequence (``up`` runs once, at the first call, every phase after provision
        through bridge.run_phases), on Debian 12 one ansible-playbook run after its injected
        failure."""
        if self.distribution.inject_failures:
            return self.play(name)
        return self.up().phase(name)


def record_timing(path: Path, suite: str, playbook: str, result: PlaybookResult, seconds: int) -> None:
    """One playbook run's seconds, appended to ``path`` (a JSON list) and, when the environment names
    one, to ``$SPARKLAB_HARNESS_TIMINGS``: Ansible's own work per phase, one input of the
    critical-path model in docs/performance.md."""
    entry = {"suite": suite, "playbook": playbook, "rc": result.returncode, "changed": result.changed,
             "seconds": seconds}
    for target in filter(None, (path, os.environ.get("SPARKLAB_HARNESS_TIMINGS"))):
        target = Path(target)
        runs = json.loads(target.read_text()) if target.exists() else []
        target.write_text(json.dumps([*runs, entry], indent=1) + "\n")


def changed_tasks(stdout: str) -> list[str]:
    """Names of the tasks that reported a change, from the default callback's output."""
    names, task = [], ""
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[6 : line.rfind("]")]
        elif line.startswith("changed:") and task not in names:
            names.append(task)
    return names


@pytest.fixture(scope="module", params=DISTRIBUTIONS)
def harness(request, tmp_path_factory):
    distribution: Distribution = request.param
    folder = tmp_path_factory.mktemp(f"cluster-{distribution.suite}")
    operator = SparkOperatorModel(run_seconds=2)
    with (
        node_containers(folder, suite=distribution.suite) as nodeset,
        api_server(folder, host=nodeset.gateway, operator=operator) as server,
    ):
        prepare_nodes(
            nodeset,
            server.url,
            server.pki.ca_cert.read_bytes(),
            server.pki.ca_key.read_bytes(),
            folder,
            suite=distribution.suite,
        )
        config = cluster_config()
        # The overrides of product defaults, each listed with its reason in docs/testing.md.
        overrides = {
            # The local repository of stand-in packages (tests/harness/nodes.py: kubernetes_repo).
            "kubernetes_packages_repo_url": f"file:{K8S_REPO_DIR}/",
            "kubernetes_packages_key_fetch": False,
            "kubernetes_packages_repo_trusted": True,
            "kubernetes_packages_cni_version": NODES_TEST["nodes_test_cni_version"],
            **nodeset.release_overrides,
            "helm_download_base_url": "file:///opt/sparklab-harness/dl",
            "helm_checksums": {"linux-amd64": nodeset.helm_sha256},
            "helm_release_install_git": False,
            "kubeconfig_fetch_server_address": nodeset.gateway,
            "kubeconfig_fetch_api_server_port": server.port,
        }
        # No Debian archive carries a containerd that containerd's support table lists for Kubernetes
        # 1.37 (2.3 or 2.2): Debian 12 has 1.6.20, Debian 13 gets 2.1.9 from forky. The role's
        # test-only switch, as in the molecule scenarios; the check itself is
        # tests/nodes/test_containerd_version_check.py.
        overrides["containerd_minimum_version_check"] = False
        extra = {**config, **overrides}
        inventory = nodeset.inventory(folder / "inventory" / "hosts.yml")
        home = folder / "home"
        up_runs: list[UpRun] = []

        def play(name: str, env: dict[str, str] | None = None, **more) -> PlaybookResult:
            started = time.monotonic()
            result = run_playbook(
                f"playbooks/{name}.yml",
                inventory,
                {**extra, **more},
                env={"SPARKLAB_HOME": str(home), **(env or {})},
                workdir=folder / "work",
                timeout=2400,
            )
            seconds = round(time.monotonic() - started)
            print(f"[{distribution.suite}] {name}: rc {result.returncode}, changed {result.changed}, "
                  f"{seconds} s")
            record_timing(folder / "harness-timings.json", distribution.suite, name, result, seconds)
            return result

        def up() -> UpRun:
            if not up_runs:
                env = {"SPARKLAB_HOME": str(home), **workdir_env(folder / "work")}
                run = run_up_node_phases(config, overrides, inventory, env, folder)
                print(f"[{distribution.suite}] up ({', '.join(p.phase.name for p in run.result.phases)}): "
                      f"{'ok' if run.result.ok else 'failed'}, {run.seconds} s")
                for phase in run.result.phases:
                    result = run.phase(phase.phase.name)
                    seconds = run.progress.seconds.get(phase.phase.name, 0)
                    record_timing(folder / "harness-timings.json", distribution.suite, phase.phase.name,
                                  result, seconds)
                up_runs.append(run)
            return up_runs[0]

        yield Harness(nodeset, server, operator, play, home, distribution, inventory, extra, up)


def assert_node_phases_of_up_completed(harness: Harness, run: UpRun) -> None:
    """What runner.py's sequence reports for the node phases of ``up``: every phase of
    ``bridge.PHASES["up"]`` after provision, in that order, successful with exit code 0 and no failure,
    each in the run folder's ``artifacts/NN-<phase>`` (numbered from 1) with its full log; the run
    folder is the cluster's; the progress saw each phase start and end, in order."""
    result = run.result
    idents = [f"{index:02d}-{phase.name}" for index, phase in enumerate(NODE_PHASES, 1)]
    assert [p.name for p in NODE_PHASES] == ["nodes", "cluster", "addons"]
    assert result.ok and not result.canceled, run.progress.text()[-4000:]
    assert [p.phase for p in result.phases] == list(NODE_PHASES)
    assert [(p.status, p.rc, p.failures) for p in result.phases] == [("successful", 0, [])] * len(idents)
    assert [p.artifact_dir for p in result.phases] == [result.run_dir / "artifacts" / i for i in idents]
    for phase in result.phases:
        assert "PLAY RECAP" in (phase.artifact_dir / "stdout").read_text(), phase.artifact_dir
    assert result.run_dir.parent == harness.home / "harness" / "runs"
    assert run.progress.seen == [seen for i in idents for seen in (("start", i), ("successful", i))]


def pulled_when_done(harness: Harness, node) -> list[str]:
    """The references the stand-in crictl pulled on ``node``, once the background pull has ended."""
    deadline = time.monotonic() + 120
    while harness.nodeset.exec(node, "sh", "-c", "systemctl is-active sparklab-image-prepull || true") in (
        "active", "activating"
    ):
        assert time.monotonic() < deadline, "the background image pull did not end in 120 s"
        time.sleep(1)
    return harness.nodeset.exec(node, "sh", "-c", f"cat {PULLED} 2>/dev/null || true").split()


def test_nodes_phase_completes_then_repeats_without_change(harness: Harness):
    """Debian 12 first: the Kubernetes package repository is unreachable (moved away on every node),
    so the run stops at the package step after node_prep and containerd. Then (both distributions)
    the run completes: containerd runs, the pinned packages are installed and held with the stand-in
    programs in /usr/bin and kubelet enabled, and each node pulls in the background (a transient
    systemd unit) the images of the pin sites: the workers all of them, the digest-pinned ones by
    digest, the control plane the DaemonSet images only. On Debian 12 the Spark image's pull fails
    on one worker: the run still succeeds, the failure is in the node's result.json, and the next
    run starts the pull again. A second run changes nothing."""
    nodeset, play = harness.nodeset, harness.play
    worker = nodeset.nodes[1]
    if harness.distribution.inject_failures:
        for node in nodeset.nodes:
            nodeset.exec(node, "mv", K8S_REPO_DIR, f"{K8S_REPO_DIR}.offline")
        failed = play("nodes")
        for node in nodeset.nodes:
            nodeset.exec(node, "mv", f"{K8S_REPO_DIR}.offline", K8S_REPO_DIR)
        assert failed.returncode == 2, failed.tail()
        assert all(host["failed"] == 1 for host in failed.recap.values()), failed.tail()
        for node in nodeset.nodes:
            assert nodeset.exec(node, "systemctl", "is-active", "containerd") == "active"
            assert nodeset.exec(node, "sh", "-c", "command -v kubeadm || true") == ""
        nodeset.write(worker, "/etc/sparklab-harness/crictl-fail-pull", SPARK + "\n")

    said = "pulling 8 images on each worker and 2 on the control plane in the background"
    if harness.distribution.inject_failures:
        first = play("nodes", env={"ANSIBLE_VERBOSITY": "1"})  # -v: set_fact results are printed
        assert first.returncode == 0, first.tail()
        assert f"sparklab_progress: {said}" in " ".join(first.stdout.split()), first.tail()
    else:  # the product's sequence, whose progress shows the fact once, as a milestone
        first = harness.first_run("nodes")
        assert first.returncode == 0, first.tail()
        assert said in harness.up().progress.notes, harness.up().progress.text()[-4000:]
    workers_get = image_refs.deployed_references(IMAGES_YML)
    control_plane_gets = image_refs.deployed_references(IMAGES_YML, every_node_only=True)
    assert len(workers_get) == 8 and len(control_plane_gets) == 2
    assert any("@sha256:" in ref and ":v" not in ref for ref in workers_get)  # metrics-server, by digest
    if harness.distribution.inject_failures:
        assert pulled_when_done(harness, worker) == [r for r in workers_get if r != SPARK]
        result = json.loads(nodeset.exec(worker, "cat", "/var/lib/sparklab/image-prepull/result.json"))
        assert list(result["failed"]) == [SPARK] and "not found" in result["failed"][SPARK], result
        nodeset.exec(worker, "rm", "/etc/sparklab-harness/crictl-fail-pull")
        resumed = play("nodes")
        assert resumed.returncode == 0, resumed.tail()
        assert changed_tasks(resumed.stdout) == [
            "sparklab.cluster.image_prepull : start | Pull the missing images in the background"
        ]
        assert resumed.changed == 1, resumed.tail()
    for node in nodeset.nodes:
        expected = control_plane_gets if node is nodeset.nodes[0] else workers_get
        assert sorted(pulled_when_done(harness, node)) == sorted(expected), node.name
    for node in nodeset.nodes:
        assert nodeset.exec(node, "systemctl", "is-active", "containerd") == "active"
        assert nodeset.exec(node, "systemctl", "is-enabled", "kubelet") == "enabled"
        held = nodeset.exec(node, "apt-mark", "showhold").split()
        assert sorted(held) == ["cri-tools", "kubeadm", "kubectl", "kubelet", "kubernetes-cni"]
        cni = nodeset.exec(node, "dpkg-query", "--show", "--showformat=${Version}", "kubernetes-cni")
        assert cni == NODES_TEST["nodes_test_cni_version"]  # pinned although the repository has a newer one
        assert nodeset.exec(node, "readlink", "/usr/bin/kubeadm") == "/usr/local/lib/sparklab-harness/kubeadm"

    second = play("nodes")
    assert second.returncode == 0, second.tail()
    assert changed_tasks(second.stdout) == [] and second.changed == 0, second.tail()


def test_cluster_phase_completes_then_repeats_without_change(harness: Harness):
    """Debian 12 first: kubeadm init fails in its addons phase, after its kubeconfig phase wrote
    admin.conf; the run fails with the reset message and no admin.conf is left. Then (both
    distributions) the run completes, and a second run changes nothing."""
    nodeset, server, play, home = harness.nodeset, harness.server, harness.play, harness.home
    control_plane = nodeset.nodes[0]
    if harness.distribution.inject_failures:
        nodeset.write(control_plane, "/etc/sparklab-harness/kubeadm-fail-phase", "addons")
        failed = play("cluster")
        assert failed.returncode == 2, failed.tail()
        assert "kubeadm init failed" in failed.stdout and "The node was reset" in failed.stdout, failed.tail()
        assert nodeset.exec(control_plane, "ls", "/etc/kubernetes").count("admin.conf") == 0

    first = harness.first_run("cluster")
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
    assert changed_tasks(second.stdout) == [] and second.changed == 0, second.tail()


def drop_become_of(task: str) -> Callable[[str], str]:
    """A text edit removing the ``become: true`` of the task named ``task`` (the next one after it)."""

    def edit(text: str) -> str:
        head, found, tail = text.partition(f"- name: {task}\n")
        return head + found + tail.replace("  become: true\n", "", 1) if found else text

    return edit


def one_failed_task_in_a_copy(harness: Harness, tmp_path, edits: dict, tag: str) -> tuple[str, str]:
    """``playbooks/cluster.yml --tags TAG`` on the converged cluster from a copy of the product with
    ``edits``: the run fails (exit 2) at exactly one task and changes nothing. Returns that task's
    name and its message with white space folded (the YAML callback folds long values over lines)."""
    result = run_playbook(
        "playbooks/cluster.yml",
        harness.inventory,
        harness.extra,
        args=["--tags", tag],
        env={"SPARKLAB_HOME": str(harness.home)},
        workdir=tmp_path / "work",
        repo=product_copy(tmp_path / "product", edits),
    )
    assert result.returncode == 2, result.tail()
    failed = failed_tasks(result.stdout)
    assert len(failed) == 1, result.tail()
    assert result.changed == 0, result.tail()
    [(name, message)] = failed.items()
    return name, " ".join(message.split())


def test_a_root_only_task_without_become_fails_with_its_name_and_the_denied_file(harness: Harness, tmp_path):
    """The class of defect that runs as root only in a test: a copy of the product in which the
    kube_namespace task that reads the namespace through /etc/kubernetes/admin.conf (0600 root)
    lost its ``become``. Ansible logs in as ``ubuntu`` (inventory/group_vars), as on EC2, so the run
    fails at exactly that task, with kubectl's ``permission denied`` on admin.conf. One tagged run on
    the converged cluster; nothing on the nodes changes."""
    task = "apply | Read the namespace {{ kube_namespace_name }}"
    name, message = one_failed_task_in_a_copy(
        harness, tmp_path, {"roles/kube_namespace/tasks/apply.yml": drop_become_of(task)}, "kube_namespace")
    assert name.endswith("apply | Read the namespace kube-flannel"), name
    assert "open /etc/kubernetes/admin.conf: permission denied" in message, message


def test_a_helm_flag_that_helm_4_does_not_have_fails_the_run_naming_the_flag(harness: Harness, tmp_path):
    """The class of defect a helm stand-in accepts: a flag the real Helm 4.1.4 does not have. In a
    copy of the product, the helm role's version probe gains Helm 2's ``--client`` (removed in Helm
    3). The real binary refuses it: the run fails at that task with Helm's ``unknown flag: --client``.
    One tagged run on the converged cluster; nothing on the nodes changes."""
    probe = "      - version\n      - --template\n"
    with_client = "      - version\n      - --client\n      - --template\n"
    edit = {"roles/helm/tasks/install.yml": lambda text: text.replace(probe, with_client, 1)}
    name, message = one_failed_task_in_a_copy(harness, tmp_path, edit, "helm")
    assert name.endswith("install | Read the installed Helm version"), name
    assert "Error: unknown flag: --client" in message, message


def test_addons_phase_completes_then_repeats_without_change(harness: Harness):
    """Debian 12 first: the kube-opex-analytics release fails and the run stops there. Then (both
    distributions) the run completes with the dashboard's NodePort, and a second run changes nothing."""
    nodeset, server, play = harness.nodeset, harness.server, harness.play
    if harness.distribution.inject_failures:
        # The API server refuses the chart's StatefulSet once: Helm fails and rolls the release back.
        server.cluster.fail_once.add(("statefulsets", "kube-opex-analytics"))
        failed = play("addons")
        assert failed.returncode == 2, failed.tail()
        assert "kube-opex-analytics" in failed.stdout

    first = harness.first_run("addons")
    assert first.returncode == 0, first.tail()
    if not harness.distribution.inject_failures:
        assert_node_phases_of_up_completed(harness, harness.up())
    assert f"http://{nodeset.nodes[0].ip}:30080/" in first.stdout
    service = server.cluster.get(
        server.cluster.kind("services"), "kube-opex-analytics", "kube-opex-analytics-dashboard"
    )
    assert service["spec"]["ports"][0]["nodePort"] == 30080
    assert server.cluster.get(server.cluster.kind("serviceaccounts"), "spark-jobs", "spark-operator-spark")
    assert "images not pulled ahead" not in first.stdout, first.tail()

    if harness.distribution.inject_failures:
        # The Spark image gone from one worker (as if its pull had failed): reported, not fatal.
        worker = nodeset.nodes[1]
        nodeset.exec(worker, "sed", "-i", f"\\|^{SPARK}$|d", PULLED)
        try:
            reported = play("addons", image_prepull_wait_seconds=5)
        finally:
            nodeset.exec(worker, "sh", "-c", f"echo {SPARK} >> {PULLED}")
        assert reported.returncode == 0, reported.tail()
        line = f"{worker.name}: 1 of 8 images not pulled ahead: {SPARK} (the kubelet pulls them when a pod"
        assert line in " ".join(reported.stdout.split()), reported.tail()
        assert reported.changed == 0, reported.tail()

    second = play("addons")
    assert second.returncode == 0, second.tail()
    assert changed_tasks(second.stdout) == [] and second.changed == 0, second.tail()


def test_wordcount_phase_completes_with_the_fetched_kubeconfig(harness: Harness):
    """Debian 12 first: the driver of one run fails (the operator model's ``failed`` outcome); that run
    ends in FAILED with its files written. Then (both distributions) a new run completes."""
    play, home, operator = harness.play, harness.home, harness.operator
    runs = home / "harness" / "runs"
    wordcount = {"spark_wordcount_generate": "1MiB", "spark_wordcount_poll_seconds": 1}
    if harness.distribution.inject_failures:
        operator.outcome = "failed"
        try:
            failed = play("wordcount", spark_wordcount_run_id="20261130-125500-ab12", **wordcount)
        finally:
            operator.outcome = "completed"
        assert failed.returncode == 2, failed.tail()
        assert "ended in state FAILED" in failed.stdout, failed.tail()
        assert json.loads((runs / "20261130-125500-ab12" / "job.json").read_text())["state"] == "FAILED"

    result = play("wordcount", spark_wordcount_run_id="20261130-130000-cd34", **wordcount)
    assert result.returncode == 0, result.tail()
    run = runs / "20261130-130000-cd34"
    assert json.loads((run / "job.json").read_text())["state"] == "COMPLETED"
    saved = json.loads((run / "result.json").read_text())
    assert saved["top"][:3] == [["the", 200], ["dog", 100], ["fox", 100]] and saved["words"] == 750
    assert os.path.getsize(run / "driver.log") > 0
