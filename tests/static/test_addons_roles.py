"""The addons playbook's syntax and the dashboard readiness probe run for real against a local HTTP
server. (Role anatomy, argument specs included: tests/static/test_role_anatomy.py.)"""

from __future__ import annotations

import http.server
import socket
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from addons_render import REPO, VENV_BIN, ansible_env, run_playbook


def test_addons_playbook_passes_syntax_check(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "--syntax-check",
            "-e",
            "cluster_name=syntax",
            "playbooks/addons.yml",
        ],
        cwd=REPO,
        env=ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK="default"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_cluster_and_addons_playbooks_feed_every_release_one_way() -> None:
    # Every import of helm_release passes exactly one variable, helm_release: the typed release shape
    # of the role's argument spec, so the role's defaults (wait, atomic, timeout) apply everywhere.
    passed = []
    for playbook in ("cluster.yml", "addons.yml"):
        for play in yaml.safe_load((REPO / "playbooks" / playbook).read_text()):
            assert not any("helm_release" in f for f in play.get("vars_files", [])), playbook
            for task in play["tasks"]:
                if task.get("ansible.builtin.import_role", {}).get("name") == "sparklab.cluster.helm_release":
                    assert list(task["vars"]) == ["helm_release"], task["name"]
                    passed.append(task["vars"]["helm_release"])
    assert passed == [
        "{{ sparklab_release_flannel }}",
        "{{ sparklab_release_metrics_server }}",
        "{{ sparklab_release_local_path_provisioner }}",
        "{{ kube_opex_analytics_release }}",
        "{{ spark_operator_release }}",
    ]
    assert not (REPO / "playbooks" / "vars" / "helm_release_from_data.yml").exists()


def test_addons_playbook_installs_both_releases_through_the_generic_role() -> None:
    plays = yaml.safe_load((REPO / "playbooks" / "addons.yml").read_text())
    play, pull_check = plays
    # Then, on every node, the check of the images pulled in the background (roles/image_prepull).
    assert pull_check["hosts"] == "cluster"
    role = "ansible.builtin.import_role"
    imports = [t[role] for t in pull_check["tasks"] if role in t]
    assert imports == [{"name": "sparklab.cluster.image_prepull", "tasks_from": "wait"}]
    assert play["hosts"] == "control_plane"
    assert "become" not in play, "Kubernetes API tasks are delegated to localhost without privilege"
    assert play["pre_tasks"][0]["sparklab.cluster.cluster_config"] == {"detect_admin_cidr": False}
    helm_calls = [
        t
        for t in play["tasks"]
        if t.get("ansible.builtin.import_role", {}).get("name") == "sparklab.cluster.helm_release"
    ]
    assert [t["vars"]["helm_release"] for t in helm_calls] == [
        "{{ kube_opex_analytics_release }}",
        "{{ spark_operator_release }}",
    ]
    names = [t["name"] for t in play["tasks"]]
    # Namespaces and the dashboard Service first, releases next, readiness last.
    assert names.index("Create the Spark job namespace") < names.index("Install the Spark operator release")
    assert names.index("Install the Spark operator release") < names.index("Wait for the Spark operator")
    assert names[-1] == "Show the dashboard URL"


class FlakyDashboard(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first requests, as a dashboard whose pod is still starting, then 200."""

    failures_left = 2
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        type(self).hits += 1
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
        else:
            self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html>kube-opex-analytics</html>")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def dashboard() -> Iterator[int]:
    # A port in the NodePort range, on the loopback address only.
    for port in range(30400, 30500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), FlakyDashboard)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_dashboard_readiness_waits_for_http_200_and_records_the_url(tmp_path: Path, dashboard: int) -> None:
    playbook = tmp_path / "verify.yml"
    playbook.write_text(
        textwrap.dedent(f"""
        - name: Probe the dashboard
          hosts: localhost
          gather_facts: false
          tasks:
            - name: Wait for the dashboard
              ansible.builtin.include_role:
                name: sparklab.cluster.kube_opex_analytics
                tasks_from: verify
              vars:
                cluster_dashboard_node_port: {dashboard}
                cluster_state_dir: {tmp_path}
                kube_opex_analytics_probe_address: 127.0.0.1
                kube_opex_analytics_public_address: 203.0.113.7
                kube_opex_analytics_ready_delay: 1
                kube_opex_analytics_ready_retries: 5
            - name: Show the URL
              ansible.builtin.debug:
                var: kube_opex_analytics_url
        """)
    )
    result = run_playbook(playbook, tmp_path)
    assert result["rc"] == 0, result["stderr"]
    assert FlakyDashboard.hits == 3
    shown = [
        h
        for p in result["plays"]
        for t in p["tasks"]
        if t["task"]["name"] == "Show the URL"
        for h in t["hosts"].values()
    ]
    assert shown[0]["kube_opex_analytics_url"] == f"http://203.0.113.7:{dashboard}/"
    assert result["stats"]["localhost"]["changed"] == 0
