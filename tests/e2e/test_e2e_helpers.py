"""The non-AWS parts of the end-to-end test, run everywhere."""

from __future__ import annotations

from e2e_helpers import (
    dashboard_has_cpu_and_memory,
    live_tagged_arns,
    nodes_with_metrics,
    phase_seconds,
    pin_mismatches,
    pulled_digests,
)


def test_phase_seconds_reads_runner_plain_progress() -> None:
    out = "\n".join([
        "[    0s] phase 1/4: provision",
        "2026-11-30 15:01:40 [ok] phase 1/4 provision done in 1m40s (52 tasks, 10 changed)",
        "2026-11-30 15:05:02 [ok] phase 2/4 nodes done in 3m22s (80 tasks, 40 changed)",
        "2026-11-30 15:09:10 [ok] phase 3/4 cluster done in 4m08s (30 tasks, 12 changed)",
        "2026-11-30 15:12:00 [ok] phase 4/4 addons done in 2m50s (20 tasks, 9 changed)",
        "2026-11-30 15:12:00 [ok] addons: role addons_helm done in 50.2s (9 tasks)",
    ])
    assert phase_seconds(out) == {"provision": 100, "nodes": 202, "cluster": 248, "addons": 170}
    down = "2026-11-30 15:00:09 [ok] phase 1/1 teardown done in 9.4s (20 tasks, 8 changed)"
    assert phase_seconds(down) == {"teardown": 9}


def test_tagging_api_leftovers_ignore_terminated_instances_only() -> None:
    pages = [{"ResourceTagMappingList": [
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:instance/i-dead"},
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:instance/i-alive"},
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"},
    ]}]
    assert live_tagged_arns(pages, {"i-dead"}) == [
        "arn:aws:ec2:eu-west-1:1:instance/i-alive", "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"]
    assert live_tagged_arns([{"ResourceTagMappingList": []}], set()) == []


def test_metrics_and_dashboard_checks_need_cpu_and_memory_for_every_node() -> None:
    metrics = {"items": [
        {"metadata": {"name": "a"}, "usage": {"cpu": "120m", "memory": "900Mi"}},
        {"metadata": {"name": "b"}, "usage": {"cpu": "80m"}},
    ]}
    assert nodes_with_metrics(metrics) == {"a": ("120m", "900Mi")}
    assert not dashboard_has_cpu_and_memory({"a": {"cpuUsage": 0.1}})
    assert not dashboard_has_cpu_and_memory({})


def test_dashboard_check_requires_non_zero_usage_for_every_node() -> None:
    """kube-opex-analytics writes cpuUsage = memUsage = 0.0 for each node before its first poll.

    Proves our check of ``/dataset/nodes.json`` refuses that start state, a node still at zero,
    a missing node and non-numeric values; only the real dashboard proves when values appear.
    """
    at_start = {"a": {"cpuUsage": 0.0, "memUsage": 0.0}, "b": {"cpuUsage": 0.0, "memUsage": 0.0}}
    assert not dashboard_has_cpu_and_memory(at_start)
    one_polled = {"a": {"cpuUsage": 0.12, "memUsage": 812.0}, "b": {"cpuUsage": 0.0, "memUsage": 0.0}}
    assert not dashboard_has_cpu_and_memory(one_polled)
    cpu_only = {"a": {"cpuUsage": 0.12, "memUsage": 0.0}}
    assert not dashboard_has_cpu_and_memory(cpu_only)
    polled = {"a": {"cpuUsage": 0.12, "memUsage": 812.0}, "b": {"cpuUsage": 0.3, "memUsage": 1024}}
    assert dashboard_has_cpu_and_memory(polled)
    assert dashboard_has_cpu_and_memory(polled, ["a", "b"])
    assert not dashboard_has_cpu_and_memory(polled, ["a", "b", "c"])
    assert not dashboard_has_cpu_and_memory({"a": {"cpuUsage": "0.5", "memUsage": True}})
    assert not dashboard_has_cpu_and_memory([{"cpuUsage": 1, "memUsage": 1}])


FLANNEL = "ghcr.io/flannel-io/flannel"
PINNED = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64


def _pod(image: str, image_id: str, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    return {"status": {key: [{"image": image, "imageID": image_id}]}}


def test_pulled_digests_read_the_kubelet_image_ids() -> None:
    pods = [
        _pod(f"{FLANNEL}:v0.28.9@{PINNED}", f"{FLANNEL}@{PINNED}"),
        _pod(
            "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3",
            f"ghcr.io/flannel-io/flannel-cni-plugin@{OTHER}",
            init=True,
        ),
        _pod("apache/spark:4.0.3-python3", f"docker-pullable://docker.io/apache/spark@{OTHER}"),
        _pod("busybox:1.37.0", ""),  # still pulling: nothing to compare
    ]
    assert pulled_digests(pods) == {
        FLANNEL: {PINNED},
        "ghcr.io/flannel-io/flannel-cni-plugin": {OTHER},
        "docker.io/apache/spark": {OTHER},
    }


def test_pin_mismatches_name_a_moved_image_and_a_pinned_image_never_seen() -> None:
    pins = {FLANNEL: {PINNED}, "docker.io/apache/spark": {PINNED}}
    assert pin_mismatches({FLANNEL: {PINNED}, "docker.io/apache/spark": {PINNED}}, pins, pins) == []
    assert pin_mismatches({FLANNEL: {PINNED, OTHER}}, pins, pins) == [
        f"{FLANNEL} ran as ['{OTHER}'], pinned to ['{PINNED}']",
        "docker.io/apache/spark is pinned but no pod ran it",
    ]
    # Images deployed by tag (no pin) are reported elsewhere, not compared.
    assert pin_mismatches({"docker.io/library/busybox": {OTHER}}, pins, []) == []


def test_product_pins_are_read_from_the_pin_sites() -> None:
    from deployed_images import Policy, product_pins

    pins = product_pins(Policy.load())
    assert pins["registry.k8s.io/metrics-server/metrics-server"] == {
        "sha256:b2d2efaf5ac3b366ed0f839d2412a2c4279d4fc2a2a733f12c52133faed36c41"
    }
    assert set(pins) <= {site["image"] for site in Policy.load().pins}
