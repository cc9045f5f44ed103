"""Bad input, foreign owners, AWS failures, interruptions and throttling, through the strict proxy."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from awslab import REGION, AwsLab
from botocore.exceptions import ClientError
from local_services import ONE_OF_EACH_KIND
from strict_proxy import Refusal

BAD_INPUTS = [
    ("cluster_name", ["-e", "cluster_name=Bad_Name"]),
    ("cluster_aws_region", ["-e", "cluster_aws_region=mars-north-1"]),
    ("cluster_admin_cidrs", ["-e", '{"cluster_admin_cidrs": ["0.0.0.0/0"]}']),
    ("cluster_admin_cidrs", ["-e", '{"cluster_admin_cidrs": ["10.0.0.1/8"]}']),
    ("cluster_admin_cidrs", ["-e", '{"cluster_admin_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}']),
    ("cluster_spark_ui_node_port", ["-e", "cluster_spark_ui_node_port=30080"]),
    ("cluster_worker_count", ["-e", "cluster_worker_count=x"]),
    ("cluster_worker_count", ["-e", "cluster_worker_count=51"]),
    ("cluster_control_plane_instance_type", ["-e", "cluster_control_plane_instance_type=t3.micro"]),
    ("cluster_control_plane_instance_type", ["-e", "cluster_control_plane_instance_type=t3.small"]),
    ("cluster_worker_instance_type", ["-e", "cluster_worker_instance_type=t4g.large"]),
    ("cluster_subnet_cidr", ["-e", "cluster_subnet_cidr=10.43.0.0/24"]),
    ("cluster_ttl_hours", ["-e", "cluster_ttl_hours=-1"]),
    ("cluster_ami_id", ["-e", "cluster_ami_id=ubuntu"]),
    ("cluster_wroker_count", ["-e", "cluster_wroker_count=3"]),
    ("cluster_root_volume_gib", ["-e", "cluster_root_volume_gib=8"]),
]


def test_bad_input_fails_in_one_line_before_any_mutating_call(aws: AwsLab) -> None:
    aws.proxy.reset_counts()

    def run(case: tuple[str, list[str]]):
        key, extra = case
        return key, aws.playbook("provision", "badinput", *extra)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, BAD_INPUTS))
    for key, result in results:
        assert result.rc != 0, key
        lines = [ln for ln in result.stdout.splitlines() if '"msg": "cluster_' in ln]
        assert len(lines) == 1, result.stdout[-2000:]
        message = lines[0].split('"msg": ', 1)[1]
        assert f"{key}:" in message and "(fix:" in message, message
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
    assert aws.tagged("badinput") == []


def test_admin_cidr_detection_failure_is_a_one_line_error(aws: AwsLab) -> None:
    aws.proxy.reset_counts()
    run = aws.playbook("provision", "nodetect", env={"SPARKLAB_CHECKIP_URL": "http://127.0.0.1:9/"})
    assert run.rc != 0
    assert "cluster_admin_cidrs: is empty and detecting your public IPv4" in run.stdout
    assert sum(aws.proxy.mutating.values()) == 0


def test_provision_refuses_resources_of_another_owner(aws: AwsLab) -> None:
    ec2 = aws.client("ec2")
    ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[
            {
                "ResourceType": "vpc",
                "Tags": [
                    {"Key": "sparklab:cluster", "Value": "taken"},
                    {"Key": "sparklab:owner", "Value": "arn:aws:iam::123456789012:user/someone-else"},
                ],
            }
        ],
    )
    aws.proxy.reset_counts()
    run = aws.playbook("provision", "taken")
    assert run.rc != 0
    assert "belong to arn:aws:iam::123456789012:user/someone-else" in run.stdout
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
    down = aws.playbook("teardown", "taken")
    assert down.rc != 0 and "nothing was deleted" in down.stdout
    assert (
        len(ec2.describe_vpcs(Filters=[{"Name": "tag:sparklab:cluster", "Values": ["taken"]}])["Vpcs"]) == 1
    )


def test_strict_proxy_refuses_deletes_that_aws_refuses(aws: AwsLab) -> None:
    ec2 = aws.client("ec2", via_proxy=True)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    group = ec2.create_security_group(GroupName="strict", Description="strict", VpcId=vpc)["GroupId"]
    inst = ec2.run_instances(
        ImageId=aws.emulator.current_ami(REGION),
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        SecurityGroupIds=[group],
    )["Instances"][0]["InstanceId"]
    for call in (
        lambda: ec2.delete_security_group(GroupId=group),
        lambda: ec2.delete_subnet(SubnetId=subnet),
        lambda: ec2.delete_internet_gateway(InternetGatewayId=igw),
        lambda: ec2.delete_vpc(VpcId=vpc),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "DependencyViolation"
    s3 = aws.client("s3", via_proxy=True)
    s3.create_bucket(Bucket="strict-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="strict-bucket", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket="strict-bucket")
    assert err.value.response["Error"]["Code"] == "BucketNotEmpty"
    ec2.terminate_instances(InstanceIds=[inst])
    ec2.delete_security_group(GroupId=group)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_vpc(VpcId=vpc)


# Creating steps in provisioning order, each failed once with an error AWS gives there (errors
# botocore does not retry), with the kinds of resource every earlier step has made (as the
# independent scan in tests/helpers/local_services.py names them).
INTERRUPTIONS = [
    ("ImportKeyPair", "KeyPairLimitExceeded", "Import the public key", []),
    ("CreateSubnet", "Unsupported", "Create the public subnet", ["Vpcs"]),
    ("CreateInternetGateway", "InternetGatewayLimitExceeded", "internet gateway", ["Subnets"]),
    ("CreateRouteTable", "RouteTableLimitExceeded", "route table", ["InternetGateways"]),
    (
        "CreateSecurityGroup",
        "SecurityGroupLimitExceeded",
        "Create the cluster security group",
        ["RouteTables"],
    ),
    ("CreateBucket", "TooManyBuckets", "bucket", ["SecurityGroups"]),
    ("RunInstances", "VcpuLimitExceeded", "Launch the control plane", ["bucket"]),
]
# amazon.aws's ec2_security_group wraps the ClientError before fail_json_aws sees it, and 11.4's
# ec2_key raises Ec2KeyFailure(e, "error importing key") with its two arguments swapped
# (plugins/modules/ec2_key.py, _import_key_pair), so these failures carry no AWS error code: the
# message then says so, and the code appears only inside AWS's message text.
CODE_LOST_BY_MODULE = {"CreateSecurityGroup", "ImportKeyPair"}


def _kinds(aws: AwsLab, cluster: str) -> list[str]:
    return sorted(r.split()[0] for r in aws.tagged(cluster))


def test_provision_cut_at_each_step_keeps_what_came_before_resumes_to_one_of_each_and_tears_down_to_zero(
    aws: AwsLab,
) -> None:
    """One cluster cut at every creating step in turn: each run resumes through the earlier cuts, so
    every cut is met with exactly the earlier steps' resources in place (as a first run cut there
    would meet them), and each resumption is checked for duplicates at the next cut. One worker, so
    the last resumption launches the control plane and a worker after the cut at RunInstances."""
    cluster = "cut"
    for action, code, step, made_before in INTERRUPTIONS:
        aws.proxy.fail_once[action] = Refusal(400, code, f"injected {code}")
        failed = aws.playbook("provision", cluster, workers=1)
        assert failed.rc != 0, action
        assert action not in aws.proxy.fail_once, f"{action} was never called"
        assert step in failed.stdout, action
        expected = "(no AWS error code)" if action in CODE_LOST_BY_MODULE else f"AWS error {code}"
        assert expected in failed.stdout, action
        if action not in CODE_LOST_BY_MODULE:  # the module drops code and message for these two
            assert code in failed.stdout, action
        assert "python3 runner.py down -c cluster.yml" in failed.stdout, action
        assert "python3 runner.py up -c cluster.yml" in failed.stdout, action
        # The cut leaves exactly the kinds of every earlier step, one of each, and nothing of later steps.
        earlier = ONE_OF_EACH_KIND[: ONE_OF_EACH_KIND.index(made_before[0]) + 1] if made_before else []
        assert _kinds(aws, cluster) == sorted(earlier), (action, failed.stdout[-3000:])
    # Provisioning again finishes the cluster without duplicating anything.
    resumed = aws.playbook("provision", cluster, workers=1)
    assert resumed.rc == 0, resumed.stdout[-4000:]
    assert _kinds(aws, cluster) == sorted([*ONE_OF_EACH_KIND, "instance", "Volumes"])  # the worker's
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0, down.stdout[-4000:]
    assert aws.tagged(cluster) == []


def test_a_failed_step_names_its_cause_and_never_blames_a_valid_instance_type(aws: AwsLab) -> None:
    cluster = "typo"
    run = aws.playbook("provision", cluster, "-e", "cluster_worker_instance_type=t3.lrage", workers=1)
    assert run.rc != 0
    prefix = "fatal: [localhost]: FAILED! => "
    failures = [
        ln
        for ln in run.stdout.splitlines()
        if ln.startswith(prefix) and '"msg": "provisioning of cluster typo' in ln
    ]
    assert len(failures) == 1, run.stdout[-4000:]
    message = json.loads(failures[0][len(prefix) :])["msg"]
    # The first line (the one a terminal shows per failure) names the key and the bad value.
    first = message.splitlines()[0]
    assert first.startswith(
        "provisioning of cluster typo (eu-west-1) stopped: cluster_worker_instance_type: t3.lrage"
    )
    assert "cause: cluster_worker_instance_type: t3.lrage is not an x86_64 instance type" in message
    assert "One or more items failed" not in message
    assert "t3.medium is not" not in run.stdout
    assert "exists now: " in message
    assert "resume: python3 runner.py up -c cluster.yml" in message
    assert "remove everything: python3 runner.py down -c cluster.yml" in message
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]


def test_provision_and_teardown_succeed_under_30_percent_throttling(aws: AwsLab) -> None:
    aws.proxy.configure(throttle_rate=0.3, seed=42)
    try:
        up = aws.playbook("provision", "throttled", workers=1)
        assert up.rc == 0, up.stdout[-4000:]
        down = aws.playbook("teardown", "throttled")
        assert down.rc == 0, down.stdout[-4000:]
        assert aws.proxy.throttled > 20
    finally:
        aws.proxy.configure(throttle_rate=0.0)
    assert aws.tagged("throttled") == []
