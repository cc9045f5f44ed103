"""The cluster templates, rendered by Ansible, carry the settings the cluster depends on."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cluster_render import REPO, SAMPLE_HOSTS, Rendered, render

pytestmark = pytest.mark.xdist_group("cluster_render")

# Fields of the kubeadm v1beta4 and kubelet v1beta1 configuration types that sparklab may set,
# taken from the upstream type definitions (k8s.io/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4
# and k8s.io/kubelet/config/v1beta1). A misspelt key would be ignored or rejected by kubeadm.
KNOWN_FIELDS = {
    "InitConfiguration": {
        "apiVersion",
        "kind",
        "bootstrapTokens",
        "dryRun",
        "nodeRegistration",
        "localAPIEndpoint",
        "certificateKey",
        "skipPhases",
        "patches",
        "timeouts",
    },
    "InitConfiguration.bootstrapTokens[]": {"token", "description", "ttl", "expires", "usages", "groups"},
    "InitConfiguration.localAPIEndpoint": {"advertiseAddress", "bindPort"},
    "InitConfiguration.nodeRegistration": {
        "name",
        "criSocket",
        "taints",
        "kubeletExtraArgs",
        "ignorePreflightErrors",
        "imagePullPolicy",
        "imagePullSerial",
    },
    "ClusterConfiguration": {
        "apiVersion",
        "kind",
        "etcd",
        "networking",
        "kubernetesVersion",
        "controlPlaneEndpoint",
        "apiServer",
        "controllerManager",
        "scheduler",
        "dns",
        "proxy",
        "certificatesDir",
        "imageRepository",
        "featureGates",
        "clusterName",
        "encryptionAlgorithm",
        "certificateValidityPeriod",
        "caCertificateValidityPeriod",
    },
    "ClusterConfiguration.networking": {"serviceSubnet", "podSubnet", "dnsDomain"},
    "ClusterConfiguration.apiServer": {"extraArgs", "extraVolumes", "extraEnvs", "certSANs"},
    "KubeletConfiguration.authentication": {"x509", "webhook", "anonymous"},
    "KubeletConfiguration.authorization": {"mode", "webhook"},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(tmp_path_factory.mktemp("cluster-render"))


def _by_kind(rendered: Rendered) -> dict[str, dict]:
    docs = rendered.kubeadm_documents()
    kinds = [d["kind"] for d in docs]
    assert len(kinds) == len(set(kinds)), f"duplicate kinds: {kinds}"
    return {d["kind"]: d for d in docs}


def test_kubeadm_config_has_the_three_documents_with_their_api_versions(rendered: Rendered) -> None:
    docs = _by_kind(rendered)
    assert {k: d["apiVersion"] for k, d in docs.items()} == {
        "InitConfiguration": "kubeadm.k8s.io/v1beta4",
        "ClusterConfiguration": "kubeadm.k8s.io/v1beta4",
        "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    }


def test_kubeadm_config_uses_only_known_fields(rendered: Rendered) -> None:
    docs = _by_kind(rendered)
    init, cluster, kubelet = (
        docs["InitConfiguration"],
        docs["ClusterConfiguration"],
        docs["KubeletConfiguration"],
    )
    checks = {
        "InitConfiguration": init,
        "InitConfiguration.localAPIEndpoint": init["localAPIEndpoint"],
        "InitConfiguration.nodeRegistration": init["nodeRegistration"],
        "ClusterConfiguration": cluster,
        "ClusterConfiguration.networking": cluster["networking"],
        "ClusterConfiguration.apiServer": cluster["apiServer"],
        "KubeletConfiguration.authentication": kubelet["authentication"],
        "KubeletConfiguration.authorization": kubelet["authorization"],
    }
    for path, obj in checks.items():
        assert set(obj) <= KNOWN_FIELDS[path], f"{path}: unknown {set(obj) - KNOWN_FIELDS[path]}"
    for token in init["bootstrapTokens"]:
        assert set(token) <= KNOWN_FIELDS["InitConfiguration.bootstrapTokens[]"]
    # v1beta4 turned extra arguments into lists of name/value pairs.
    for arg in init["nodeRegistration"]["kubeletExtraArgs"]:
        assert set(arg) == {"name", "value"}


def test_kubeadm_pins_the_cluster_version_and_networks(rendered: Rendered) -> None:
    cluster = _by_kind(rendered)["ClusterConfiguration"]
    assert cluster["kubernetesVersion"] == "v" + rendered.cluster_vars["cluster_kubernetes_version"]
    assert cluster["clusterName"] == rendered.cluster_vars["cluster_name"]
    assert cluster["networking"]["podSubnet"] == rendered.cluster_vars["cluster_pod_cidr"]
    assert cluster["networking"]["serviceSubnet"] == rendered.cluster_vars["cluster_service_cidr"]
    pods = ipaddress.ip_network(cluster["networking"]["podSubnet"])
    services = ipaddress.ip_network(cluster["networking"]["serviceSubnet"])
    assert not pods.overlaps(services)


def test_pod_network_of_kubeadm_equals_flannel_pod_cidr(rendered: Rendered) -> None:
    cluster = _by_kind(rendered)["ClusterConfiguration"]
    flannel = rendered.releases["flannel"]["values"]
    assert flannel["podCidr"] == cluster["networking"]["podSubnet"]
    assert flannel["flannel"]["backend"] == "vxlan"


def test_api_server_certificate_covers_public_and_private_addresses(rendered: Rendered) -> None:
    sans = _by_kind(rendered)["ClusterConfiguration"]["apiServer"]["certSANs"]
    control_plane = SAMPLE_HOSTS["cp-1"]
    for key in ("public_ip_address", "public_dns_name", "private_ip_address", "private_dns_name"):
        assert control_plane[key] in sans, key
    assert len(sans) == len(set(sans))


def test_control_plane_registers_under_its_short_private_dns_name(rendered: Rendered) -> None:
    init = _by_kind(rendered)["InitConfiguration"]
    assert init["nodeRegistration"]["name"] == "ip-10-42-0-10"
    assert init["localAPIEndpoint"]["advertiseAddress"] == SAMPLE_HOSTS["cp-1"]["private_ip_address"]
    assert {"name": "node-ip", "value": "10.42.0.10"} in init["nodeRegistration"]["kubeletExtraArgs"]


def test_kubeadm_init_ignores_no_preflight_error_and_keeps_bootstrap_tokens_short(rendered: Rendered) -> None:
    init = _by_kind(rendered)["InitConfiguration"]
    assert "ignorePreflightErrors" not in init["nodeRegistration"]
    assert "--ignore-preflight-errors" not in (REPO / "roles/kubeadm_init/tasks/init.yml").read_text()
    for token in init["bootstrapTokens"]:
        assert re.fullmatch(r"\d+m0s", token["ttl"]) and int(token["ttl"][:-3]) <= 60


def test_kubelet_serves_tls_with_requested_certificates_and_no_anonymous_access(rendered: Rendered) -> None:
    kubelet = _by_kind(rendered)["KubeletConfiguration"]
    assert kubelet["cgroupDriver"] == "systemd"
    assert kubelet["serverTLSBootstrap"] is True
    assert kubelet["readOnlyPort"] == 0
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authentication"]["webhook"]["enabled"] is True
    assert kubelet["authorization"]["mode"] == "Webhook"


def test_one_kubelet_or_cluster_setting_is_changed_without_forking_the_template(rendered: Rendered) -> None:
    plain = _by_kind(rendered)
    docs = [d for d in yaml.safe_load_all(rendered.kubeadm_config_overridden.read_text()) if d]
    changed = {d["kind"]: d for d in docs}
    kubelet, cluster = changed["KubeletConfiguration"], changed["ClusterConfiguration"]
    assert kubelet["maxPods"] == 50
    # Merged recursively: the sibling settings of the overridden key stay.
    assert kubelet["authentication"]["webhook"] == {"enabled": True, "cacheTTL": "1m0s"}
    assert kubelet["authentication"]["anonymous"] == {"enabled": False}
    assert cluster["networking"]["dnsDomain"] == "lab.internal"
    assert cluster["networking"]["podSubnet"] == plain["ClusterConfiguration"]["networking"]["podSubnet"]
    assert changed["InitConfiguration"] == plain["InitConfiguration"]


def test_inventory_nodes_are_named_like_the_kubelet_registers_them(rendered: Rendered) -> None:
    assert [n["name"] for n in rendered.nodes] == ["ip-10-42-0-10", "ip-10-42-0-11", "ip-10-42-0-12"]
    for node in rendered.nodes:
        host = SAMPLE_HOSTS[node["host"]]
        assert node["addresses"] == [host["private_dns_name"], host["private_ip_address"]]


def _schema_version(rendered: Rendered) -> str:
    """kubernetes-validate ships one schema per minor (x.y.0); the pinned patch uses its minor's."""
    major, minor, _patch = rendered.cluster_vars["cluster_kubernetes_version"].split(".")
    version = f"{major}.{minor}.0"
    assert version in kubernetes_validate.utils.all_versions(), f"kubernetes-validate has no {version} schema"
    return version


def test_rendered_namespace_validates_for_the_pinned_kubernetes_version(rendered: Rendered) -> None:
    namespace = yaml.safe_load(rendered.flannel_namespace.read_text())
    assert namespace["metadata"] == {
        "name": "kube-flannel",
        "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
    }
    kubernetes_validate.validate(namespace, _schema_version(rendered), strict=True)


def test_schema_validation_rejects_a_broken_namespace(rendered: Rendered) -> None:
    namespace = yaml.safe_load(rendered.flannel_namespace.read_text())
    namespace["metadata"]["labels"] = ["not", "a", "map"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(namespace, _schema_version(rendered), strict=True)


def test_cluster_playbook_passes_syntax_check() -> None:
    ansible_playbook = Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run(
        [str(ansible_playbook), "--syntax-check", "-e", "cluster_name=syntax", "playbooks/cluster.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
