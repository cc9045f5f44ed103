"""Decoding of the Kubernetes protobuf wire format for the objects clients send that way.

client-go's typed clientsets write core objects as ``application/vnd.kubernetes.protobuf``: Helm's
release storage (pkg/storage/driver/secrets.go) creates and updates its Secrets so. The encoding
(k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic ``k8s\\0``, then a
``runtime.Unknown`` (1 typeMeta {1 apiVersion, 2 kind}, 2 raw), whose ``raw`` is the object's
message as in k8s.io/api/<group>/<version>/generated.proto. Decoded here: Secret and ConfigMap
(core/v1) and CertificateSigningRequest (certificates/v1: kubectl certificate approve sends it so),
with the ObjectMeta fields name, generateName, namespace, uid, resourceVersion, labels,
annotations. Any other kind sent as protobuf is refused (415), so a client that needs more shows
at once.
"""

from __future__ import annotations

import base64

MAGIC = b"k8s\x00"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one message; length-delimited values as bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            out.append((number, data[pos : pos + 8]))
            pos += 8
        elif wire == 5:
            out.append((number, data[pos : pos + 4]))
            pos += 4
        else:
            raise ValueError(f"protobuf wire type {wire} not supported")
    return out


def _map_entry(data: bytes) -> tuple[str, bytes]:
    entry = dict(fields(data))
    return bytes(entry.get(1, b"")).decode(), bytes(entry.get(2, b""))


def _metadata(data: bytes) -> dict:
    names = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    meta: dict = {}
    for number, value in fields(data):
        if number in names and isinstance(value, bytes):
            meta[names[number]] = value.decode()
        elif number in (11, 12) and isinstance(value, bytes):
            key, item = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item.decode()
    return meta


class Unsupported(Exception):
    """A protobuf body of a kind this decoder does not know."""


def decode(body: bytes) -> dict:
    """The JSON form of a protobuf-encoded Secret or ConfigMap."""
    if not body.startswith(MAGIC):
        raise Unsupported("not a Kubernetes protobuf body")
    unknown = dict(fields(body[len(MAGIC) :]))
    type_meta = dict(fields(bytes(unknown.get(1, b""))))
    api_version = bytes(type_meta.get(1, b"")).decode()
    kind = bytes(type_meta.get(2, b"")).decode()
    obj: dict = {"apiVersion": api_version, "kind": kind, "metadata": {}}
    known = (("v1", "Secret"), ("v1", "ConfigMap"), ("certificates.k8s.io/v1", "CertificateSigningRequest"))
    if (api_version, kind) not in known:
        raise Unsupported(f"protobuf bodies of {api_version} {kind} are not decoded by the stand-in")
    if kind == "CertificateSigningRequest":
        return _csr(obj, bytes(unknown.get(2, b"")))
    for number, value in fields(bytes(unknown.get(2, b""))):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _metadata(value)
        elif kind == "Secret" and number == 2 and isinstance(value, bytes):
            key, item = _map_entry(value)
            obj.setdefault("data", {})[key] = base64.b64encode(item).decode()
        elif kind == "Secret" and number == 3 and isinstance(value, bytes):
            obj["type"] = value.decode()
        elif kind == "Secret" and number == 4 and isinstance(value, bytes):
            key, item = _map_entry(value)
            obj.setdefault("stringData", {})[key] = item.decode()
        elif kind == "Secret" and number == 5:
            obj["immutable"] = bool(value)
        elif kind == "ConfigMap" and number in (2, 3) and isinstance(value, bytes):
            key, item = _map_entry(value)
            if number == 2:
                obj.setdefault("data", {})[key] = item.decode()
            else:
                obj.setdefault("binaryData", {})[key] = base64.b64encode(item).decode()
    return obj


def _strings(data: bytes) -> dict[int, str]:
    """The string fields of a condition (1 type, 2 reason, 3 message, 6 status; 4 and 5 are times)."""
    return {n: v.decode() for n, v in fields(data) if isinstance(v, bytes) and n in (1, 2, 3, 6)}


def _csr(obj: dict, data: bytes) -> dict:
    """certificates/v1 CertificateSigningRequest: spec {1 request, 2 username, 3 uid, 4 groups,
    5 usages, 7 signerName, 8 expirationSeconds}, status {1 conditions, 2 certificate}, condition
    {1 type, 6 status, 2 reason, 3 message} (times are left to the server)."""
    for number, value in fields(data):
        if not isinstance(value, bytes):
            continue
        if number == 1:
            obj["metadata"] = _metadata(value)
        elif number == 2:
            spec: dict = {}
            for field, item in fields(value):
                if field == 1 and isinstance(item, bytes):
                    spec["request"] = base64.b64encode(item).decode()
                elif field in (2, 3, 7) and isinstance(item, bytes):
                    spec[{2: "username", 3: "uid", 7: "signerName"}[field]] = item.decode()
                elif field in (4, 5) and isinstance(item, bytes):
                    spec.setdefault("groups" if field == 4 else "usages", []).append(item.decode())
                elif field == 8:
                    spec["expirationSeconds"] = item
            obj["spec"] = spec
        elif number == 3:
            status: dict = {}
            for field, item in fields(value):
                if field == 1 and isinstance(item, bytes):
                    names = _strings(item)
                    condition = {"type": names.get(1, ""), "status": names.get(6, "")}
                    condition.update({k: names[n] for k, n in (("reason", 2), ("message", 3)) if n in names})
                    status.setdefault("conditions", []).append(condition)
                elif field == 2 and isinstance(item, bytes):
                    status["certificate"] = base64.b64encode(item).decode()
            obj["status"] = status
    return obj
