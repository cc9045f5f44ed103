"""Small local stand-ins shared by the test suites: every one listens on 127.0.0.1 only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3


@contextmanager
def checkip_service(address: str) -> Iterator[str]:
    """A what-is-my-IP service answering ``address``; yields its URL (for SPARKLAB_CHECKIP_URL)."""
    body = f"{address}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def tagged_resources(endpoint_url: str, region: str, cluster: str) -> list[str]:
    """Every live resource of ``cluster`` in the emulator, as ``"<kind> <id>"``.

    Scanned directly with boto3, independently of sparklab's own audit code.
    """
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    flt = [{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
    found = [
        f"instance {i['InstanceId']}"
        for r in ec2.describe_instances(Filters=flt)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    for call, key, id_key in (
        ("describe_vpcs", "Vpcs", "VpcId"),
        ("describe_subnets", "Subnets", "SubnetId"),
        ("describe_security_groups", "SecurityGroups", "GroupId"),
        ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
        ("describe_route_tables", "RouteTables", "RouteTableId"),
        ("describe_key_pairs", "KeyPairs", "KeyName"),
        ("describe_volumes", "Volumes", "VolumeId"),
    ):
        found += [f"{key} {item[id_key]}" for item in getattr(ec2, call)(Filters=flt)[key]]
    s3 = session.client("s3", endpoint_url=endpoint_url)
    # A cluster is one account and one region: its bucket has exactly this name.
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    bucket = f"sparklab-{cluster}-{account}-{region}"
    found += [f"bucket {b['Name']}" for b in s3.list_buckets().get("Buckets", []) if b["Name"] == bucket]
    return found
