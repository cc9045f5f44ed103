"""Node containers for the cluster tests: systemd containers standing where nodes.yml leaves a node.

The containers run the molecule base image of Debian 12 (bookworm) or Debian 13 (trixie).
The tests run playbooks/nodes.yml on them (node_prep, containerd from the Debian archive,
the pinned Kubernetes packages); this module prepares what that needs, and says exactly how:
- the harness image adds git and python3-yaml to the molecule base image (see ``harness_image``),
  built once and tagged by a hash of its recipe, like ``scripts/build-base-image.sh``;
- ``/var/lib/containerd`` is a tmpfs (containerd's overlayfs snapshotter cannot sit on the
  container's own overlay root), as in the molecule scenarios;
- Debian 13: containerd and runc come from Debian forky through an apt pin (``FORKY_SOURCES``), as in
  molecule/default, for configuration schema 3. containerd's support table lists only 2.3 and 2.2
  for Kubernetes 1.37, which no Debian archive carries (Debian 12 has 1.6.20, forky 2.1.9), so the
  tests turn the role's minimum version check off (its test-only switch, as the molecule scenarios);
- a flat apt repository under ``/srv/sparklab-k8s-repo`` stands in for pkgs.k8s.io
  (``kubernetes_repo``): packages kubelet, kubeadm, kubectl, cri-tools and kubernetes-cni at the
  pinned versions (kubernetes-cni also at a newer one),
  whose files are links into ``/usr/local/lib/sparklab-harness``: ``/usr/bin/kubeadm`` and
  ``/usr/bin/kubelet`` (the stand-ins of tests/harness/standins) with the kubelet package's systemd
  unit, and ``/usr/bin/kubectl``, the real kubectl (v1.35, the one a pinned PyPI package carries:
  two minors behind the pinned 1.37, one more than kubectl's supported skew; the calls the roles
  make exist in both), so the kubernetes_packages role installs, holds and enables them as it
  would the real ones;
- the real Helm 4.1.4 binary (``tests/helpers/helm_binary.py``) is offered as the release tarball the
  helm role downloads (``file:///opt/sparklab-harness/dl``, with its own checksum, on the control
  plane), so the role's download, checksum check, unpacking, link and version check all run, and
  every ``helm`` call of kubernetes.core runs the real program against the stand-in API server;
- the pinned charts (the reference copies, exactly as published) stand in for their sources: git
  charts as bare repositories under ``/srv/sparklab-harness/git`` with their upstream tags, named by
  a ``file://`` ``git_url`` in the release overrides; archive charts as .tgz files under
  ``/opt/sparklab-harness/charts`` (see ``chart_sources``): no test reaches GitHub;
- ``/etc/sparklab-harness/`` holds the stand-in API server's URL, the node address and a copy of the
  cluster CA, which the stand-in kubeadm init puts where it would generate one.
Every container runs on a docker network the test creates; the API server listens on its gateway.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
import zip_code_cache
from helm_binary import helm_binary, helm_version, kubectl_binary
from node_images import base_image, docker, image_with_packages
from reference_data import REFERENCE_DIR

HERE = Path(__file__).resolve().parent
STANDINS = HERE / "standins"
# The aws_ec2 plugin's groups and host variables for one control plane and two workers (record_aws_ec2.py).
AWS_EC2_RECORD = HERE / "aws_ec2_inventory.json"
REPO = HERE.parents[1]
# The Helm release the helm role pins: the real binary must be it, offered under its tarball name.
HELM_VERSION = yaml.safe_load((REPO / "roles" / "helm" / "defaults" / "main.yml").read_text())["helm_version"]
# Where the releases are defined: (file, variable) of every release dict with a ``chart``.
RELEASE_SOURCES = [
    ("playbooks/vars/releases/flannel.yml", "sparklab_release_flannel"),
    ("playbooks/vars/releases/metrics_server.yml", "sparklab_release_metrics_server"),
    ("playbooks/vars/releases/local_path_provisioner.yml", "sparklab_release_local_path_provisioner"),
    ("roles/kube_opex_analytics/defaults/main.yml", "kube_opex_analytics_release"),
    ("roles/spark_operator/defaults/main.yml", "spark_operator_release"),
]
# Resolved where a release's chart fields are templates (kube_opex_analytics role defaults and vars).
KOA_TAG = yaml.safe_load((REPO / "roles/kube_opex_analytics/defaults/main.yml").read_text())[
    "kube_opex_analytics_git_tag"
]
KOA_FACTS = yaml.safe_load((REPO / "roles/kube_opex_analytics/vars/main.yml").read_text())[
    "__kube_opex_analytics_known_tags"
][KOA_TAG]
# The versions pkgs.k8s.io publishes for the project's pin, as the node scenarios write them out.
NODES_TEST = yaml.safe_load((REPO / "molecule" / "_shared" / "vars" / "nodes_test.yml").read_text())
K8S_REPO_DIR = NODES_TEST["nodes_test_repo_dir"]
# Debian 13 only (molecule/default/prepare.yml): containerd 2.x and runc from forky, nothing else.
FORKY_SOURCES = {
    "/etc/apt/sources.list.d/sparklab-forky.list": (
        b"deb [check-valid-until=no] http://deb.debian.org/debian forky main\n"
    ),
    "/etc/apt/preferences.d/sparklab-forky": (
        b"Package: *\nPin: release n=forky\nPin-Priority: 100\n\n"
        b"Package: containerd runc\nPin: release n=forky\nPin-Priority: 990\n"
    ),
}
RUN_ARGS = [
    "--cap-add",
    "SYS_ADMIN",
    "--cap-add",
    "NET_ADMIN",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--cgroupns",
    "host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--tmpfs",
    "/var/lib/containerd:rw,exec,size=512m",
    "--stop-signal",
    "SIGRTMIN+3",
]


# Debian's site folder, which every python3 of the node reads at start-up, and the node's own folder
# for the compile cache of Ansible's module payloads (a tmpfs: root writes, the login user reads).
NODE_SITE = "/usr/lib/python3/dist-packages"
NODE_CODE_CACHE = "/var/cache/sparklab-test-zip-code-cache"


def code_cache_args(folder: Path) -> list[str]:
    """`docker run` options that give a node the test run's compile cache for module payloads
    (tests/helpers/zip_code_cache.py), only when the run has one (``ZIPIMPORT_CODE_CACHE``, set by
    scripts/test.sh). Nothing of the node as EC2 drives it changes: only compiling is skipped."""
    if not os.environ.get(zip_code_cache.ENV):
        return []
    pth = folder / "_sparklab_zip_code_cache.pth"
    pth.write_text(zip_code_cache.pth_line(NODE_CODE_CACHE))
    hook = Path(zip_code_cache.__file__)
    return [
        "-v", f"{hook}:{NODE_SITE}/_sparklab_zip_code_cache.py:ro",
        "-v", f"{pth}:{NODE_SITE}/_sparklab_zip_code_cache.pth:ro",
        "--tmpfs", f"{NODE_CODE_CACHE}:mode=0755",
    ]


def _plain(value: object) -> object:
    """ansible-inventory's JSON without its ``{"__ansible_unsafe": ...}`` wrappers."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def harness_image(base: str | None = None) -> str:
    """The base image plus git and python3-yaml, built once per recipe (apt from the Debian archive).

    Both come with Ubuntu's cloud images (python3-yaml as a dependency of cloud-init), and the roles
    rely on them: ``ansible.builtin.git`` for git-hosted charts, ``kubernetes.core.helm`` imports yaml.
    """
    return image_with_packages(base or base_image(), "sparklab/harness-node", "git python3-yaml")


@dataclass
class Node:
    name: str
    group: str
    ip: str = ""

    @property
    def dns(self) -> str:
        return f"{self.name}.harness.internal"


@dataclass
class NodeSet:
    """The containers, their network, and the files the stand-ins need."""

    prefix: str
    nodes: list[Node]
    network: str = ""
    gateway: str = ""
    helm_sha256: str = ""
    release_overrides: dict = field(default_factory=dict)

    def inventory(self, path: Path) -> Path:
        """The inventory as on EC2: the groups and host variables the aws_ec2 plugin gives a cluster
        of one control plane and two workers (recorded against the emulator, ``AWS_EC2_RECORD``),
        with the containers' names and addresses in place of the recorded ones, over the docker
        connection (``ansible_host`` is the container), next to the repository's
        ``inventory/group_vars`` (linked): the login user is the product's ``ansible_user``
        (``ubuntu``, the image's user with passwordless sudo, as on the AMI), so a task that needs
        root works only with ``become``, as on EC2."""
        record = json.loads(AWS_EC2_RECORD.read_text())
        recorded = {
            "control_plane": record["groups"]["control_plane"],
            "workers": record["groups"]["workers"],
        }
        groups: dict[str, dict] = {"control_plane": {"hosts": {}}, "workers": {"hosts": {}}}
        aws_ec2: dict[str, dict] = {"hosts": {}}
        for node in self.nodes:
            index = [n.name for n in self.nodes if n.group == node.group].index(node.name)
            name = recorded[node.group][index]
            hostvars = _plain(record["hostvars"][name])
            # The plugin's deprecated copy of ec2_tags under Ansible's reserved name ``tags`` (a
            # warning on every run when read from a file; the product reads ec2_tags).
            hostvars.pop("tags", None)
            text = json.dumps(hostvars)
            for old, new in (
                (hostvars["private_ip_address"], node.ip),
                (hostvars["public_ip_address"], node.ip),
                (hostvars["private_dns_name"], node.dns),
                (hostvars["public_dns_name"], node.dns),
                (name, node.name),
            ):
                text = text.replace(json.dumps(old)[1:-1], new)
            hostvars = json.loads(text)
            hostvars.update(
                ansible_connection="community.docker.docker",
                ansible_host=node.name,
                ansible_python_interpreter="/usr/bin/python3",
            )
            groups[node.group]["hosts"][node.name] = hostvars
            aws_ec2["hosts"][node.name] = None
        path.parent.mkdir(parents=True, exist_ok=True)
        tree = {"all": {"children": {"aws_ec2": aws_ec2, "cluster": {"children": groups}}}}
        path.write_text(yaml.safe_dump(tree))
        group_vars = path.parent / "group_vars"
        if not group_vars.exists():
            group_vars.symlink_to(REPO / "inventory" / "group_vars", target_is_directory=True)
        return path

    def exec(self, node: Node, *command: str, check: bool = True) -> str:
        return docker("exec", node.name, *command, check=check)

    def write(self, node: Node, path: str, content: str) -> None:
        docker(
            "exec",
            "-i",
            node.name,
            "sh",
            "-c",
            f"mkdir -p $(dirname {path}) && cat > {path}",
            stdin=content.encode(),
        )


def _tar_tree(files: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _standin_files() -> dict[str, tuple[bytes, int]]:
    """The stand-ins' library (the programs themselves, and through a link the faithful YAML reader of
    tests/helpers/kube_yaml.py), PyYAML (pure Python) and the real kubectl (tests/helpers/helm_binary.py,
    the kubectl package links to it), as container files."""
    lib = "/usr/local/lib/sparklab-harness"
    files: dict[str, tuple[bytes, int]] = {f"{lib}/kubectl": (kubectl_binary().read_bytes(), 0o755)}
    for path in STANDINS.iterdir():
        if path.is_file() and path.suffix != ".service":
            mode = 0o755 if path.suffix == "" else 0o644
            files[f"{lib}/{path.name}"] = (path.read_bytes(), mode)
    yaml_dir = Path(yaml.__file__).parent
    for path in yaml_dir.glob("*.py"):
        files[f"{lib}/yaml/{path.name}"] = (path.read_bytes(), 0o644)
    return files


def _ar(members: list[tuple[str, bytes]]) -> bytes:
    """A Unix ar archive (the container format of a .deb)."""
    out = [b"!<arch>\n"]
    for name, data in members:
        out.append(f"{name:<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n".encode())
        out.append(data + (b"\n" if len(data) % 2 else b""))
    return b"".join(out)


def _tar_gz(entries: list[tarfile.TarInfo], payloads: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info in entries:
            data = payloads.get(info.name)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _deb(package: str, version: str, depends: str, files: dict[str, bytes | str]) -> bytes:
    """A binary package: ``files`` maps a path to its content (bytes) or to a symlink target (str)."""
    entries, payloads, dirs = [], {}, set()
    for path in sorted(files):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            dirs.add("./" + "/".join(parts[:depth]) + "/")
    for directory in sorted(dirs):
        info = tarfile.TarInfo(directory)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        entries.append(info)
    for path, content in sorted(files.items()):
        info = tarfile.TarInfo("./" + path.strip("/"))
        if isinstance(content, str):
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, content, 0o777
        else:
            info.size, info.mode = len(content), 0o644
            payloads[info.name] = content
        entries.append(info)
    control = (
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: sparklab tests <tests@sparklab.invalid>\n"
        + (f"Depends: {depends}\n" if depends else "")
        + f"Description: Test stand-in for the pkgs.k8s.io {package} package (tests/harness)\n"
    ).encode()
    control_info = tarfile.TarInfo("./control")
    control_info.size, control_info.mode = len(control), 0o644
    return _ar(
        [
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", _tar_gz([control_info], {"./control": control})),
            ("data.tar.gz", _tar_gz(entries, payloads)),
        ]
    )


def kubernetes_repo() -> dict[str, tuple[bytes, int]]:
    """The flat apt repository standing in for pkgs.k8s.io, as files under ``K8S_REPO_DIR``.

    What the packages model: names, versions (``nodes_test_deb_version``, cri-tools
    ``nodes_test_cri_tools_version``, kubernetes-cni ``nodes_test_cni_version`` and a newer one),
    kubeadm's dependency on cri-tools, kubelet's on kubernetes-cni, and where each puts its
    program and the kubelet its unit. Their programs are links into
    ``/usr/local/lib/sparklab-harness``: the stand-in kubeadm and kubelet, the real kubectl;
    cri-tools carries the stand-in ``crictl``, which models the image calls of the image_prepull
    role (``pull``, ``inspecti``) and nothing else (the stand-in kubeadm makes no CRI calls).
    """
    lib = "/usr/local/lib/sparklab-harness"
    cni_note = b"kubernetes-cni stand-in of the sparklab harness: no CNI plugins\n"
    packages = {
        "kubeadm": (
            NODES_TEST["nodes_test_deb_version"],
            "cri-tools (>= 1.30.0)",
            {"/usr/bin/kubeadm": f"{lib}/kubeadm"},
        ),
        "kubectl": (NODES_TEST["nodes_test_deb_version"], "", {"/usr/bin/kubectl": f"{lib}/kubectl"}),
        "kubelet": (
            NODES_TEST["nodes_test_deb_version"],
            "kubernetes-cni (>= 1.2.0)",
            {
                "/usr/bin/kubelet": f"{lib}/kubelet",
                "/usr/lib/systemd/system/kubelet.service": (STANDINS / "kubelet.service").read_bytes(),
            },
        ),
        "cri-tools": (NODES_TEST["nodes_test_cri_tools_version"], "", {"/usr/bin/crictl": f"{lib}/crictl"}),
    }
    # kubernetes-cni at the pinned version and a newer one, so an unpinned or unheld install shows.
    builds = [(package, *spec) for package, spec in packages.items()] + [
        ("kubernetes-cni", NODES_TEST[key], "", {"/opt/cni/bin/README.sparklab": cni_note})
        for key in ("nodes_test_cni_version", "nodes_test_newer_cni_version")
    ]
    files, stanzas = {}, []
    for package, version, depends, content in builds:
        deb = _deb(package, version, depends, content)
        name = f"{package}_{version}_all.deb"
        files[f"{K8S_REPO_DIR}/{name}"] = (deb, 0o644)
        stanzas.append(
            f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
            + (f"Depends: {depends}\n" if depends else "")
            + f"Filename: ./{name}\nSize: {len(deb)}\nSHA256: {hashlib.sha256(deb).hexdigest()}\n"
            f"Description: Test stand-in for the pkgs.k8s.io {package} package (tests/harness)\n"
        )
    index = "\n".join(stanzas).encode()
    release = (
        "Origin: sparklab harness\nLabel: sparklab harness\nDate: Sat, 01 Nov 2025 00:00:00 UTC\n"
        "Architectures: all amd64\nSHA256:\n"
        f" {hashlib.sha256(index).hexdigest()} {len(index)} Packages\n"
    ).encode()
    files[f"{K8S_REPO_DIR}/Packages"] = (index, 0o644)
    files[f"{K8S_REPO_DIR}/Release"] = (release, 0o644)
    return files


def helm_tarball() -> bytes:
    """The real Helm binary (tests/helpers/helm_binary.py: Helm 4.1.4 from the Lambda layer of a
    pinned PyPI package) as ``helm-<version>-linux-amd64.tar.gz`` (``linux-amd64/helm``), the layout
    of get.helm.sh; packed once and kept next to the unpacked binary."""
    helm = helm_binary()
    version = helm_version(helm)
    if version != HELM_VERSION:
        raise RuntimeError(f"the test helm binary is {version}, the helm role pins {HELM_VERSION}")
    target = helm.parent / f"helm-{HELM_VERSION}-linux-amd64.tar.gz"
    if not target.is_file():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
            data = helm.read_bytes()
            info = tarfile.TarInfo("linux-amd64/helm")
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(buffer.getvalue())
        partial.replace(target)
    return target.read_bytes()


def _chart_facts(chart: dict) -> dict:
    """The chart dict with the kube-opex-analytics templates resolved from that role's own data."""
    resolved = {
        "kube_opex_analytics_git_url": "https://github.com/rchakode/kube-opex-analytics.git",
        "kube_opex_analytics_git_tag": KOA_TAG,
        "kube_opex_analytics_chart_version": KOA_FACTS["chart_version"],
        "kube_opex_analytics_chart_path": KOA_FACTS["chart_path"],
        "kube_opex_analytics_git_commit": KOA_FACTS.get("commit", ""),
    }
    out = {}
    for key, value in chart.items():
        if isinstance(value, str) and value.startswith("{{"):
            value = resolved[value.strip("{} ")]
        out[key] = value
    return out


def _reference_chart(chart: dict) -> Path:
    for candidate in (
        f"{chart['name']}-{chart['version']}",
        f"{chart['name']}-{chart.get('git_tag', '')}",
        f"{chart['name']}-{str(chart.get('git_tag', '')).lstrip('v')}",
    ):
        if (REFERENCE_DIR / "charts" / candidate / "Chart.yaml").is_file():
            return REFERENCE_DIR / "charts" / candidate
    raise RuntimeError(
        f"no reference copy of chart {chart['name']} {chart['version']} under {REFERENCE_DIR}/charts"
    )


def chart_sources(folder: Path) -> tuple[Path, dict[str, tuple[bytes, int]], dict]:
    """Local stand-ins for the chart sources every release names, and the extra vars that use them.

    Git charts: a bare repository per upstream URL with the reference chart tree at the release's
    path and the upstream tag; the extra vars name it as the release's ``git_url``
    (``file:///srv/sparklab-harness/git/<owner>/<name>.git``). Not git's ``insteadOf``: the git module
    reads the remote URL back with ``git ls-remote --get-url``, which applies the rewrite, finds it
    differs from the URL it was given and resets it, so every run would report a change that no
    real node (without a rewrite) reports. The role also checks that the tag is the pinned upstream
    commit, which no local repository can reproduce: the extra vars pin the local commit instead.
    Archive charts: the reference chart packed as ``<name>/...``
    in a .tgz under /opt/sparklab-harness/charts, with its own SHA-256 in the extra vars.
    """
    git_root, files, overrides = folder / "git", {}, {}
    for source, variable in RELEASE_SOURCES:
        release = yaml.safe_load((REPO / source).read_text())[variable]
        chart = _chart_facts(release["chart"])
        new_chart = dict(release["chart"])
        if chart.get("git_url"):
            repository = chart["git_url"].removeprefix("https://github.com/")
            work = folder / "work" / repository / chart["git_tag"]
            shutil.copytree(_reference_chart(chart), work / chart["path"])
            env = ["-c", "user.name=sparklab harness", "-c", "user.email=harness@sparklab.invalid"]
            for args in (
                ["init", "-q", "-b", "main"],
                ["add", "-A"],
                [*env, "commit", "-q", "-m", "chart"],
                [*env, "tag", "-a", chart["git_tag"], "-m", chart["git_tag"]],
            ):
                subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
            bare = git_root / repository
            bare = bare.with_name(bare.name if bare.name.endswith(".git") else bare.name + ".git")
            subprocess.run(
                ["git", "clone", "-q", "--bare", str(work), str(bare)], check=True, capture_output=True
            )
            new_chart["git_url"] = f"file:///srv/sparklab-harness/git/{bare.relative_to(git_root)}"
            new_chart["git_commit"] = subprocess.run(
                ["git", "rev-parse", f"{chart['git_tag']}^{{commit}}"],
                cwd=work,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        elif chart.get("archive_url"):
            buffer = io.BytesIO()
            reference = _reference_chart(chart)
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(reference, arcname=chart["name"])
            name = chart["archive_url"].rsplit("/", 1)[1]
            files[f"/opt/sparklab-harness/charts/{name}"] = (buffer.getvalue(), 0o644)
            new_chart["archive_url"] = f"file:///opt/sparklab-harness/charts/{name}"
            new_chart["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
        overrides[variable] = {**release, "chart": new_chart}
    return git_root, files, overrides


@contextmanager
def node_containers(
    folder: Path, workers: int = 2, image: str | None = None, suite: str = "bookworm"
) -> Iterator[NodeSet]:
    """Start one control plane and ``workers`` worker containers on a new network; remove them after.

    ``suite``: the Debian release of the molecule base image (bookworm: Debian 12, trixie: Debian 13)."""
    image = image or harness_image(base_image(suite))
    prefix = f"sh{uuid.uuid4().hex[:6]}"
    nodes = [Node(f"{prefix}-cp-1", "control_plane")] + [
        Node(f"{prefix}-worker-{i + 1}", "workers") for i in range(workers)
    ]
    nodeset = NodeSet(prefix, nodes, network=f"{prefix}-net")
    docker("network", "create", nodeset.network)
    try:
        config = json.loads(docker("network", "inspect", nodeset.network))[0]["IPAM"]["Config"][0]
        nodeset.gateway = config["Gateway"]
        for node in nodes:
            docker(
                "run",
                "-d",
                "--name",
                node.name,
                "--hostname",
                node.name,
                "--network",
                nodeset.network,
                *RUN_ARGS,
                *code_cache_args(folder),
                image,
                "/sbin/init",
            )
            node.ip = docker(
                "inspect",
                "-f",
                f'{{{{(index .NetworkSettings.Networks "{nodeset.network}").IPAddress}}}}',
                node.name,
            )
        yield nodeset
    finally:
        for node in nodes:
            docker("rm", "-f", "-v", node.name, check=False)
        docker("network", "rm", nodeset.network, check=False)


def prepare_nodes(
    nodeset: NodeSet, api_url: str, ca_cert: bytes, ca_key: bytes, folder: Path, suite: str = "bookworm"
) -> None:
    """Put the stand-ins' library, the package repository, the helm tarball, the chart repositories
    and the harness settings in place, and on Debian 13 the forky pin for containerd."""
    tarball = helm_tarball()
    repository = kubernetes_repo()
    nodeset.helm_sha256 = hashlib.sha256(tarball).hexdigest()
    git_root, chart_files, nodeset.release_overrides = chart_sources(folder / "charts")
    for node in nodeset.nodes:
        files = {**_standin_files(), **chart_files, **repository}
        if suite == "trixie":
            files.update({path: (content, 0o644) for path, content in FORKY_SOURCES.items()})
        files["/etc/sparklab-harness/apiserver-url"] = (api_url.encode(), 0o644)
        files["/etc/sparklab-harness/node-ip"] = (node.ip.encode(), 0o644)
        if node.group == "control_plane":
            # Helm runs on the control plane only (playbooks/cluster.yml, addons.yml).
            files[f"/opt/sparklab-harness/dl/helm-{HELM_VERSION}-linux-amd64.tar.gz"] = (tarball, 0o644)
            files["/etc/sparklab-harness/ca/ca.crt"] = (ca_cert, 0o644)
            files["/etc/sparklab-harness/ca/ca.key"] = (ca_key, 0o600)
            files["/etc/sparklab-harness/ca-dir"] = (b"/etc/sparklab-harness/ca", 0o644)
        docker("cp", "-", f"{node.name}:/", stdin=_tar_tree(files))
        # /etc/kubernetes/manifests comes with the real kubelet package (kubernetes/release).
        nodeset.exec(node, "mkdir", "-p", "/srv/sparklab-harness", "/etc/kubernetes/manifests")
        docker("cp", str(git_root), f"{node.name}:/srv/sparklab-harness/git")
        # The image's apt lists were emptied when it was built, maybe minutes ago: apt's
        # cache_valid_time reads the folder's age, and would take the empty lists for fresh ones
        # ("No package matching 'conntrack'"). Dated to the epoch, they are as stale as on a cloud
        # image built days before the instance boots.
        nodeset.exec(
            node,
            "sh",
            "-c",
            "touch -d @0 /var/lib/apt/lists && "
            "until systemctl is-system-running --quiet --wait 2>/dev/null ||"
            ' [ "$(systemctl is-system-running)" = degraded ]; do sleep 0.5; done',
            check=True,
        )
