"""The configuration schema: defaults, one-line errors, the example file, admin address detection."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
import yaml

from sparklab.config.load import schema
from sparklab.core.contract import module_utils

ROOT = Path(__file__).resolve().parents[2]
cc = schema()  # plugins/module_utils/cluster_config.py, loaded as runner.py loads it
checkip = module_utils("admin_address")  # the public-address detection over HTTP


def test_defaults_are_filled_and_state_dir_derived() -> None:
    resolved, warnings = cc.validate({"cluster_name": "lab"}, environ={"SPARKLAB_HOME": "/srv/sl"})
    assert resolved["cluster_worker_count"] == 2 and resolved["cluster_aws_region"] == "eu-west-1"
    assert resolved["cluster_state_dir"] == "/srv/sl/lab" and warnings == []


def test_example_file_documents_every_key_with_its_default() -> None:
    example = yaml.safe_load((ROOT / "cluster.example.yml").read_text())
    assert set(example) == set(cc.SCHEMA)
    for name, key in cc.SCHEMA.items():
        if not key.required:
            assert example[name] == key.default, name
    cc.validate(example)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"cluster_name": "-bad"}, "cluster_name"),
        ({}, "cluster_name"),
        ({"cluster_name": "a", "cluster_worker_count": "x"}, "cluster_worker_count"),
        ({"cluster_name": "a", "cluster_worker_count": True}, "cluster_worker_count"),
        (
            {"cluster_name": "a", "cluster_control_plane_instance_type": "t2.micro"},
            "cluster_control_plane_instance_type",
        ),
        ({"cluster_name": "a", "cluster_admin_cidrs": ["::/0"]}, "cluster_admin_cidrs"),
        ({"cluster_name": "a", "cluster_admin_cidrs": ["0.0.0.0/0"]}, "cluster_admin_cidrs"),
        ({"cluster_name": "a", "cluster_pod_cidr": "10.42.0.0/16"}, "cluster_pod_cidr"),
        ({"cluster_name": "a", "cluster_dashboard_node_port": 8080}, "cluster_dashboard_node_port"),
        ({"cluster_name": "a", "cluster_state_dir": "/tmp/x"}, "cluster_state_dir"),
        ({"cluster_name": "a", "cluster_nmae": "b"}, "cluster_nmae"),
    ],
)
def test_invalid_config_is_one_line_naming_the_key_and_the_fix(config: dict, key: str) -> None:
    with pytest.raises(cc.ConfigError) as err:
        cc.validate(config)
    message = str(err.value)
    assert message.startswith(f"{key}: ") and "(fix: " in message and "\n" not in message


def test_world_access_needs_the_override_and_warns() -> None:
    _, warnings = cc.validate(
        {"cluster_name": "a", "cluster_admin_cidrs": ["0.0.0.0/0"], "cluster_allow_world_admin_access": True}
    )
    assert any("WHOLE INTERNET" in w for w in warnings)


def test_ttl_zero_warns() -> None:
    _, warnings = cc.validate({"cluster_name": "a", "cluster_ttl_hours": 0})
    assert any("cluster_ttl_hours" in w for w in warnings)


def test_admin_cidr_is_detected_only_when_empty() -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"203.0.113.9\n")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        resolved, _ = cc.validate({"cluster_name": "a"})
        detected = checkip.resolve_admin_cidrs(resolved, url)
        assert detected["cluster_admin_cidrs_effective"] == ["203.0.113.9/32"]
        given, _ = cc.validate({"cluster_name": "a", "cluster_admin_cidrs": ["192.0.2.0/24"]})
        assert checkip.resolve_admin_cidrs(given, "http://127.0.0.1:9/")["cluster_admin_cidrs_effective"] == [
            "192.0.2.0/24"
        ]
    finally:
        server.shutdown()
    with pytest.raises(cc.ConfigError, match="^cluster_admin_cidrs: "):
        checkip.detect_admin_cidr("http://127.0.0.1:9/", timeout=2)
