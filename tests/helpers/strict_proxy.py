"""A strict, fault-injecting HTTP layer between botocore and the moto server.

botocore -> StrictProxy (127.0.0.1) -> moto. The proxy

* counts every call by ``service:Action`` (and whether it mutates),
* refuses the deletions AWS refuses but moto allows, with AWS's error codes: a security group still
  used by an instance or network interface or referenced by another group, a subnet with instances,
  detaching a gateway while instances in the VPC have public addresses, deleting an attached gateway,
  a VPC with subnets, gateways, groups or route tables left, a route table with associations, a
  non-empty bucket,
* injects throttling errors (``RequestLimitExceeded`` / ``SlowDown`` / ``Throttling``) at a seeded rate,
* can fail chosen actions once with a given error code (simulated interruption or AWS failure).
"""

from __future__ import annotations

import json
import random
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import requests

MUTATING_PREFIXES = (
    "Create",
    "Delete",
    "Run",
    "Terminate",
    "Authorize",
    "Revoke",
    "Attach",
    "Detach",
    "Associate",
    "Disassociate",
    "Modify",
    "Import",
    "Replace",
    "Put",
    "Start",
    "Stop",
    "Reboot",
    "Update",
)
LIVE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")


@dataclass
class Refusal:
    status: int
    code: str
    message: str


@dataclass
class StrictProxy:
    """Forward to ``upstream`` (a moto endpoint), enforcing AWS's deletion rules."""

    upstream: str
    region: str = "eu-west-1"
    throttle_rate: float = 0.0
    seed: int = 7
    calls: Counter[str] = field(default_factory=Counter)
    mutating: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    fail_once: dict[str, Refusal] = field(default_factory=dict)
    _server: Any = None
    _lock: Any = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        self._random.seed(self.seed)
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.mutating.clear()
            self.refused.clear()
            self.throttled = 0

    def configure(self, throttle_rate: float | None = None, seed: int | None = None) -> None:
        with self._lock:
            if throttle_rate is not None:
                self.throttle_rate = throttle_rate
            if seed is not None:
                self._random.seed(seed)

    # ---- direct (unproxied) view of moto, used to decide refusals ---------------------------
    def _client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.upstream,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def _ec2(self) -> Any:
        return self._client("ec2")

    def _s3(self) -> Any:
        return self._client("s3")

    def _live_instances(self, name: str, values: list[str]) -> list[dict[str, Any]]:
        pages = self._ec2().describe_instances(
            Filters=[
                {"Name": name, "Values": values},
                {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
            ]
        )
        return [i for r in pages["Reservations"] for i in r["Instances"]]

    def _live_interfaces(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Interfaces AWS still has: moto keeps those of terminated instances, AWS deletes them."""
        enis = self._ec2().describe_network_interfaces(Filters=filters)["NetworkInterfaces"]
        attached = {e["Attachment"]["InstanceId"] for e in enis if e.get("Attachment", {}).get("InstanceId")}
        live = (
            {i["InstanceId"] for i in self._live_instances("instance-id", sorted(attached))}
            if attached
            else set()
        )
        return [
            e
            for e in enis
            if not e.get("Attachment", {}).get("InstanceId") or e["Attachment"]["InstanceId"] in live
        ]

    def check(self, service: str, action: str, params: dict[str, str], path: str) -> Refusal | None:
        """Return the refusal AWS would give for this call, or None."""
        if service == "ec2":
            return self._check_ec2(action, params)
        if service == "s3" and action == "DeleteBucket":
            bucket = path.strip("/").split("/")[0]
            if self._s3().list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0):
                return Refusal(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
        return None

    def _check_ec2(self, action: str, p: dict[str, str]) -> Refusal | None:
        ec2 = self._ec2()
        dep = "DependencyViolation"
        if action == "DeleteSecurityGroup":
            gid = p.get("GroupId", "")
            if self._live_instances("instance.group-id", [gid]):
                return Refusal(400, dep, f"resource {gid} has a dependent object")
            if self._live_interfaces([{"Name": "group-id", "Values": [gid]}]):
                return Refusal(400, dep, f"resource {gid} has a dependent object")
            for group in ec2.describe_security_groups()["SecurityGroups"]:
                if group["GroupId"] == gid:
                    continue
                for perm in group.get("IpPermissions", []) + group.get("IpPermissionsEgress", []):
                    if any(pair.get("GroupId") == gid for pair in perm.get("UserIdGroupPairs", [])):
                        return Refusal(400, dep, f"resource {gid} has a dependent object")
        elif action == "DeleteSubnet":
            sid = p.get("SubnetId", "")
            if self._live_instances("subnet-id", [sid]):
                return Refusal(400, dep, f"The subnet '{sid}' has dependencies and cannot be deleted.")
        elif action == "DetachInternetGateway":
            vpc = p.get("VpcId", "")
            if any(i.get("PublicIpAddress") for i in self._live_instances("vpc-id", [vpc])):
                return Refusal(
                    400,
                    dep,
                    f"Network {vpc} has some mapped public address(es). "
                    "Please unmap those public address(es) before detaching the gateway.",
                )
        elif action == "DeleteInternetGateway":
            igw = p.get("InternetGatewayId", "")
            found = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
            if found and found[0].get("Attachments"):
                return Refusal(
                    400, dep, f"The internetGateway '{igw}' has dependencies and cannot be deleted."
                )
        elif action == "DeleteRouteTable":
            rtb = p.get("RouteTableId", "")
            found = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
            if found and any(a.get("SubnetId") or a.get("Main") for a in found[0].get("Associations", [])):
                return Refusal(400, dep, f"The routeTable '{rtb}' has dependencies and cannot be deleted.")
        elif action == "DeleteVpc":
            vpc = p.get("VpcId", "")
            flt = [{"Name": "vpc-id", "Values": [vpc]}]
            blockers = (
                ec2.describe_subnets(Filters=flt)["Subnets"]
                or ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
                    "InternetGateways"
                ]
                or [
                    g
                    for g in ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
                    if g["GroupName"] != "default"
                ]
                or [
                    r
                    for r in ec2.describe_route_tables(Filters=flt)["RouteTables"]
                    if not any(a.get("Main") for a in r.get("Associations", []))
                ]
                or self._live_instances("vpc-id", [vpc])
            )
            if blockers:
                return Refusal(400, dep, f"The vpc '{vpc}' has dependencies and cannot be deleted.")
        return None

    # ---- request classification -------------------------------------------------------------
    @staticmethod
    def classify(method: str, path: str, headers: Any, body: bytes) -> tuple[str, str, dict[str, str]]:
        auth = headers.get("Authorization", "")
        service = ""
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            service = scope[3] if len(scope) > 3 else ""
        target = headers.get("X-Amz-Target", "")
        params: dict[str, str] = {}
        if target:
            return service, target.split(".")[-1], params
        if service == "s3":
            return service, _s3_action(method, path), params
        ctype = headers.get("Content-Type", "")
        if body and "x-www-form-urlencoded" in ctype:
            params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        params.update(query)
        return service, params.get("Action", f"{method} {path.split('?')[0]}"), params

    def is_mutating(self, service: str, action: str) -> bool:
        return action.startswith(MUTATING_PREFIXES)

    def throttle_error(self, service: str) -> Refusal | None:
        with self._lock:
            if self.throttle_rate <= 0 or self._random.random() >= self.throttle_rate:
                return None
            self.throttled += 1
        if service == "s3":
            return Refusal(503, "SlowDown", "Please reduce your request rate.")
        if service == "ec2":
            return Refusal(503, "RequestLimitExceeded", "Request limit exceeded.")
        return Refusal(400, "Throttling", "Rate exceeded")


def _s3_action(method: str, path: str) -> str:
    parts = urllib.parse.urlsplit(path)
    segments = [s for s in parts.path.split("/") if s]
    query = parts.query
    sub = query.split("=")[0].split("&")[0] if query else ""
    if not segments:
        return "ListBuckets"
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}[method]
    if len(segments) > 1:
        return f"{verb}Object"
    if sub:
        return f"{verb}Bucket{sub[:1].upper()}{sub[1:]}"
    return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, "ListObjects")


def _error_body(service: str, err: Refusal) -> tuple[bytes, str]:
    if service == "ec2":
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{err.code}</Code>'
            f"<Message>{err.message}</Message></Error></Errors><RequestID>strict-proxy</RequestID></Response>"
        )
        return xml.encode(), "text/xml"
    if service == "s3":
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{err.code}</Code><Message>{err.message}'
            "</Message><RequestId>strict-proxy</RequestId></Error>"
        )
        return xml.encode(), "application/xml"
    if service in ("ssm",):
        return json.dumps({"__type": err.code, "message": err.message}).encode(), "application/x-amz-json-1.1"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{err.code}</Code><Message>{err.message}</Message>"
        "</Error><RequestId>strict-proxy</RequestId></ErrorResponse>"
    )
    return xml.encode(), "text/xml"


def _make_handler(proxy: StrictProxy) -> type[BaseHTTPRequestHandler]:
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            service, action, params = proxy.classify(self.command, self.path, self.headers, body)
            key = f"{service}:{action}"
            with proxy._lock:
                proxy.calls[key] += 1
                if proxy.is_mutating(service, action):
                    proxy.mutating[key] += 1
                forced = proxy.fail_once.pop(action, None)
            err = forced or proxy.throttle_error(service)
            if err is None and self.command in ("POST", "DELETE"):
                err = proxy.check(service, action, params, self.path)
                if err is not None:
                    with proxy._lock:
                        proxy.refused[f"{key}:{err.code}"] += 1
            if err is not None:
                payload, ctype = _error_body(service, err)
                self.send_response(err.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            upstream = session.request(
                self.command,
                proxy.upstream + self.path,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=60,
            )
            content = upstream.content
            self.send_response(upstream.status_code)
            for k, v in upstream.headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    return Handler
