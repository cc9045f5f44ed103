"""What the stand-in API server checks in an object before it stores it, and the OpenAPI v3 it serves.

Built-in kinds are checked against the Kubernetes 1.37 schemas of the ``kubernetes-validate``
package (generated from upstream's OpenAPI); custom resources against the ``openAPIV3Schema`` of
the version in their stored CRD, with ``jsonschema``. Unknown fields are refused only when the
request asks for strict field validation (``fieldValidation=Strict``, which Helm and kubectl send),
as the real API server does; wrong types and missing required fields always, except that a
built-in kind's ``required`` is not enforced under ``status`` (there it marks a Go field without
omitempty, which the real server decodes as empty: a stand-in kubelet's partial ``nodeInfo``
passes). The error wording follows k8s.io/apiserver: ``strict decoding error: unknown field
"spec.x"`` (create and update), ``.spec.x: field not declared in schema`` (server-side apply),
``<Kind> "<name>" is invalid: <path>: Invalid value`` for the rest (the real server's field path
and detail text differ).

``/openapi/v3`` lists every served group version; each group version's document carries, per kind,
a PATCH operation with the ``x-kubernetes-group-version-kind`` extension and the ``fieldValidation``
query parameter: what kubectl's ``QueryParamVerifierV3`` (used by Helm and kubectl) reads to decide
that the server validates fields itself, so neither runs its client-side validation. No schema is
in those documents: the server validates.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from typing import Any

import jsonschema
from kubernetes_validate import utils
from referencing import Registry, Resource

KUBERNETES_VERSION = "1.37.0"
# Fields the server owns or that the schemas of kubernetes-validate do not list for every kind.
_SERVER_FIELDS = ("managedFields",)


class Invalid(Exception):
    """An object the server refuses: ``code``, ``reason`` and ``message`` of the metav1.Status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def _path(parts: list) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in parts).replace(".[", "[")


def _unknown_field(error: Any) -> str | None:
    """The dotted path of the unexpected property of an ``additionalProperties`` error, if it is one."""
    if error.validator != "additionalProperties":
        return None
    extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
    return _path([*error.absolute_path, extra[0]]) if extra else None


def check(obj: dict, crd: dict | None, strict: bool, apply: bool) -> None:
    """Refuse ``obj`` as the API server would; ``crd``: the stored CRD of a custom resource."""
    body = copy.deepcopy(obj)
    body.get("metadata", {}).pop(_SERVER_FIELDS[0], None)
    if body.get("kind") == "CustomResourceDefinition":
        # A CRD's own schema is not checked against JSONSchemaProps (seconds per CRD in jsonschema);
        # the rest of the CRD is, and every custom resource is checked against that schema.
        for version in body.get("spec", {}).get("versions") or []:
            if isinstance(version, dict):
                version.pop("schema", None)
    name = body.get("metadata", {}).get("name", "")
    error: Any = None
    if crd is None:
        validator = _builtin_validator(body.get("apiVersion", ""), body.get("kind", ""), strict)
        if validator is None:
            return
        # Not under status: the OpenAPI ``required`` of a status field (e.g. a Node's nodeInfo) marks
        # a Go field without omitempty, which the server decodes as empty and does not refuse.
        found = [e for e in validator.iter_errors(body) if list(e.absolute_path)[:1] != ["status"]]
        error = min(found, key=lambda e: [str(p) for p in e.absolute_path]) if found else None
    else:
        version = body["apiVersion"].split("/")[-1]
        served = [v for v in crd["spec"]["versions"] if v["name"] == version]
        schema = ((served[0].get("schema") or {}).get("openAPIV3Schema")) if served else None
        if not schema:
            return
        schema = _structural(schema, strict)
        found = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.path))
        error = found[0] if found else None
    if error is None:
        return
    unknown = _unknown_field(error)
    if unknown:
        if apply:
            raise Invalid(400, "BadRequest", f".{unknown}: field not declared in schema")
        raise Invalid(
            400,
            "BadRequest",
            f'{body["kind"]} in version "{body["apiVersion"].split("/")[-1]}" cannot be handled as a '
            f'{body["kind"]}: strict decoding error: unknown field "{unknown}"',
        )
    raise Invalid(
        422,
        "Invalid",
        f'{body["kind"]} "{name}" is invalid: {_path(list(error.absolute_path))}: Invalid value: '
        f"{error.message}",
    )


@functools.lru_cache(maxsize=256)
def _builtin_validator(api_version: str, kind: str, strict: bool) -> Any:
    """The JSON Schema validator of kubernetes-validate for a built-in kind (its own schema files and
    draft; kubernetes_validate.validate stops at the first error and rereads its files each call)."""
    version = [v for v in utils.all_versions() if utils.major_minor(v) <= "1.37"][-1]
    folder = f"kubernetes-json-schema/v{version}-local" + ("-strict" if strict else "")
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", KUBERNETES_VERSION)
    except FileNotFoundError:
        return None
    definitions = utils.schema_contents(f"{folder}/_definitions.json", KUBERNETES_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _structural(schema: dict, strict: bool) -> dict:
    """A CRD's structural schema as JSON Schema: ``nullable`` allows null, ``metadata`` stays open,
    and in strict mode objects without ``x-kubernetes-preserve-unknown-fields`` refuse unknown fields."""

    def walk(node: Any, top: bool = False) -> Any:
        if not isinstance(node, dict):
            return node
        out = {
            k: walk(v) if k not in ("properties", "items", "additionalProperties") else v
            for k, v in node.items()
        }
        if "properties" in node:
            out["properties"] = {k: walk(v) for k, v in node["properties"].items()}
            if top:
                out["properties"].pop("metadata", None)
                out["properties"].setdefault("apiVersion", {"type": "string"})
                out["properties"].setdefault("kind", {"type": "string"})
            preserve = node.get("x-kubernetes-preserve-unknown-fields")
            if strict and not preserve and "additionalProperties" not in node:
                out["additionalProperties"] = False
            if top:
                out["properties"]["metadata"] = {"type": "object"}
        if isinstance(node.get("items"), dict):
            out["items"] = walk(node["items"])
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = walk(node["additionalProperties"])
        if node.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out

    return walk(schema, top=True)


def openapi_root(group_versions: list[str]) -> dict:
    """``GET /openapi/v3``: where each group version's document is (with a content hash)."""
    paths = {}
    for gv in group_versions:
        path = f"api/{gv}" if "/" not in gv else f"apis/{gv}"
        digest = hashlib.sha256(gv.encode()).hexdigest()[:16].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def openapi_group_version(kinds: list[Any]) -> dict:
    """``GET /openapi/v3/apis/<group>/<version>``: one PATCH operation per kind, as described above."""
    paths = {}
    for kind in kinds:
        prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else "/api/v1"
        scope = "/namespaces/{namespace}" if kind.namespaced else ""
        paths[f"{prefix}{scope}/{kind.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{kind.kind}",
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean"}},
                ],
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": kind.group,
                    "version": kind.version,
                    "kind": kind.kind,
                },
            }
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.37.1"}, "paths": paths}


def dumps(document: dict) -> bytes:
    return json.dumps(document).encode()
