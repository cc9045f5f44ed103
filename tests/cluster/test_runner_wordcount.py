"""``runner.py wordcount`` end to end: the real front end, ansible-runner, wordcount.yml and the metrics
sampler, against the stand-in Kubernetes API server and the AWS emulator (moto on 127.0.0.1).

Proves about our code: the verb presigns the output URLs for the cluster's bucket, submits the job
through the playbook, samples ``metrics.k8s.io`` for the nodes and the job's pods while it runs,
reads the driver's result, downloads the CSV parts from S3 and merges them into counts.csv, and
writes result.json, metrics.csv, usage.png and summary.txt. The Spark operator, driver and
executors are the model of tests/harness/models.py: it counts a fixed text (50 times "the quick
brown fox jumps over the lazy dog / The dog sleeps; the fox runs.") with the application's own word
rule and PUTs the parts to the presigned URLs with the application's own part writer, so the counts
below are checked by hand. The job itself runs on real Spark in tests/spark; only a real cluster
proves the job there and real metrics.
"""

from __future__ import annotations

import base64
import csv
import json

import boto3
import pytest
import yaml
from cluster_fixtures import api_server, seed_after_addons, write_kubeconfig
from models import SparkOperatorModel
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, REGION, Sandbox, base_env

from sparklab.cluster.emulator import Emulator

pytestmark = pytest.mark.xdist_group("cluster-harness")


def test_runner_wordcount_submits_samples_and_reports(tmp_path):
    operator = SparkOperatorModel(run_seconds=7)
    with Emulator(regions=(REGION,)) as emulator, api_server(tmp_path / "api", operator=operator) as server:
        env = base_env(tmp_path)
        env.update(
            {
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
                "AWS_ENDPOINT_URL": emulator.endpoint_url,
            }
        )
        sandbox = Sandbox(tmp_path, env)
        session = boto3.session.Session(FAKE_ACCESS_KEY, FAKE_SECRET, region_name=REGION)
        account = session.client("sts", endpoint_url=emulator.endpoint_url).get_caller_identity()["Account"]
        session.client("s3", endpoint_url=emulator.endpoint_url).create_bucket(
            Bucket=f"sparklab-harness-{account}-{REGION}",
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )
        seed_after_addons(server.cluster)
        write_kubeconfig(server, sandbox.sparklab_home / "harness" / "kubeconfig")
        config = tmp_path / "cluster.yml"
        config.write_text(
            yaml.safe_dump({"cluster_name": "harness", "cluster_admin_cidrs": ["203.0.113.4/32"]})
        )
        proc = sandbox.run(
            "wordcount",
            "-c",
            str(config),
            "--generate",
            "1MiB",
            "--plain",
            "-e",
            "spark_wordcount_poll_seconds=1",
            timeout=600,
        )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    runs = [d for d in (sandbox.sparklab_home / "harness" / "runs").iterdir() if (d / "result.json").exists()]
    assert len(runs) == 1
    run = runs[0]
    result = json.loads((run / "result.json").read_text())
    assert result["top"][0] == ["the", 200]
    # The word splitter's jar, built by the runner into the user's cache, went to driver and executors.
    assert result["word_splitter"] == "jvm"
    (jar,) = (sandbox.home / ".cache" / "sparklab").glob("sparklab-words-*.jar")
    configmap = yaml.safe_load((run / "configmap.yaml").read_text())
    assert base64.b64decode(configmap["binaryData"]["sparklab-words.jar"]) == jar.read_bytes()
    # Per copy of the two lines: "the" 3 + 1 ("The"), "dog" and "fox" 2, the seven others 1; 50 copies.
    hand_counted = [("the", 200), ("dog", 100), ("fox", 100)] + [
        (word, 50) for word in ("brown", "jumps", "lazy", "over", "quick", "runs", "sleeps")
    ]
    with (run / "counts.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["word", "count"]
    assert [(word, int(count)) for word, count in rows[1:]] == hand_counted
    assert "full counts:" in proc.stdout and "(10 words)" in proc.stdout
    with (run / "metrics.csv").open() as handle:
        samples = list(csv.DictReader(handle))
    assert samples, "the sampler recorded nothing"
    assert (run / "usage.png").stat().st_size > 0 and (run / "summary.txt").read_text().strip()
    assert "sampled the metrics API" in proc.stdout
