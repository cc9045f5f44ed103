"""A careless or hostile neighbour against moto behind the strict proxy: a bucket of the cluster's
predictable name made first by another account is never adopted or written, and a refused run
changes nothing first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from awslab import REGION, AwsLab
from botocore.exceptions import ClientError

from sparklab.job import runs as jobs

pytestmark = pytest.mark.xdist_group("emulator-neighbour")

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"


def _other_account_s3(aws: AwsLab) -> Any:
    """An S3 client of another account (moto switches accounts on an assumed role's ARN)."""
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/squatter"
    creds = aws.client("sts").assume_role(RoleArn=role, RoleSessionName="squatter")["Credentials"]
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=aws.emulator.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert (
        boto3.client(
            "sts",
            region_name=REGION,
            endpoint_url=aws.emulator.endpoint_url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).get_caller_identity()["Account"]
        == OTHER_ACCOUNT
    )
    return s3


def _no_tags(s3: Any, bucket: str) -> bool:
    try:
        s3.get_bucket_tagging(Bucket=bucket)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "NoSuchTagSet"
    return False


def test_a_bucket_of_another_account_with_the_cluster_name_is_never_adopted_or_written(
    aws: AwsLab, tmp_path: Path
) -> None:
    cluster = "squat"
    name = f"sparklab-{cluster}-{ACCOUNT}-{REGION}"
    squatter = _other_account_s3(aws)
    squatter.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        assert name not in {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
        aws.proxy.reset_counts()
        up = aws.playbook("provision", cluster, workers=0)
        assert up.rc != 0
        lines = [
            ln for ln in up.stdout.splitlines() if f"S3 bucket {name} exists but belongs to another" in ln
        ]
        assert lines and "cluster_name:" in lines[0], up.stdout[-3000:]
        assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
        assert _no_tags(squatter, name)
        assert aws.tagged(cluster) == []

        # Teardown leaves another account's bucket alone.
        down = aws.playbook("teardown", cluster)
        assert down.rc == 0, down.stdout[-3000:]
        assert squatter.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

        # The front end uploads nothing and presigns nothing for it, and reads no counts from it.
        corpus = tmp_path / "corpus.txt"
        corpus.write_text("private words\n", encoding="utf-8")
        s3 = aws.client("s3")
        with pytest.raises(jobs.ForeignBucketError, match="belongs to another AWS account"):
            jobs.prepare_inputs(
                [str(corpus)], s3_client=s3, bucket=name, owner=ACCOUNT, run_id="20261127-090000-ab12"
            )
        with pytest.raises(jobs.ForeignBucketError, match="belongs to another AWS account"):
            jobs.prepare_inputs(
                [], generate="1MB", s3_client=s3, bucket=name, owner=ACCOUNT, run_id="20261127-090000-ab12"
            )
        squatter.put_object(Bucket=name, Key="runs/x/counts/part-00000.csv", Body=b"word,count\nforged,9\n")
        with pytest.raises(jobs.ForeignBucketError):
            jobs.collect_counts(s3, name, ["runs/x/counts/part-00000.csv"], tmp_path / "counts.csv", ACCOUNT)
        keys = [o["Key"] for o in squatter.list_objects_v2(Bucket=name).get("Contents", [])]
        assert keys == ["runs/x/counts/part-00000.csv"] and not (tmp_path / "counts.csv").exists()
    finally:
        for obj in squatter.list_objects_v2(Bucket=name).get("Contents", []):
            squatter.delete_object(Bucket=name, Key=obj["Key"])
        squatter.delete_bucket(Bucket=name)


def _ingress(aws: AwsLab, cluster: str) -> list[Any]:
    groups = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
    )["SecurityGroups"]
    return sorted((json.dumps(p, sort_keys=True) for g in groups for p in g["IpPermissions"]), key=str)


def test_a_second_machine_with_another_key_is_refused_before_any_change(aws: AwsLab, tmp_path: Path) -> None:
    cluster = "twohomes"
    first = aws.playbook("provision", cluster, workers=0)
    assert first.rc == 0, first.stdout[-3000:]
    before = _ingress(aws, cluster)
    assert before and any("198.51.100.7/32" in p for p in before)

    # Same identity, another SPARKLAB_HOME (so another SSH key) and another admin address.
    aws.proxy.reset_counts()
    second = aws.playbook(
        "provision",
        cluster,
        "-e",
        json.dumps({"cluster_admin_cidrs": ["203.0.113.9/32"]}),
        workers=0,
        env={"SPARKLAB_HOME": str(tmp_path / "another-home")},
    )
    assert second.rc != 0
    assert f"cluster_name: EC2 key pair sparklab-{cluster}" in second.stdout, second.stdout[-3000:]
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
    assert _ingress(aws, cluster) == before

    down = aws.playbook("teardown", cluster)
    assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]
