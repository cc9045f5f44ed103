"""Small local stand-ins shared by the test suites: every one listens on 127.0.0.1 only."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


class CountingListener:
    """A TCP port on 127.0.0.1 that counts connections (a stand-in for every AWS endpoint, or an
    API that never answers); ``hold`` keeps them open without answering."""

    def __init__(self, hold: bool = False) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.connections = 0
        self.hold = hold
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.hold:
                self.held.append(conn)
            else:
                conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


# The tagged EC2 kinds besides instances: list key -> (describe call, id field).
TAGGED_EC2 = {
    "Vpcs": ("describe_vpcs", "VpcId"),
    "Subnets": ("describe_subnets", "SubnetId"),
    "SecurityGroups": ("describe_security_groups", "GroupId"),
    "InternetGateways": ("describe_internet_gateways", "InternetGatewayId"),
    "RouteTables": ("describe_route_tables", "RouteTableId"),
    "KeyPairs": ("describe_key_pairs", "KeyPairId"),
    "Volumes": ("describe_volumes", "VolumeId"),
}
# What tagged_resources finds of a complete cluster with no worker, in the order provisioning
# makes it: exactly one of each.
# In creation order: the key pair comes first (its check runs before any change), then the network.
ONE_OF_EACH_KIND = ["KeyPairs", "Vpcs", "Subnets", "InternetGateways", "RouteTables", "SecurityGroups",
                    "bucket", "instance", "Volumes"]


def tagged_ec2_items(ec2: Any, cluster: str) -> list[tuple[str, dict[str, Any]]]:
    """``(list key, item)`` of every tagged EC2 resource of ``cluster`` but its instances."""
    flt = [{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
    return [(key, item) for key, (call, _) in TAGGED_EC2.items()
            for item in getattr(ec2, call)(Filters=flt)[key]]


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
    # Key pairs are named by their name here (their id in tagged_ec2_ids).
    found += [f"{key} {item['KeyName' if key == 'KeyPairs' else TAGGED_EC2[key][1]]}"
              for key, item in tagged_ec2_items(ec2, cluster)]
    s3 = session.client("s3", endpoint_url=endpoint_url)
    # A cluster is one account and one region: its bucket has exactly this name.
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    bucket = f"sparklab-{cluster}-{account}-{region}"
    found += [f"bucket {b['Name']}" for b in s3.list_buckets().get("Buckets", []) if b["Name"] == bucket]
    return found
