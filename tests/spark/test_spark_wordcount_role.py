"""The spark_wordcount role renders a SparkApplication that the operator's CRD schema accepts."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from reference_data import REFERENCE_DIR
from wordcount_corpus import REPO

SCHEMA = (
    REFERENCE_DIR / "spark-operator-2.5.2" / "sparkapplication-v1beta2.schema.json"
)
ROLE = REPO / "roles" / "spark_wordcount"


def render(
    tmp_path: Path, post_tasks: str = "", **overrides: object
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the role with spark_wordcount_submit false (render only) against implicit localhost.

    Ansible's own temporary folders are under ``tmp_path`` too, so a scan of it sees them.
    """
    state = tmp_path / "state"
    variables = {
        "cluster_state_dir": str(state),
        "cluster_spark_namespace": "spark-jobs",
        "cluster_worker_instance_type": "t3.large",
        "cluster_worker_count": 2,
        "cluster_control_plane_instance_type": "t3.medium",
        "cluster_spark_ui_node_port": 30040,
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
        f"  gather_facts: false\n  roles:\n    - role: {ROLE}\n{post_tasks}"
    )
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local-tmp"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"),
    )
    env.pop("ANSIBLE_CONFIG", None)
    # The role's filters are collection plugins (sparklab.cluster.*): the checkout is the collection.
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / "collections")
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
    # The tag, with the digest scripts/pin-images writes once it is resolved (playbooks/vars/images.yml).
    assert spec["image"].split("@", 1)[0] == "apache/spark:4.0.3-python3" and spec["sparkVersion"] == "4.0.3"
    assert spec["type"] == "Python" and spec["mode"] == "cluster" and spec["timeToLiveSeconds"] == 3600
    # The driver runs the launcher, which runs WordCount with its own arguments.
    assert spec["arguments"] == [
        "/opt/sparklab/wordcount_app.py",
        "--urls-file=/opt/sparklab-urls/urls.json",
        "--generate=1GiB",
        "--top=20",
        "--chunk-mib=64",
    ]
    # t3.large: 2 vCPU, 8 GiB -> 1 executor per worker, half the CPU, 55 % of the memory.
    executor = spec["executor"]
    assert executor["instances"] == 2 and executor["cores"] == 2 and executor["coreRequest"] == "1000m"
    assert int(executor["memory"][:-1]) + int(executor["memoryOverhead"][:-1]) == int(8192 * 0.55)
    mount = spec["driver"]["configMaps"][0]
    assert spec["mainApplicationFile"] == f"local://{mount['path']}/launcher.py"

    configmap = yaml.safe_load((run_dir / "configmap.yaml").read_text())
    assert configmap["metadata"]["name"] == mount["name"]
    shipped = configmap["data"]["wordcount_app.py"]
    assert shipped == (REPO / "sparklab" / "job" / "wordcount_app.py").read_text()
    assert not re.search(r"^\s*(from|import) sparklab", shipped, re.MULTILINE)
    assert configmap["data"]["launcher.py"] == (REPO / "sparklab" / "job" / "launcher.py").read_text()
    assert oct((run_dir / "sparkapplication.yaml").stat().st_mode & 0o777) == "0o600"


def test_spark_ui_nodeport_service_validates_and_selects_the_driver_of_this_run(tmp_path):
    proc, runs = render(tmp_path, spark_wordcount_run_id="20261127-090000-ab12",
                        cluster_spark_ui_node_port=30123)
    assert proc.returncode == 0, proc.stdout[-3000:]
    run_dir = runs / "20261127-090000-ab12"
    service = yaml.safe_load((run_dir / "spark-ui-service.yaml").read_text())
    kubernetes_validate.validate(service, "1.37.0", strict=True)
    assert service["metadata"]["namespace"] == "spark-jobs" and service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"] == [
        {"name": "spark-ui", "protocol": "TCP", "port": 4040, "targetPort": 4040, "nodePort": 30123}
    ]
    # The labels the operator puts on the driver pod of this application (spark-operator 2.5.2
    # internal/controller/sparkapplication: common.LabelSparkAppName = "sparkoperator.k8s.io/app-name"
    # with the application's name, common.LabelSparkRole = "spark-role" with "driver"), and the
    # ones of another run's driver and of this run's executors, which it must not select.
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    driver = {"sparkoperator.k8s.io/app-name": app["metadata"]["name"], "spark-role": "driver",
              **app["spec"]["driver"]["labels"]}
    executor = dict(driver, **{"spark-role": "executor"})
    other = dict(driver, **{"sparkoperator.k8s.io/app-name": "wordcount-20261127-080000-0000"})
    selector = service["spec"]["selector"]
    selects = lambda labels: all(labels.get(k) == v for k, v in selector.items())  # noqa: E731
    assert selects(driver) and not selects(executor) and not selects(other)
    assert service["metadata"]["labels"]["sparklab/run-id"] == "20261127-090000-ab12"

    (tmp_path / "off").mkdir()
    proc, runs = render(tmp_path / "off", spark_wordcount_ui_service=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    (run_dir,) = runs.iterdir()
    assert not (run_dir / "spark-ui-service.yaml").exists()


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


# --------------------------------------------------------------------------- presigned URLs
MARKER = "SPARKLABleakMARKER"
SECRET_URLS = {
    "spark_wordcount_input_urls": [
        "https://bucket.s3.eu-west-1.amazonaws.com/runs/a.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=ASIAFAKE%2F20261127%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Expires=3600"
        f"&X-Amz-Security-Token=IQoJb3{MARKER}token%2Bx&X-Amz-Signature={MARKER}0a1b2c"
    ],
    "spark_wordcount_output_urls": [
        f"https://bucket.s3.eu-west-1.amazonaws.com/runs/p{n}.csv?X-Amz-Security-Token={MARKER}t{n}"
        f"&X-Amz-Signature={MARKER}s{n}"
        for n in range(2)
    ],
}
# What the submit task sends, captured by the test play (not by the role) into its own folder.
CAPTURE_SECRET = """  post_tasks:
    - name: Capture the Secret the submit task would send
      ansible.builtin.copy:
        content: "{{{{ lookup('ansible.builtin.template', '{template}') }}}}"
        dest: "{dest}"
        mode: "0600"
      no_log: true
"""


def _files_holding(root: Path, needle: str, skip: set[Path]) -> tuple[list[Path], list[Path]]:
    """The files under ``root`` (but ``skip``) that hold ``needle``, and every file scanned."""
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p not in skip]
    return [p for p in files if needle.encode() in p.read_bytes()], files


def test_presigned_urls_reach_only_the_secret_never_a_file_or_the_log(tmp_path):
    captured = tmp_path / "captured" / "secret.yaml"
    captured.parent.mkdir(mode=0o700)
    post = CAPTURE_SECRET.format(template=ROLE / "templates" / "secret.yaml.j2", dest=captured)
    proc, runs = render(tmp_path, post, spark_wordcount_run_id="20261127-090000-ab12", **SECRET_URLS)
    assert proc.returncode == 0, proc.stdout[-3000:]
    run_dir = runs / "20261127-090000-ab12"
    assert {p.name for p in run_dir.iterdir()} == {"configmap.yaml", "sparkapplication.yaml",
                                                   "spark-ui-service.yaml"}

    # The Secret: a valid v1 Secret holding every URL, in the job namespace, named after the run.
    secret = yaml.safe_load(captured.read_text())
    assert stat.S_IMODE(captured.stat().st_mode) == 0o600
    kubernetes_validate.validate(secret, "1.37.0", strict=True)
    assert secret["type"] == "Opaque" and secret["immutable"] is True
    assert secret["metadata"] == {
        "name": "wordcount-20261127-090000-ab12-urls",
        "namespace": "spark-jobs",
        "labels": {
            "app.kubernetes.io/name": "sparklab-wordcount",
            "app.kubernetes.io/managed-by": "sparklab",
            "sparklab/run-id": "20261127-090000-ab12",
        },
    }
    assert json.loads(secret["stringData"]["urls.json"]) == {
        "input_urls": SECRET_URLS["spark_wordcount_input_urls"],
        "output_urls": SECRET_URLS["spark_wordcount_output_urls"],
    }

    # The application reads them from the Secret mounted into the driver, not from its arguments.
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    jsonschema.validate(app, json.loads(SCHEMA.read_text()))
    spec = app["spec"]
    # Beside them, the driver's $SPARKLAB_OUTPUT (an emptyDir the launcher packs; WordCount leaves it empty).
    assert spec["volumes"] == [
        {"name": "presigned-urls", "secret": {"secretName": "wordcount-20261127-090000-ab12-urls"}},
        {"name": "sparklab-output", "emptyDir": {}},
    ]
    assert spec["driver"]["volumeMounts"] == [
        {"name": "sparklab-output", "mountPath": "/opt/sparklab-output"},
        {"name": "presigned-urls", "mountPath": "/opt/sparklab-urls", "readOnly": True},
    ]
    assert "volumeMounts" not in spec["executor"]
    assert "--urls-file=/opt/sparklab-urls/urls.json" in spec["arguments"]

    # Nowhere else: not in any file under tmp_path (run folder, Ansible's temporary folders), not
    # in the output. vars.json is the test's input (runner.py's deleted job-vars file).
    skip = {tmp_path / "vars.json", captured}
    leaks, scanned = _files_holding(tmp_path, MARKER, skip)
    assert leaks == []
    # The scan read the run folder and the play; the skipped input really holds the marker.
    assert {run_dir / name for name in ("configmap.yaml", "sparkapplication.yaml",
                                        "spark-ui-service.yaml")} | {tmp_path / "play.yml"} <= set(scanned)
    assert MARKER.encode() in (tmp_path / "vars.json").read_bytes()
    assert MARKER not in proc.stdout + proc.stderr and "X-Amz-" not in proc.stdout + proc.stderr
    captured.unlink()


def test_generate_only_runs_have_no_secret_volume(tmp_path):
    proc, runs = render(
        tmp_path,
        spark_wordcount_generate="1GiB",
        spark_wordcount_input_urls=[],
        spark_wordcount_output_urls=[],
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    (run_dir,) = runs.iterdir()
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    jsonschema.validate(app, json.loads(SCHEMA.read_text()))
    assert app["spec"]["volumes"] == [{"name": "sparklab-output", "emptyDir": {}}]
    assert app["spec"]["driver"]["volumeMounts"] == [
        {"name": "sparklab-output", "mountPath": "/opt/sparklab-output"}]
    assert not any(arg.startswith("--urls-file") for arg in app["spec"]["arguments"])


def test_failed_submission_says_why_without_showing_a_url(tmp_path):
    """No API server listens on 127.0.0.1:9: creating the Secret fails inside a no_log task."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "fake"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    proc, _ = render(
        tmp_path,
        spark_wordcount_submit=True,
        spark_wordcount_size_from_cluster=False,  # the sizing reads would fail first (test_job_sizing)
        spark_wordcount_kubeconfig=str(kubeconfig),
        spark_wordcount_run_id="20261127-090000-ab12",
        **SECRET_URLS,
    )
    assert proc.returncode != 0
    assert "Could not submit wordcount-20261127-090000-ab12 to namespace spark-jobs" in proc.stdout
    assert 'task "submit | Create the Secret with the presigned URLs" failed' in proc.stdout
    assert MARKER not in proc.stdout + proc.stderr
    leaks, scanned = _files_holding(tmp_path, MARKER, {tmp_path / "vars.json"})
    assert leaks == []
    assert {kubeconfig, tmp_path / "play.yml"} <= set(scanned)
    assert MARKER.encode() in (tmp_path / "vars.json").read_bytes()


def test_word_splitter_jar_ships_in_the_configmap_onto_the_driver_and_executor_class_paths(
    tmp_path, words_jar
):
    proc, runs = render(tmp_path, spark_wordcount_run_id="20261127-090000-ab12",
                        spark_wordcount_splitter_jar=str(words_jar))
    assert proc.returncode == 0, proc.stdout[-3000:]
    run_dir = runs / "20261127-090000-ab12"
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    jsonschema.validate(app, json.loads(SCHEMA.read_text()))
    spec = app["spec"]
    driver_mount, executor_mount = spec["driver"]["configMaps"], spec["executor"]["configMaps"]
    assert executor_mount == driver_mount and len(driver_mount) == 1
    assert spec["deps"] == {"jars": [f"local://{driver_mount[0]['path']}/sparklab-words.jar"]}
    configmap = yaml.safe_load((run_dir / "configmap.yaml").read_text())
    kubernetes_validate.validate(configmap, "1.37.0", strict=True)
    assert base64.b64decode(configmap["binaryData"]["sparklab-words.jar"]) == words_jar.read_bytes()
    assert set(configmap["data"]) == {"wordcount_app.py", "launcher.py"}


def test_without_a_splitter_jar_nothing_of_it_is_rendered_and_a_missing_jar_is_refused(tmp_path):
    (tmp_path / "none").mkdir()
    proc, runs = render(tmp_path / "none", spark_wordcount_run_id="20261127-090000-ab12")
    assert proc.returncode == 0, proc.stdout[-3000:]
    run_dir = runs / "20261127-090000-ab12"
    spec = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())["spec"]
    assert "deps" not in spec and "configMaps" not in spec["executor"]
    assert "binaryData" not in yaml.safe_load((run_dir / "configmap.yaml").read_text())

    (tmp_path / "gone").mkdir()
    missing = tmp_path / "nowhere.jar"
    proc, runs = render(tmp_path / "gone", spark_wordcount_splitter_jar=str(missing))
    assert proc.returncode != 0
    assert f"spark_wordcount_splitter_jar={missing} is no jar file on this machine" in proc.stdout
    assert not runs.exists() or not any(runs.iterdir())
