"""Split multi-document YAML the way Kubernetes' Go readers do, for files we hand to Kubernetes tools.

PyYAML's ``safe_load_all`` drops a document that holds only comments; Kubernetes does not. This
module mirrors, line for line in behaviour, the upstream code that kubeadm and kubectl use:

- ``LineReader.Read`` and ``YAMLReader.Read`` of k8s.io/apimachinery ``pkg/util/yaml/decoder.go``
  (read at tag v0.37.0-beta.0; unchanged since v0.36.3): lines are read with Go's
  ``bufio.Reader.ReadLine`` (which drops ``\\n`` or ``\\r\\n``) and given back a ``\\n``; a line
  that *starts* with ``---`` ends the current document when the document is not empty; anything
  but spaces or a ``#`` comment after the ``---`` is an "invalid Yaml document separator" error;
  a ``---`` line seen while the document is still empty is kept as the document's first line; the
  text before the first ``---`` line, comments included, is a document of its own.
- ``SplitConfigDocuments`` of kubernetes/kubernetes ``cmd/kubeadm/app/util/marshal.go`` (the
  version with ``DefaultMetaFactory.Interpret``, current since Kubernetes 1.30): reading stops at
  the first empty chunk; each chunk's ``apiVersion``/``kind`` are read through
  ``yamlserializer.DefaultMetaFactory.Interpret`` (k8s.io/apimachinery
  ``pkg/runtime/serializer/yaml/meta.go``) and ``schema.ParseGroupVersion``
  (``pkg/runtime/schema/group_version.go``); a chunk without group, version or kind stops kubeadm
  with "kind and apiVersion is mandatory information that must be specified"; a kind given twice is
  an error.

The stand-in kubeadm of the cluster harness runs this module inside the node containers
(``tests/harness/standins/kube_yaml.py`` links here): keep it to the standard library and PyYAML,
for Debian's python3 (3.11 and later).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

SEPARATOR = b"---"


class KubeYAMLError(ValueError):
    """What the upstream reader or kubeadm would refuse, with its upstream wording."""


@dataclass(frozen=True)
class TypeMeta:
    group: str
    version: str
    kind: str


def _read_lines(data: bytes) -> list[tuple[bytes, bool]]:
    """``LineReader.Read`` results in order: (line with ``\\n`` appended, is this the EOF read)."""
    lines: list[tuple[bytes, bool]] = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            # bufio.ReadLine returns a final unterminated line with a nil error.
            lines.append((data[pos:] + b"\n", False))
            break
        line = data[pos:end]
        if line.endswith(b"\r"):
            line = line[:-1]
        lines.append((line + b"\n", False))
        pos = end + 1
    # The read after the last line returns no bytes and io.EOF; LineReader still appends "\n".
    lines.append((b"\n", True))
    return lines


def read_documents(data: bytes | str) -> list[bytes]:
    """Every chunk ``YAMLReader.Read`` returns before io.EOF, in order (empty chunks included)."""
    if isinstance(data, str):
        data = data.encode()
    chunks: list[bytes] = []
    buffer = bytearray()
    for line, at_eof in _read_lines(data):
        if line.startswith(SEPARATOR):
            trimmed = line[len(SEPARATOR) :].strip()
            if trimmed and not trimmed.startswith(b"#"):
                raise KubeYAMLError(f"invalid Yaml document separator: {trimmed.decode(errors='replace')}")
            if buffer:
                chunks.append(bytes(buffer))
                buffer = bytearray()
                # YAMLReader.Read returns here; the next call starts with an empty buffer and the
                # separator line is not part of either document.
                continue
            if at_eof:
                return chunks
        if at_eof:
            if buffer:
                chunks.append(bytes(buffer))
            return chunks
        buffer += line
    return chunks


def interpret(chunk: bytes) -> TypeMeta:
    """``DefaultMetaFactory.Interpret``: apiVersion and kind of one chunk, split by ParseGroupVersion."""
    try:
        loaded = yaml.safe_load(chunk)
    except yaml.YAMLError as error:
        raise KubeYAMLError(f"could not interpret GroupVersionKind; unmarshal error: {error}") from error
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise KubeYAMLError("could not interpret GroupVersionKind; unmarshal error: not a mapping")
    api_version = loaded.get("apiVersion") or ""
    kind = loaded.get("kind") or ""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise KubeYAMLError("could not interpret GroupVersionKind; apiVersion and kind must be strings")
    if api_version in ("", "/"):
        return TypeMeta("", "", kind)
    if api_version.count("/") == 0:
        return TypeMeta("", api_version, kind)
    if api_version.count("/") == 1:
        group, version = api_version.split("/")
        return TypeMeta(group, version, kind)
    raise KubeYAMLError(f"unexpected GroupVersion string: {api_version}")


def kubeadm_split_config_documents(data: bytes | str) -> dict[TypeMeta, bytes]:
    """kubeadm's ``SplitConfigDocuments``: the documents by group/version/kind, or kubeadm's error."""
    documents: dict[TypeMeta, bytes] = {}
    seen_kinds: set[str] = set()
    twice: list[str] = []
    for chunk in read_documents(data):
        if not chunk:
            break
        meta = interpret(chunk)
        if not (meta.group and meta.version and meta.kind):
            raise KubeYAMLError(
                f"invalid configuration for GroupVersionKind {meta}: "
                "kind and apiVersion is mandatory information that must be specified"
            )
        if meta.kind in seen_kinds:
            twice.append(f'invalid configuration: kind "{meta.kind}" is specified twice in YAML file')
            continue
        seen_kinds.add(meta.kind)
        documents[meta] = chunk
    if twice:
        raise KubeYAMLError("; ".join(twice))
    return documents


def require_type_meta_in_every_chunk(data: bytes | str) -> list[TypeMeta]:
    """Our rule for every multi-document file handed to a Kubernetes tool: each chunk the upstream
    reader returns carries apiVersion and kind (core kinds have no group, so only the version is
    required). Stricter than kubectl, which skips a chunk that decodes to null, and equal to kubeadm
    for the group-qualified kinds it reads."""
    metas = []
    for index, chunk in enumerate(read_documents(data)):
        meta = interpret(chunk)
        if not (meta.version and meta.kind):
            first = chunk.decode(errors="replace").splitlines()[:1]
            raise KubeYAMLError(f"chunk {index} has no apiVersion and kind (starts with {first!r})")
        metas.append(meta)
    return metas
