"""The configuration contract as the collection imports it (``ansible-test units``): the keys and
their check, the names shared with runner.py, the driver's result lines, address detection."""

from __future__ import annotations

import http.server
import re
import threading

import pytest
from ansible_collections.sparklab.cluster.plugins.module_utils import (
    admin_address,
    cluster_config,
    cluster_names,
    config_checks,
    config_schema,
    driver_log,
)


def test_validate_fills_the_defaults_and_the_names_the_roles_read() -> None:
    home = {"SPARKLAB_HOME": "/srv/sl"}
    resolved, warnings = cluster_config.validate({"cluster_name": "lab"}, environ=home)
    assert warnings == []
    assert set(config_schema.SCHEMA) | set(cluster_config.DERIVED_KEYS) == set(resolved)
    assert resolved["cluster_worker_count"] == 2 and resolved["cluster_state_dir"] == "/srv/sl/lab"
    assert resolved["cluster_runs_dir"] == "/srv/sl/lab/runs"
    assert resolved["cluster_job_result_prefix"] == driver_log.JOB_RESULT_PREFIX == "SPARKLAB_RESULT"
    assert resolved["cluster_job_app_name_prefix"] == cluster_names.JOB_APP_NAME_PREFIX
    assert resolved["cluster_job_run_id_pattern"] == cluster_names.RUN_ID_PATTERN


@pytest.mark.parametrize(("config", "message"), [
    ({"cluster_name": "lab", "cluster_worker_count": "3x"}, "cluster_worker_count: must be an integer 0..50"),
    ({"cluster_name": "lab", "cluster_wroker_count": 3}, "did you mean cluster_worker_count?"),
    ({"cluster_name": "local"}, "'local' is reserved"),
    ({"cluster_name": "lab", "cluster_state_dir": "/tmp"}, "cluster_state_dir: is computed by sparklab"),
    ({"cluster_name": "lab", "cluster_control_plane_instance_type": "t3.small"}, "needs at least 2 vCPU"),
    ({"cluster_name": "lab", "cluster_admin_cidrs": ["0.0.0.0/0"]}, "whole internet"),
    ({"cluster_name": "lab", "cluster_subnet_cidr": "10.9.0.0/24"}, "must lie inside cluster_vpc_cidr"),
])
def test_a_mistake_is_one_line_naming_the_key_and_the_fix(config: dict, message: str) -> None:
    with pytest.raises(config_schema.ConfigError) as caught:
        cluster_config.validate(config, environ={})
    text = str(caught.value)
    assert message in text and "\n" not in text and "(fix: " in text


def test_strings_from_the_command_line_are_read_as_the_keys_types() -> None:
    resolved, warnings = cluster_config.validate(
        {"cluster_name": "lab", "cluster_worker_count": "3", "cluster_allow_world_admin_access": "true",
         "cluster_admin_cidrs": "0.0.0.0/1, 128.0.0.0/1"}, environ={})
    assert resolved["cluster_worker_count"] == 3 and resolved["cluster_allow_world_admin_access"] is True
    assert resolved["cluster_admin_cidrs"] == ["0.0.0.0/1", "128.0.0.0/1"]
    assert any("THE WHOLE INTERNET" in w for w in warnings)
    assert config_checks.strict_bool("false") is False and config_checks.strict_bool("maybe") is None


def test_run_ids_and_folders_follow_the_one_pattern() -> None:
    run_id = cluster_names.new_run_id(0)
    assert re.match(cluster_names.RUN_ID_PATTERN, run_id) and run_id.startswith("19700101-000000-")
    assert cluster_names.run_folder_name(run_id, "up") == f"{run_id}-up"
    assert re.match(cluster_names.RUN_FOLDER_PATTERN, f"{run_id}-up").group("verb") == "up"
    with pytest.raises(ValueError, match="invalid run id"):
        cluster_names.run_folder_name("2026-01-01")
    assert cluster_names.state_dir("lab", {"SPARKLAB_HOME": "/srv/x"}) == ("/srv/x", "/srv/x/lab")


def test_the_driver_log_reader_takes_the_last_result_and_explains_a_missing_one() -> None:
    lines = ['SPARKLAB_RESULT {"words": 1}', "noise", ' SPARKLAB_RESULT {"words": 2} ']
    found = driver_log.read_driver_log(lines)
    assert found == {"result": {"words": 2}, "error": None, "problem": ""}
    failed = driver_log.read_driver_log(['SPARKLAB_ERROR {"error": "OSError: boom"}'])
    assert failed["result"] is None and failed["problem"] == "the job failed: OSError: boom"
    assert "unreadable SPARKLAB_RESULT line" in driver_log.read_driver_log(["SPARKLAB_RESULT [1]"])["problem"]
    assert "did not finish" in driver_log.read_driver_log([])["problem"]


def test_the_admin_address_is_asked_of_the_service_only_when_no_cidr_is_set() -> None:
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"198.51.100.4\n")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        empty = cluster_config.validate({"cluster_name": "lab"}, environ={})[0]
        detected = admin_address.resolve_admin_cidrs(empty, url)
        assert detected["cluster_admin_cidrs_effective"] == ["198.51.100.4/32"]
        config = {"cluster_name": "lab", "cluster_admin_cidrs": ["192.0.2.0/24"]}
        given = cluster_config.validate(config, environ={})[0]
        kept = admin_address.resolve_admin_cidrs(given, "http://127.0.0.1:9/")  # no request is made
        assert kept["cluster_admin_cidrs_effective"] == ["192.0.2.0/24"]
    finally:
        server.shutdown()
    with pytest.raises(config_schema.ConfigError, match="^cluster_admin_cidrs: is empty and detecting"):
        admin_address.detect_admin_cidr("http://127.0.0.1:9/", timeout=2)
