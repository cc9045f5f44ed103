"""The spark_wordcount role renders a SparkApplication that the operator's CRD schema accepts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from wordcount_corpus import REPO

SCHEMA = (
    REPO.parent / "shared" / "reference" / "spark-operator-2.5.2" / "sparkapplication-v1beta2.schema.json"
)
ROLE = REPO / "roles" / "spark_wordcount"


def render(tmp_path: Path, **overrides: object) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the role with spark_wordcount_submit false (render only) against implicit localhost."""
    state = tmp_path / "state"
    variables = {
        "cluster_state_dir": str(state),
        "cluster_spark_namespace": "spark-jobs",
        "cluster_worker_instance_type": "t3.large",
        "cluster_worker_count": 2,
        "cluster_control_plane_instance_type": "t3.medium",
        "spark_wordcount_submit": False,
        "spark_wordcount_input_urls": [
            "https://bucket.s3.amazonaws.com/a.txt?X-Amz-Signature=ab&X-Amz-Expires=3600"
        ],
        "spark_wordcount_output_urls": ["https://bucket.s3.amazonaws.com/p0.csv?X-Amz-Signature=cd"],
        **overrides,
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(
        "- name: Render the WordCount manifests\n  hosts: localhost\n  connection: local\n"
        f"  gather_facts: false\n  roles:\n    - role: {ROLE}\n"
    )
    env = dict(
        os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0"
    )
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "play.yml", "-e", "@vars.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc, state / "runs"


def test_rendered_sparkapplication_validates_against_the_operator_schema(tmp_path):
    proc, runs = render(
        tmp_path, spark_wordcount_run_id="20261127-090000-ab12", spark_wordcount_generate="1GiB"
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    run_dir = runs / "20261127-090000-ab12"
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    jsonschema.validate(app, json.loads(SCHEMA.read_text()))
    spec = app["spec"]
    assert app["metadata"]["name"] == "wordcount-20261127-090000-ab12"
    assert spec["image"] == "apache/spark:4.0.3-python3" and spec["sparkVersion"] == "4.0.3"
    assert spec["type"] == "Python" and spec["mode"] == "cluster" and spec["timeToLiveSeconds"] == 3600
    assert spec["arguments"][0].startswith(
        "--input=https://bucket.s3.amazonaws.com/a.txt?X-Amz-Signature=ab&"
    )
    assert "--generate=1GiB" in spec["arguments"] and spec["arguments"][-2:] == ["--top=20", "--chunk-mib=64"]
    # t3.large: 2 vCPU, 8 GiB -> 1 executor per worker, half the CPU, 55 % of the memory.
    executor = spec["executor"]
    assert executor["instances"] == 2 and executor["cores"] == 2 and executor["coreRequest"] == "1000m"
    assert int(executor["memory"][:-1]) + int(executor["memoryOverhead"][:-1]) == int(8192 * 0.55)
    mount = spec["driver"]["configMaps"][0]
    assert spec["mainApplicationFile"] == f"local://{mount['path']}/wordcount_app.py"

    configmap = yaml.safe_load((run_dir / "configmap.yaml").read_text())
    assert configmap["metadata"]["name"] == mount["name"]
    shipped = configmap["data"]["wordcount_app.py"]
    assert shipped == (REPO / "sparklab" / "wordcount_app.py").read_text()
    assert not re.search(r"^\s*(from|import) sparklab", shipped, re.MULTILINE)
    assert oct((run_dir / "sparkapplication.yaml").stat().st_mode & 0o777) == "0o600"


def test_each_run_gets_its_own_name_and_sizes_follow_the_instance_type(tmp_path):
    proc, runs = render(
        tmp_path,
        cluster_worker_count=0,
        cluster_control_plane_instance_type="t3.xlarge",
        spark_wordcount_top=5,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    (run_dir,) = runs.iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_dir.name)
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    jsonschema.validate(app, json.loads(SCHEMA.read_text()))
    assert app["metadata"]["name"] == f"wordcount-{run_dir.name}"
    assert app["spec"]["executor"]["instances"] == 1 and app["spec"]["executor"]["cores"] == 4
    assert "--top=5" in app["spec"]["arguments"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"spark_wordcount_input_urls": ["s3://bucket/key"]}, "runner.py turns s3://"),
        (
            {"spark_wordcount_input_urls": [], "spark_wordcount_generate": ""},
            "give spark_wordcount_input_urls",
        ),
        ({"cluster_worker_instance_type": "x9.huge"}, "instance type x9.huge must be listed"),
    ],
)
def test_unusable_inputs_fail_before_anything_is_rendered(tmp_path, overrides, reason):
    proc, runs = render(tmp_path, **overrides)
    assert proc.returncode != 0
    assert reason in proc.stdout
    assert not runs.exists()
