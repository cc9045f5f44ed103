"""Job inputs become presigned URLs; run ids, folders and the driver-log result."""

from __future__ import annotations

import contextlib
import json
import stat
from urllib.parse import parse_qs, urlparse

import pytest
from moto import mock_aws

from sparklab.job import runs as jobs
from sparklab.job.wordcount_app import parse_size, result_line


@pytest.fixture
def s3(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = jobs.make_s3_client("eu-west-1")
        for bucket in ("data", "sparklab-lab-123456789012-eu-west-1"):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in ("books/a.txt", "books/b.txt", "books/sub/c.txt", "single.txt"):
            client.put_object(Bucket="data", Key=key, Body=b"some words\n")
        yield client


def test_s3_objects_and_prefixes_become_short_lived_presigned_urls(s3):
    run_id = jobs.new_run_id()
    prepared = jobs.prepare_inputs(
        ["s3://data/single.txt", "s3://data/books/", "https://example.org/x.txt"],
        s3_client=s3,
        bucket="sparklab-lab-123456789012-eu-west-1",
        owner="123456789012",
        run_id=run_id,
        expiry=900,
        output_parts=2,
    )
    assert prepared.sources == [
        "s3://data/single.txt",
        "s3://data/books/a.txt",
        "s3://data/books/b.txt",
        "s3://data/books/sub/c.txt",
        "https://example.org/x.txt",
    ]
    for url in prepared.input_urls[:4]:
        query = parse_qs(urlparse(url).query)
        assert query["X-Amz-Expires"] == ["900"] and "X-Amz-Signature" in query
    assert prepared.input_urls[4] == "https://example.org/x.txt"
    assert prepared.output_keys == [
        f"runs/{run_id}/counts/part-00000.csv",
        f"runs/{run_id}/counts/part-00001.csv",
    ]
    assert all("X-Amz-Signature" in url for url in prepared.output_urls)


def test_local_files_and_folders_are_uploaded_to_the_cluster_bucket(s3, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "one.txt").write_text("one\n")
    (tmp_path / "docs" / "two.txt").write_text("two\n")
    bucket = jobs.bucket_name("lab", "123456789012", "eu-west-1")
    prepared = jobs.prepare_inputs(
        [str(tmp_path / "docs")],
        s3_client=s3,
        bucket=bucket,
        owner="123456789012",
        run_id="20261127-090000-ab12",
        output_parts=0,
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [
        "runs/20261127-090000-ab12/input/0000-one.txt",
        "runs/20261127-090000-ab12/input/0001-two.txt",
    ]
    assert len(prepared.input_urls) == 2 and prepared.output_urls == []


@pytest.mark.parametrize(
    ("specs", "kwargs", "message"),
    [
        ([], {}, "no input"),
        (["/no/such/file.txt"], {}, "no such file"),
        (["s3://data/key"], {}, "need AWS credentials"),
        (["s3://data/missing/"], {"use_s3": True}, "no object under this prefix"),
        ([], {"generate": "lots"}, "invalid size"),
    ],
)
def test_unusable_inputs_are_refused_with_a_fix(s3, specs, kwargs, message):
    client = s3 if kwargs.pop("use_s3", False) else None
    with pytest.raises(jobs.InputError, match=message):
        jobs.prepare_inputs(specs, s3_client=client, bucket="b", run_id="20261127-090000-ab12", **kwargs)


def test_job_vars_file_holds_the_urls_and_is_private(tmp_path):
    prepared = jobs.PreparedInputs(input_urls=["https://x/y?sig=1"], generate="1GiB")
    path = jobs.write_job_vars(tmp_path / "run", prepared.job_vars("20261127-090000-ab12", top=7))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["spark_wordcount_input_urls"] == ["https://x/y?sig=1"] and data["spark_wordcount_top"] == 7


def test_run_ids_are_unique_and_name_the_application_and_folder(tmp_path, monkeypatch):
    ids = {jobs.new_run_id(now=1_800_000_000) for _ in range(50)}
    assert len(ids) > 40 and all(i.startswith("20270115-080000-") for i in ids)
    run_id = ids.pop()
    assert jobs.app_name(run_id) == f"wordcount-{run_id}"
    monkeypatch.setenv("SPARKLAB_HOME", str(tmp_path))
    assert jobs.run_dir("lab", run_id) == tmp_path / "lab" / "runs" / run_id
    with pytest.raises(jobs.InputError):
        jobs.app_name("Bad_Id")


def test_result_line_round_trips_through_parse_driver_log():
    record = {
        "version": 1,
        "top": [["été", 3], ["a", 2]],
        "lines": 4,
        "words": 9,
        "distinct_words": 5,
        "bytes": 77,
        "inputs": 1,
        "splits": 1,
        "started_at": "2026-11-27T09:00:00Z",
        "finished_at": "2026-11-27T09:00:05Z",
        "elapsed_seconds": 5.0,
        "output": {"kind": "none"},
    }
    log = f"26/11/27 INFO start\n{result_line(record)}\n26/11/27 INFO SparkContext: stopped\n"
    result = jobs.parse_driver_log(log)
    assert result.top == [("été", 3), ("a", 2)] and result.words == 9 and result.bytes == 77
    assert result.to_dict()["top"] == record["top"]


def test_sizes_accept_decimal_and_binary_units():
    assert (
        parse_size("200MB") == 200_000_000 and parse_size("2GiB") == 2 * 2**30 and parse_size("4096") == 4096
    )
    assert parse_size("1.5 kb") == 1500
    with pytest.raises(ValueError, match="invalid size"):
        parse_size("12 parsecs")


@pytest.mark.parametrize("fails", [False, True])
def test_job_vars_file_is_private_during_the_run_and_gone_after_it(tmp_path, fails):
    prepared = jobs.PreparedInputs(input_urls=["https://x/y?X-Amz-Signature=1"])
    seen = {}
    with pytest.raises(RuntimeError) if fails else contextlib.nullcontext():  # noqa: SIM117
        with jobs.job_vars_file(tmp_path / "run", prepared.job_vars("20261127-090000-ab12")) as path:
            seen["mode"] = stat.S_IMODE(path.stat().st_mode)
            seen["urls"] = json.loads(path.read_text())["spark_wordcount_input_urls"]
            if fails:
                raise RuntimeError("the playbook was interrupted")
    assert seen == {"mode": 0o600, "urls": ["https://x/y?X-Amz-Signature=1"]}
    assert not path.exists() and list((tmp_path / "run").iterdir()) == []
