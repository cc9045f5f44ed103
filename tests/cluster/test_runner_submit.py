"""``runner.py submit`` on a cluster, end to end: the real front end, ansible-runner, playbooks/submit.yml
and roles/spark_wordcount, against the stand-in Kubernetes API server and the AWS emulator (moto on
127.0.0.1), with the examples of examples/.

The application's pods are not invented: tests/harness/spark_pods.py runs what the role's
SparkApplication describes, as the operator's webhook shapes it (the ConfigMap's files at their
path, the Secret's keys the pod mounts, the emptyDir volumes, the env, the init containers), with
the driver on real local Spark. So the inputs really travel as uploads to the cluster's bucket and
presigned URLs fetched by the init containers, and the output really comes back as the archive the
launcher PUTs to its presigned URL.

Proves about our code: the staging of local files, a local folder and an https URL; every URL only
in the Secret (not in a manifest, an argument or a file of the run folder); the launcher as the
driver's main file with the application's arguments; the executors' init containers see only the
inputs list; the output archive unpacked into ``output/``; metrics sampled and the report written;
a failing application's own error line and exit 1. Only a real cluster proves the webhook, the
image and Spark's pods themselves.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import yaml
from cluster_fixtures import api_server, seed_after_addons, write_kubeconfig
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, REGION, Sandbox, base_env
from submit_apps import FOUND, sales_totals, write_conventions_app, written_totals

from sparklab.cluster.emulator import Emulator

pytestmark = pytest.mark.xdist_group("cluster-harness")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Its own cluster name, so its bucket is its own on the emulator the worker's tests share.
CLUSTER = "submitlab"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One emulator, one stand-in API server, one sandbox and its bucket for the module's runs."""
    tmp_path = tmp_path_factory.mktemp("submit")
    with Emulator(regions=(REGION,)) as emulator, api_server(tmp_path / "api") as server:
        env = base_env(tmp_path)
        env.update({"AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
                    "AWS_ENDPOINT_URL": emulator.endpoint_url})
        sandbox = Sandbox(tmp_path, env)
        session = boto3.session.Session(FAKE_ACCESS_KEY, FAKE_SECRET, region_name=REGION)
        account = session.client("sts", endpoint_url=emulator.endpoint_url).get_caller_identity()["Account"]
        s3 = session.client("s3", endpoint_url=emulator.endpoint_url)
        s3.create_bucket(Bucket=f"sparklab-{CLUSTER}-{account}-{REGION}",
                         CreateBucketConfiguration={"LocationConstraint": REGION})
        seed_after_addons(server.cluster)
        write_kubeconfig(server, sandbox.sparklab_home / CLUSTER / "kubeconfig")
        config = tmp_path / "cluster.yml"
        config.write_text(yaml.safe_dump({"cluster_name": CLUSTER,
                                          "cluster_admin_cidrs": ["203.0.113.4/32"]}))
        yield sandbox, server, config, s3


def submit(cluster, *args: str):
    sandbox, _, config, _ = cluster
    before = set(runs_of(sandbox))
    proc = sandbox.run("submit", "-c", str(config), "--plain", "-e", "spark_wordcount_poll_seconds=1", *args,
                       timeout=900)
    (run,) = set(runs_of(sandbox)) - before
    return proc, run


def runs_of(sandbox: Sandbox) -> list[Path]:
    runs = sandbox.sparklab_home / CLUSTER / "runs"
    return sorted(path for path in runs.iterdir() if path.is_dir()) if runs.is_dir() else []


def test_dataframe_example_gets_its_input_through_presigned_urls_and_its_output_back(cluster):
    proc, run = submit(cluster, str(EXAMPLES / "sales_by_region.py"), "--input", str(EXAMPLES / "sales.csv"))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert written_totals(run / "output" / "by_region.csv") == sales_totals(EXAMPLES / "sales.csv")
    assert f"output: {run / 'output'} (1 file)" in proc.stdout
    job = json.loads((run / "job.json").read_text())
    assert (job["state"], job["exit_status"], job["app"]) == ("COMPLETED", 0, "sales_by_region.py")
    # The input went through the cluster's bucket; no file of the run folder holds a URL.
    staged = f"{EXAMPLES / 'sales.csv'} -> s3://sparklab-{CLUSTER}-"
    assert any(source.startswith(staged) for source in job["sources"]), job["sources"]
    for path in run.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml", ".log", ".txt"):
            assert "X-Amz-Signature" not in path.read_text(encoding="utf-8", errors="replace"), path
    manifest = yaml.safe_load((run / "sparkapplication.yaml").read_text())
    assert manifest["spec"]["mainApplicationFile"] == "local:///opt/sparklab/launcher.py"
    assert manifest["spec"]["arguments"] == ["--output-url-file=/opt/sparklab-urls/output.json",
                                             "/opt/sparklab/sales_by_region.py"]
    # The executors see only the inputs list of the Secret, through their init container.
    executor_secrets = [v for v in manifest["spec"]["volumes"] if "secret" in v
                        and v["name"] in {m["name"] for m in manifest["spec"]["executor"]["volumeMounts"]}]
    assert [v["secret"]["items"] for v in executor_secrets] == [
        [{"key": "inputs.json", "path": "inputs.json"}]]
    assert (run / "metrics.csv").exists() and (run / "usage.png").stat().st_size > 0
    assert "sales_by_region.py exit status 0" in (run / "summary.txt").read_text()


def test_folder_and_url_inputs_py_files_conf_and_arguments_reach_the_application(cluster, tmp_path):
    app, data, helper = write_conventions_app(tmp_path)
    served = tmp_path / "served"
    served.mkdir()
    (served / "words.txt").write_text("one two\n", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc, run = submit(cluster, str(app), "--input", str(data), "--input",
                           f"http://127.0.0.1:{server.server_port}/words.txt", "--py-files", str(helper),
                           "--conf", "spark.sql.shuffle.partitions=3", "--executors", "2", "--", "--top", "5")
    finally:
        server.shutdown()
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    found = json.loads((run / "output" / "found.json").read_text(encoding="utf-8"))
    assert found == {**FOUND, "words": "one two\n"}
    manifest = yaml.safe_load((run / "sparkapplication.yaml").read_text())
    assert manifest["spec"]["executor"]["instances"] == 2
    assert manifest["spec"]["deps"]["pyFiles"] == ["local:///opt/sparklab/helper.py"]


def test_a_failing_application_ends_with_its_own_error_line_and_exit_1(cluster):
    proc, run = submit(cluster, str(EXAMPLES / "fail.py"))
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    assert proc.stderr.strip().splitlines()[-1] == \
        "error: fail.py failed: ValueError: record 3 is bad on purpose"
    job = json.loads((run / "job.json").read_text())
    assert (job["state"], job["exit_status"]) == ("FAILED", 1)
    assert "Traceback (most recent call last)" in (run / "driver.log").read_text(encoding="utf-8")
    assert "reason: ValueError: record 3 is bad on purpose" in (run / "summary.txt").read_text()


def test_pi_example_runs_with_its_argument_and_no_input_or_output(cluster):
    proc, run = submit(cluster, str(EXAMPLES / "pi.py"), "--", "4")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    log = (run / "driver.log").read_text(encoding="utf-8")
    assert "pi is roughly 3.1" in log
    assert "sparklab-fetch-inputs" not in (run / "sparkapplication.yaml").read_text()  # no input, no init
    assert not (run / "output").exists() or not any((run / "output").iterdir())
    assert json.loads((run / "app-result.json").read_text())["collected"] == {
        "files": 0, "bytes": 0, "uploaded": False, "note": ""}


def test_an_s3_input_the_user_cannot_read_is_refused_before_any_upload(cluster):
    """One line and exit 2: HeadObject with the user's credentials fails before the local input beside
    it is uploaded; no run folder is kept and nothing reaches the API server."""
    sandbox, server, config, s3 = cluster
    buckets = [item["Name"] for item in s3.list_buckets()["Buckets"]]
    (bucket,) = [name for name in buckets if name.startswith(f"sparklab-{CLUSTER}-")]
    apps = server.cluster.kind("sparkapplications", "sparkoperator.k8s.io")

    def objects() -> list[str]:
        return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    before = (runs_of(sandbox), objects(), len(server.cluster.list(apps, "spark-jobs") or []))
    proc = sandbox.run("submit", "-c", str(config), "--plain", str(EXAMPLES / "sales_by_region.py"),
                       "--input", str(EXAMPLES / "sales.csv"), "--input", "s3://no-such-bucket-here/more.csv",
                       timeout=300)
    assert proc.returncode == 2, (proc.stdout + proc.stderr)[-3000:]
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: --input s3://no-such-bucket-here/more.csv: cannot be read with your credentials")
    assert (runs_of(sandbox), objects(), len(server.cluster.list(apps, "spark-jobs") or [])) == before


def test_a_url_input_that_does_not_answer_is_refused_before_any_upload(cluster, tmp_path):
    sandbox, _, config, _ = cluster
    served = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=served.serve_forever, daemon=True).start()
    before = runs_of(sandbox)
    try:
        url = f"http://127.0.0.1:{served.server_port}/missing.csv?X-Amz-Signature=abc"
        proc = sandbox.run("submit", "-c", str(config), "--plain", str(EXAMPLES / "pi.py"), "--input", url,
                           timeout=300)
    finally:
        served.shutdown()
    assert proc.returncode == 2, (proc.stdout + proc.stderr)[-3000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: --input http://127.0.0.1:{served.server_port}/missing.csv: cannot be read from this machine "
        "(HTTP 404) (fix: check the URL)")
    assert "X-Amz-Signature" not in proc.stdout + proc.stderr
    assert runs_of(sandbox) == before


class HeadOnly(SimpleHTTPRequestHandler):
    """A URL that answers this machine's check (HEAD) but refuses the download (GET): as a URL that
    works from a laptop but not from the cluster."""

    def do_HEAD(self) -> None:  # noqa: N802 - the handler's protocol
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.send_error(403)

    def log_message(self, *args) -> None:
        pass


def test_an_input_the_pods_cannot_fetch_fails_the_run_naming_the_init_container(cluster):
    """The init container's failure is the reason given: the run fails, exit 1, its last line naming
    the container whose log names the input (never its URL)."""
    served = ThreadingHTTPServer(("127.0.0.1", 0), HeadOnly)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{served.server_port}/refused.csv?X-Amz-Signature=abc"
        proc, run = submit(cluster, str(EXAMPLES / "pi.py"), "--input", url)
    finally:
        served.shutdown()
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    output = proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: pi.py failed: the driver never started: init container sparklab-fetch-inputs failed: "
        f"its log names the input (kubectl -n spark-jobs logs {job_of(run)['driver_pod']} "
        "-c sparklab-fetch-inputs)")
    assert "X-Amz-Signature" not in output
    assert job_of(run)["state"] == "FAILED"


def job_of(run: Path) -> dict:
    return json.loads((run / "job.json").read_text())
