"""Node containers for the cluster tests: systemd containers standing where nodes.yml leaves a node.

The node roles themselves are converged by molecule (molecule/nodes_*); here each container is
prepared directly, and this module says exactly how:
- the harness image adds git to the molecule base image (the helm_release role checks charts out
  with ``ansible.builtin.git``; on the nodes git comes with Ubuntu), built once and tagged by a hash
  of its recipe, like ``scripts/build-base-image.sh``;
- the stand-in ``kubeadm``, ``kubelet`` (a systemd service, as the kubelet package installs it) and
  ``kubectl`` go to ``/usr/bin`` as the pinned packages would put them (tests/harness/standins);
- the stand-in ``helm`` is offered as the release tarball the helm role downloads
  (``file:///opt/sparklab-harness/dl``, with its own checksum), so the role's download, checksum
  check, unpacking, link and version check all run;
- the pinned chart trees of the git-hosted charts are bare git repositories under
  ``/srv/sparklab-harness/git`` with their upstream tags, and ``url.<dir>.insteadOf
  https://github.com/`` in ``/etc/gitconfig`` sends the role's clone there: no test reaches GitHub;
- ``/etc/sparklab-harness/`` holds the stand-in API server's URL, the node address and a copy of the
  cluster CA (kubeadm uses an existing CA in ``/etc/kubernetes/pki``).
Every container runs on a docker network the test creates; the API server listens on its gateway.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from reference_data import REFERENCE_DIR

HERE = Path(__file__).resolve().parent
STANDINS = HERE / "standins"
BASE_IMAGE = "sparklab/debian12-systemd:9743efd4538c"
HELM_VERSION = "v3.22.0"
# Git-hosted charts: repository on GitHub, tag, folder in the repository, reference copy.
GIT_CHARTS = [
    ("rancher/local-path-provisioner", "v0.0.37", "deploy/chart/local-path-provisioner",
     "local-path-provisioner-0.0.37"),
    ("rchakode/kube-opex-analytics", "v25.10.1", "manifests/helm", "kube-opex-analytics-25.10.1"),
]
RUN_ARGS = [
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3",
]


def docker(*args: str, stdin: bytes | None = None, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False, timeout=600)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode().strip()


def harness_image(base: str = BASE_IMAGE) -> str:
    """The base image plus git, built once per recipe (apt from the Debian archive)."""
    recipe = f"{base}\napt-get install --no-install-recommends git\n"
    image = f"sparklab/harness-node:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0:
        return image
    name = f"sparklab-harness-build-{uuid.uuid4().hex[:8]}"
    docker("run", "--name", name, base, "/bin/sh", "-c",
           "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git"
           " && apt-get clean && rm -rf /var/lib/apt/lists/*")
    try:
        docker("commit", "--change", 'CMD ["/sbin/init"]', name, image)
    finally:
        docker("rm", "-f", name, check=False)
    return image


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
    staged: list[Path] = field(default_factory=list)

    def inventory(self, path: Path) -> Path:
        """A static inventory with the aws_ec2 plugin's host variables, over the docker connection."""
        def host(node: Node) -> dict:
            return {"ansible_connection": "community.docker.docker", "ansible_host": node.name,
                    "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                    "private_ip_address": node.ip, "private_dns_name": node.dns, "public_ip_address": node.ip}
        groups: dict[str, dict] = {"control_plane": {"hosts": {}}, "workers": {"hosts": {}}}
        for node in self.nodes:
            groups[node.group]["hosts"][node.name] = host(node)
        path.write_text(yaml.safe_dump({"all": {"children": {"cluster": {"children": groups}}}}))
        return path

    def exec(self, node: Node, *command: str, check: bool = True) -> str:
        return docker("exec", node.name, *command, check=check)

    def write(self, node: Node, path: str, content: str) -> None:
        docker("exec", "-i", node.name, "sh", "-c", f"mkdir -p $(dirname {path}) && cat > {path}",
               stdin=content.encode())


def _tar_tree(files: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _standin_files() -> dict[str, tuple[bytes, int]]:
    """Stand-ins, their library, PyYAML (pure Python) and the kubelet unit, as files in the container."""
    lib = "/usr/local/lib/sparklab-harness"
    files: dict[str, tuple[bytes, int]] = {}
    for path in STANDINS.iterdir():
        if path.is_file() and path.suffix != ".service":
            mode = 0o755 if path.suffix == "" else 0o644
            files[f"{lib}/{path.name}"] = (path.read_bytes(), mode)
    yaml_dir = Path(yaml.__file__).parent
    for path in yaml_dir.glob("*.py"):
        files[f"{lib}/yaml/{path.name}"] = (path.read_bytes(), 0o644)
    files["/etc/systemd/system/kubelet.service"] = ((STANDINS / "kubelet.service").read_bytes(), 0o644)
    return files


def helm_tarball() -> bytes:
    """The stand-in helm as ``helm-v3.22.0-linux-amd64.tar.gz`` (folder ``linux-amd64/``), like get.helm.sh."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = (STANDINS / "helm").read_bytes()
        info = tarfile.TarInfo("linux-amd64/helm")
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def chart_repositories(folder: Path) -> Path:
    """Bare git repositories of the git-hosted charts, one commit and the upstream tag each."""
    root = folder / "git"
    for repository, tag, chart_dir, reference in GIT_CHARTS:
        work = folder / "work" / repository
        shutil.copytree(REFERENCE_DIR / "charts" / reference, work / chart_dir)
        env = ["-c", "user.name=sparklab harness", "-c", "user.email=harness@sparklab.invalid"]
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*env, "commit", "-q", "-m", f"chart at {tag}"],
                     [*env, "tag", "-a", tag, "-m", tag]):
            subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(root / f"{repository}.git")], check=True,
                       capture_output=True)
    return root


@contextmanager
def node_containers(folder: Path, workers: int = 2, image: str | None = None) -> Iterator[NodeSet]:
    """Start one control plane and ``workers`` worker containers on a new network; remove them after."""
    image = image or harness_image()
    prefix = f"sh{uuid.uuid4().hex[:6]}"
    nodes = [Node(f"{prefix}-cp-1", "control_plane")] + [
        Node(f"{prefix}-worker-{i + 1}", "workers") for i in range(workers)]
    nodeset = NodeSet(prefix, nodes, network=f"{prefix}-net")
    docker("network", "create", nodeset.network)
    try:
        config = json.loads(docker("network", "inspect", nodeset.network))[0]["IPAM"]["Config"][0]
        nodeset.gateway = config["Gateway"]
        for node in nodes:
            docker("run", "-d", "--name", node.name, "--hostname", node.name, "--network", nodeset.network,
                   *RUN_ARGS, image, "/sbin/init")
            node.ip = docker("inspect", "-f", f"{{{{(index .NetworkSettings.Networks \"{nodeset.network}\").IPAddress}}}}",
                             node.name)
        yield nodeset
    finally:
        for node in nodes:
            docker("rm", "-f", "-v", node.name, check=False)
        docker("network", "rm", nodeset.network, check=False)


def prepare_nodes(nodeset: NodeSet, api_url: str, ca_cert: bytes, ca_key: bytes, folder: Path) -> None:
    """Put the stand-ins, the helm tarball, the chart repositories and the harness settings in place."""
    tarball = helm_tarball()
    nodeset.helm_sha256 = hashlib.sha256(tarball).hexdigest()
    git_root = chart_repositories(folder / "charts")
    for node in nodeset.nodes:
        files = _standin_files()
        files[f"/opt/sparklab-harness/dl/helm-{HELM_VERSION}-linux-amd64.tar.gz"] = (tarball, 0o644)
        files["/etc/sparklab-harness/apiserver-url"] = (api_url.encode(), 0o644)
        files["/etc/sparklab-harness/node-ip"] = (node.ip.encode(), 0o644)
        files["/etc/gitconfig"] = (f'[url "file:///srv/sparklab-harness/git/"]\n\tinsteadOf = https://github.com/\n'
                                   .encode(), 0o644)
        if node.group == "control_plane":
            for base in ("/etc/kubernetes/pki", "/etc/sparklab-harness/ca"):
                files[f"{base}/ca.crt"] = (ca_cert, 0o644)
                files[f"{base}/ca.key"] = (ca_key, 0o600)
            files["/etc/sparklab-harness/ca-dir"] = (b"/etc/sparklab-harness/ca", 0o644)
        docker("cp", "-", f"{node.name}:/", stdin=_tar_tree(files))
        nodeset.exec(node, "mkdir", "-p", "/srv/sparklab-harness")
        docker("cp", str(git_root), f"{node.name}:/srv/sparklab-harness/git")
        for tool in ("kubeadm", "kubectl", "kubelet"):
            nodeset.exec(node, "ln", "-sf", f"/usr/local/lib/sparklab-harness/{tool}", f"/usr/bin/{tool}")
        nodeset.exec(node, "sh", "-c", "until systemctl is-system-running --quiet --wait 2>/dev/null ||"
                     " [ \"$(systemctl is-system-running)\" = degraded ]; do sleep 0.5; done;"
                     " systemctl daemon-reload && systemctl enable kubelet", check=True)
