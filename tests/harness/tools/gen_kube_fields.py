#!/usr/bin/env python3
"""Generate the field table the stand-in kubeadm decodes its config documents against.

Reads Go struct declarations (``type X struct { ... }``) and writes, for each struct, its JSON
field names as encoding/json sees them: the name in the ``json`` tag (the Go field name when the
tag has none), ``-`` skipped, embedded structs (no field name, or tag name empty / ``,inline``)
flattened into the parent. Each field has a kind: ``scalar`` (Go built-ins, named string/number
types, and the external types with their own JSON form: metav1.Duration, metav1.Time,
resource.Quantity, BootstrapTokenString), ``object`` (a struct of the same sources), ``list`` /
``map`` (with the kind of their items), or ``opaque`` (a struct of a package not read here, such
as corev1.Taint or logsapi.LoggingConfiguration: its inside is not checked).

Usage: gen_kube_fields.py SOURCES.json > table.json, where SOURCES.json lists
{"prefix", "file", "repo", "path", "commit", "ref", "kinds": {group/version: [kind, ...]}} entries.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

SCALAR_EXTERNAL = {"metav1.Duration", "metav1.Time", "resource.Quantity", "BootstrapTokenString"}
GO_SCALARS = {
    "string",
    "bool",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "byte",
}
# A line of a struct body: optional field name, a type, an optional tag.
FIELD = re.compile(
    r"^\s*(?:(?P<name>[A-Za-z_]\w*)\s+)?(?P<type>[\*\[\]\w\.]+(?:\[[^\]]*\][\*\w\.\[\]]+)?)"
    r"\s*(?:`(?P<tag>[^`]*)`)?\s*$"
)
TYPE_START = re.compile(r"^type\s+(\w+)\s+struct\s*\{\s*$")
NAMED = re.compile(r"^type\s+(\w+)\s+(string|bool|u?int\d*|float\d+)\s*$")


def parse(text: str) -> tuple[dict[str, list[tuple[str | None, str, str]]], set[str]]:
    """Structs as {name: [(field name or None when embedded, type, tag)]}, and named scalar types."""
    structs: dict[str, list[tuple[str | None, str, str]]] = {}
    named: set[str] = set()
    current: str | None = None
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)  # block comments, once line comments are gone
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].rstrip() if not raw.strip().startswith("//") else ""
        if current is None:
            start = TYPE_START.match(line)
            if start:
                current = start.group(1)
                structs[current] = []
            elif NAMED.match(line):
                named.add(NAMED.match(line).group(1))
            continue
        if line == "}":
            current = None
            continue
        if not line.strip():
            continue
        match = FIELD.match(line)
        if not match:
            raise ValueError(f"cannot read the field line {raw!r} of {current}")
        structs[current].append((match.group("name"), match.group("type"), match.group("tag") or ""))
    return structs, named


def json_tag(tag: str) -> tuple[str | None, bool]:
    """(name from the json tag or None, inline)."""
    found = re.search(r'json:"([^"]*)"', tag)
    if not found:
        return None, False
    name, *options = found.group(1).split(",")
    return name, "inline" in options


def kind_of(go_type: str, prefix: str, structs: dict, named: set[str]) -> dict:
    go_type = go_type.lstrip("*")
    if go_type.startswith("[]"):
        return {"kind": "list", "item": kind_of(go_type[2:], prefix, structs, named)}
    if go_type.startswith("map["):
        return {"kind": "map", "item": kind_of(go_type[go_type.index("]") + 1 :], prefix, structs, named)}
    bare = go_type.split(".")[-1]
    if go_type in GO_SCALARS or go_type in SCALAR_EXTERNAL or bare in SCALAR_EXTERNAL or go_type in named:
        return {"kind": "scalar"}
    if bare in structs and ("." not in go_type or go_type.startswith("bootstraptokenv1.")):
        return {"kind": "object", "type": f"{prefix}.{bare}"}
    if (
        "." in go_type
        and go_type.split(".")[0] in ("corev1", "v1")
        and go_type.endswith(("PullPolicy", "HostPathType"))
    ):
        return {"kind": "scalar"}  # string types of k8s.io/api/core/v1
    return {"kind": "opaque", "go": go_type}


def fields_of(struct: str, prefix: str, structs: dict, named: set[str]) -> dict:
    out: dict = {}
    for name, go_type, tag in structs[struct]:
        tag_name, inline = json_tag(tag)
        if tag_name == "-":
            continue
        if name is None or (inline and not tag_name):
            base = go_type.lstrip("*")
            if base == "metav1.TypeMeta":
                out.update({"apiVersion": {"kind": "scalar"}, "kind": {"kind": "scalar"}})
            elif base in structs:
                out.update(fields_of(base, prefix, structs, named))
            else:
                out["*"] = {"kind": "opaque", "go": base, "inline": True}
            continue
        out[tag_name or name] = kind_of(go_type, prefix, structs, named)
    return out


def generate(sources: list[dict], base: Path) -> dict:
    table: dict = {
        "generated_by": "tests/harness/tools/gen_kube_fields.py tests/harness/tools/kube_fields_sources.json",
        "sources": [],
        "kinds": {},
        "types": {},
    }
    for source in sources:
        text = (base / source["file"]).read_text()
        structs, named = parse(text)
        prefix = source["prefix"]
        table["sources"].append(
            {key: source[key] for key in ("prefix", "repo", "path", "commit", "ref")}
            | {"sha256": hashlib.sha256(text.encode()).hexdigest()}
        )
        for struct in structs:
            table["types"][f"{prefix}.{struct}"] = fields_of(struct, prefix, structs, named)
        for group_version, kinds in source["kinds"].items():
            for kind in kinds:
                table["kinds"].setdefault(group_version, {})[kind] = f"{prefix}.{kind}"
    return table


def main(argv: list[str]) -> int:
    sources_file = Path(argv[0])
    sources = json.loads(sources_file.read_text())
    base = Path(argv[1]) if len(argv) > 1 else sources_file.parent
    print(json.dumps(generate(sources, base), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
