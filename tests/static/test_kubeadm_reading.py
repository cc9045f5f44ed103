"""The stand-in kubeadm reads the product's kubeadm configuration as kubeadm 1.37 reads it.

The configuration is rendered by the real Ansible template module (tests/static/cluster_render.py)
from a copy of the product; the stand-in program (tests/harness/standins/kubeadm, the file the
harness installs as /usr/bin/kubeadm) runs on it directly, with its library beside it, as in the
node containers. Checked: the product's configuration passes; a field kubeadm's types do not have,
put into a copy of the role's defaults, stops ``kubeadm init`` with kubeadm's own strict-decoding
line naming the field; subnets and certSANs are validated; the field table is the generator's output.
What this does not prove: that a real kubeadm accepts the values (only a real node does).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import cluster_render
import pytest

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "tests" / "harness" / "standins"
TOOLS = REPO / "tests" / "harness" / "tools"
sys.path.insert(0, str(STANDINS))
import kubeadm_config  # noqa: E402


def run_kubeadm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(STANDINS)}
    return subprocess.run(
        [sys.executable, str(STANDINS / "kubeadm"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def product_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "product"
    shutil.copytree(
        REPO,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "tests", "__pycache__", "bench"),
    )
    return copy


def render_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit=None) -> Path:
    copy = product_copy(tmp_path)
    if edit:
        edit(copy / "roles" / "kubeadm_init" / "defaults" / "main.yml")
    monkeypatch.setattr(cluster_render, "REPO", copy)
    return cluster_render.render(tmp_path / "render").kubeadm_config


def add_after(path: Path, anchor: str, line: str) -> None:
    text = path.read_text()
    assert anchor in text, f"{anchor!r} is no longer in {path}"
    path.write_text(text.replace(anchor, anchor + line, 1))


def test_the_product_configuration_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = render_copy(tmp_path, monkeypatch)
    done = run_kubeadm("config", "validate", "--config", str(config))
    assert done.returncode == 0, done.stderr
    docs, strict_errors, ignored = kubeadm_config.read_config(config.read_bytes())
    assert sorted(docs) == ["ClusterConfiguration", "InitConfiguration", "KubeletConfiguration"]
    assert (strict_errors, ignored) == ([], [])


def test_an_unknown_kubeadm_field_stops_init_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kube-proxy's name for the pod range, written where kubeadm expects podSubnet: kubeadm drops it.
    config = render_copy(
        tmp_path,
        monkeypatch,
        lambda defaults: add_after(
            defaults, '    dnsDomain: "{{ kubeadm_init_dns_domain }}"\n', '    clusterCIDR: "10.244.0.0/16"\n'
        ),
    )
    init = run_kubeadm("init", "--config", str(config))
    assert init.returncode == 1
    assert (
        'error unmarshaling configuration schema.GroupVersionKind{Group:"kubeadm.k8s.io", Version:"v1beta4", '
        'Kind:"ClusterConfiguration"}: strict decoding error: unknown field "networking.clusterCIDR"'
    ) in init.stderr
    assert "[sparklab harness] kubeadm init would drop the unknown fields" in init.stderr
    assert "[preflight]" not in init.stdout  # refused before any phase
    validate = run_kubeadm("config", "validate", "--config", str(config))
    assert validate.returncode == 1
    assert 'strict decoding error: unknown field "networking.clusterCIDR"' in validate.stderr


def test_an_unknown_kubelet_field_is_named_with_its_path() -> None:
    text = (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\n"
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n"
        "authentication:\n  webhook:\n    enabled: true\n    cacheTTL: 2m\n  anonymus:\n    enabled: false\n"
        "reservedMemory:\n- numaNode: 0\n  limit: {}\n"
    )
    _docs, strict_errors, _ = kubeadm_config.read_config(text)
    assert strict_errors == [
        "error unmarshaling configuration "
        'schema.GroupVersionKind{Group:"kubelet.config.k8s.io", Version:"v1beta1", '
        'Kind:"KubeletConfiguration"}: strict decoding error: unknown field "authentication.anonymus", '
        'unknown field "reservedMemory[0].limit"'
    ]


@pytest.mark.parametrize(
    ("networking", "sans", "message"),
    [
        (
            {"podSubnet": "10.244.0.0/33"},
            [],
            'networking.podSubnet: Invalid value: "10.244.0.0/33": couldn\'t parse subnet',
        ),
        (
            {"serviceSubnet": "10.96.0.0"},
            [],
            'networking.serviceSubnet: Invalid value: "10.96.0.0": couldn\'t parse subnet',
        ),
        (
            {},
            ["ip_10_0_0_1.internal"],
            'apiServer.certSANs: Invalid value: "ip_10_0_0_1.internal": altname is not',
        ),
    ],
)
def test_subnets_and_cert_sans_are_validated(networking: dict, sans: list, message: str) -> None:
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "networking": networking,
        "apiServer": {"certSANs": sans},
    }
    with pytest.raises(kubeadm_config.ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        kubeadm_config.read_config(json.dumps(cluster))


def test_good_subnets_and_sans_pass() -> None:
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "networking": {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        "apiServer": {
            "certSANs": ["203.0.113.10", "ip-10-42-0-10.eu-west-1.compute.internal", "*.example.org"]
        },
    }
    assert kubeadm_config.read_config(json.dumps(cluster))[1] == []


def test_a_comment_before_the_first_separator_is_refused_as_kubeadm_does(tmp_path: Path) -> None:
    config = tmp_path / "kubeadm.yaml"
    config.write_text("# managed\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n")
    done = run_kubeadm("init", "--config", str(config))
    assert done.returncode == 1
    assert "kind and apiVersion is mandatory information that must be specified" in done.stderr


def test_the_field_table_is_the_generator_output_with_its_provenance() -> None:
    table = json.loads((STANDINS / "kube_fields.json").read_text())
    sources = json.loads((TOOLS / "kube_fields_sources.json").read_text())
    assert [s["commit"] for s in table["sources"]] == [s["commit"] for s in sources]
    assert all(
        len(s["commit"]) == 40 and len(s["sha256"]) == 64 and s["repo"] and s["path"]
        for s in table["sources"]
    )
    # The generator on a Go declaration of our own: tags, embedding, lists, maps, opaque externals.
    sys.path.insert(0, str(TOOLS))
    import gen_kube_fields

    go = (
        'type Outer struct {\n\tmetav1.TypeMeta `json:",inline"`\n\tInner `json:",inline"`\n'
        '\t// a comment\n\tItems []Item `json:"items,omitempty"`\n'
        '\tLabels map[string]string `json:"labels"`\n'
        '\tTaints []corev1.Taint `json:"taints"`\n\tHidden string `json:"-"`\n\tBare []string\n'
        '\tWait *metav1.Duration `json:"wait"`\n}\ntype Inner struct {\n\tName string `json:"name"`\n}\n'
        'type Item struct {\n\tMode Mode `json:"mode"`\n}\ntype Mode string\n'
    )
    structs, named = gen_kube_fields.parse(go)
    fields = gen_kube_fields.fields_of("Outer", "t", structs, named)
    assert fields == {
        "apiVersion": {"kind": "scalar"},
        "kind": {"kind": "scalar"},
        "name": {"kind": "scalar"},
        "items": {"kind": "list", "item": {"kind": "object", "type": "t.Item"}},
        "labels": {"kind": "map", "item": {"kind": "scalar"}},
        "taints": {"kind": "list", "item": {"kind": "opaque", "go": "corev1.Taint"}},
        "Bare": {"kind": "list", "item": {"kind": "scalar"}},
        "wait": {"kind": "scalar"},
    }
    assert gen_kube_fields.fields_of("Item", "t", structs, named) == {"mode": {"kind": "scalar"}}
    # Spot checks of the vendored table against the upstream types it records.
    kubeadm = table["types"]
    assert {"podSubnet", "serviceSubnet", "dnsDomain"} == set(kubeadm["kubeadm.Networking"])
    assert "failSwapOn" in kubeadm["kubelet.KubeletConfiguration"]
    assert "clusterCIDR" in kubeadm["kubeproxy.KubeProxyConfiguration"]


def node_tree(
    ip_forward: bytes | None = b"1\n",
    bridge: bytes | None = b"1\n",
    swaps: str = "Filename\tType\n",
    socket_at: str | None = "run/containerd/containerd.sock",
) -> Path:
    """A root directory with the files kubeadm's preflight reads (a short path: AF_UNIX limits it)."""
    root = Path(tempfile.mkdtemp(prefix="kpf", dir="/tmp"))
    for path, content in (
        ("proc/sys/net/ipv4/ip_forward", ip_forward),
        ("proc/sys/net/bridge/bridge-nf-call-iptables", bridge),
    ):
        if content is not None:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content)
    (root / "proc" / "swaps").write_text(swaps)
    if socket_at:
        (root / socket_at).parent.mkdir(parents=True, exist_ok=True)
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(root / socket_at))
        server.close()
    return root


def test_preflight_passes_a_prepared_node() -> None:
    root = node_tree()
    registration = {"criSocket": "unix:///run/containerd/containerd.sock"}
    assert kubeadm_config.preflight(registration, str(root)) == ([], [])
    shutil.rmtree(root)


def test_preflight_names_each_failed_check_as_kubeadm_does() -> None:
    root = node_tree(ip_forward=b"0\n", bridge=None, socket_at=None)
    warnings, errors = kubeadm_config.preflight({}, str(root))
    assert errors == [
        "[ERROR CRI]: container runtime is not running: validate service connection: "
        'validate CRI v1 runtime API for endpoint "unix:///var/run/containerd/containerd.sock": '
        "no socket at /var/run/containerd/containerd.sock",
        "[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: "
        "/proc/sys/net/bridge/bridge-nf-call-iptables does not exist",
        "[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: "
        "/proc/sys/net/ipv4/ip_forward contents are not set to 1",
    ]
    assert warnings == []
    # ignorePreflightErrors makes the named errors warnings, as RunChecks does.
    warnings, errors = kubeadm_config.preflight({"ignorePreflightErrors": ["CRI"]}, str(root))
    assert len(errors) == 2 and warnings[0].startswith("[WARNING CRI]: container runtime is not running")
    shutil.rmtree(root)


def test_swap_is_a_preflight_warning_and_the_kubelet_refuses_it_unless_fail_swap_on_is_false() -> None:
    root = node_tree(swaps="Filename\tType\tSize\tUsed\tPriority\n/swapfile\tfile\t1024\t0\t-2\n")
    warnings, errors = kubeadm_config.preflight({"criSocket": "/run/containerd/containerd.sock"}, str(root))
    assert errors == [] and warnings[0].startswith("[WARNING Swap]: swap is enabled")
    assert kubeadm_config.swap_refused_by_kubelet({}, str(root))
    assert not kubeadm_config.swap_refused_by_kubelet({"failSwapOn": False}, str(root))
    shutil.rmtree(root)
