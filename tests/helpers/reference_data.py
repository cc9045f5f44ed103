"""Where the upstream reference data lives: the pinned charts as published, their values.yaml files
and the SparkApplication CRD schema.

The data is not part of this repository. It is found, in this order:

1. ``SPARKLAB_REFERENCE_DIR``, when set;
2. ``../shared/reference`` beside the checkout (the maintainers' machines);
3. a cache (``~/.cache/sparklab-tests/reference/<pin digest>``), filled on first use from the pinned
   upstream artefacts: each chart folder of the upstream git repository at the commit behind its tag,
   as GitHub serves it (``codeload.github.com/<owner>/<repo>/tar.gz/<commit>``), accepted only when
   the SHA-256 tree digest of the chart folder (every file's SHA-256 and path, as in sha256sum output,
   sorted by path) is the pinned one. The digests were computed from the reference copies, which are
   byte for byte the git trees at these commits. The values.yaml files are the charts' own, and the
   SparkApplication schema is the v1beta2 ``openAPIV3Schema`` of the chart's CRD written as JSON with
   one-space indentation, accepted only with its pinned SHA-256.

Without the folder and without network access, the tests stop with one line that says what to do.
A missing reference is never a skip: these checks are the only ones the charts get without a cluster.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO.parent / "shared" / "reference"
GITHUB_ARCHIVE = "https://codeload.github.com"


@dataclass(frozen=True)
class ChartTree:
    """One chart folder of an upstream git repository at a pinned commit."""

    folder: str  # under charts/ in the reference layout
    repo: str  # owner/name on GitHub
    tag: str
    commit: str  # what the tag points to
    path: str  # chart folder inside the repository
    tree_sha256: str


CHARTS: tuple[ChartTree, ...] = (
    ChartTree(
        "spark-operator-2.5.2",
        "kubeflow/spark-operator",
        "v2.5.2",
        "43afb8bbd32463037d8fb6e414e252c69081882b",
        "charts/spark-operator-chart",
        "51ebe19443d7e61d1f10411268f6c21adc4b7a5445a86f247d9f728361e1a515",
    ),
    ChartTree(
        "metrics-server-3.13.1",
        "kubernetes-sigs/metrics-server",
        "metrics-server-helm-chart-3.13.1",
        "842dcc8c42f22cc19f10c7d5f2d32a9f4b6013b0",
        "charts/metrics-server",
        "ad78dbc13e9da3ba090ef1703d0fd1d6526c4fd68331c96e8fa626ea1e1c6015",
    ),
    ChartTree(
        "flannel-v0.28.9",
        "flannel-io/flannel",
        "v0.28.9",
        "5cd0d52648e891d73a6dcb9bb2c67d7c365cf7aa",
        "chart/kube-flannel",
        "f5e73462511b2784771e2f371114b9eab5250d50c8f377a1d9aec50b6a0b711c",
    ),
    ChartTree(
        "local-path-provisioner-0.0.37",
        "rancher/local-path-provisioner",
        "v0.0.37",
        "49b2be8e26d6d34c9afaa21fa33108d2e82f8955",
        "deploy/chart/local-path-provisioner",
        "107fcbeab95c0a626a4b3848e979a5bec7fa6adeb78203a581a1e1fd231b03d4",
    ),
    ChartTree(
        "kube-opex-analytics-25.10.1",
        "rchakode/kube-opex-analytics",
        "v25.10.1",
        "897d5e60d4638aa2e143d3829199d557cdaa6089",
        "manifests/helm",
        "32e250f57f05ea8dc7adcec6a99ac33beacda58640e920c2d37623f453810bd6",
    ),
    ChartTree(
        "kube-opex-analytics-26.01.1",
        "rchakode/kube-opex-analytics",
        "v26.01.1",
        "5cb873b8bc22b6eedfe46971dc09d1196c54371a",
        "manifests/kube-opex-analytics/helm",
        "658f9df9f78c8b09d620657b19ecb66f07497407f4261c25b05a0db0e12b583b",
    ),
)

# Folders of the reference layout that hold a chart's values.yaml: folder -> chart folder.
VALUES_COPIES = {
    "spark-operator-2.5.2": "spark-operator-2.5.2",
    "metrics-server-chart-3.13.1": "metrics-server-3.13.1",
    "kube-opex-analytics-25.10.1": "kube-opex-analytics-25.10.1",
    "kube-opex-analytics-26.01.1": "kube-opex-analytics-26.01.1",
}
SPARK_SCHEMA = "spark-operator-2.5.2/sparkapplication-v1beta2.schema.json"
SPARK_SCHEMA_SHA256 = "051637f52140fda20ff40ffe4773484d06254e35c6c418dc83995d01fd715ee7"
SPARK_CRD = "charts/spark-operator-2.5.2/crds/sparkoperator.k8s.io_sparkapplications.yaml"

FIX = (
    "fix: run the tests once with network access to fill the cache, keep the shared reference folder "
    "beside the checkout, or set SPARKLAB_REFERENCE_DIR to a copy of it"
)


class ReferenceUnavailable(RuntimeError):
    """The reference data can be neither found nor fetched; the message is one line."""


def tree_sha256(root: Path) -> str:
    """SHA-256 of the sorted sha256sum lines (file digest, two spaces, relative path) under root."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"
        for p in sorted(x for x in root.rglob("*") if x.is_file())
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def archive_url(chart: ChartTree, base: str = GITHUB_ARCHIVE) -> str:
    return f"{base}/{chart.repo}/tar.gz/{chart.commit}"


def pins_digest() -> str:
    text = json.dumps([c.__dict__ for c in CHARTS] + [SPARK_SCHEMA_SHA256], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(os.environ.get("SPARKLAB_TEST_CACHE", Path(base) / "sparklab-tests"))
    return root / "reference" / pins_digest()


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (pinned https or a test's 127.0.0.1)
        return response.read()


def _extract_chart(data: bytes, chart: ChartTree, dest: Path) -> None:
    """Unpack <top>/<chart.path>/ of a GitHub archive into dest."""
    prefix_parts = tuple(chart.path.split("/"))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = tuple(member.name.split("/"))
            if len(parts) <= len(prefix_parts) + 1 or parts[1 : 1 + len(prefix_parts)] != prefix_parts:
                continue
            if not member.isfile():
                continue
            target = dest.joinpath(*parts[1 + len(prefix_parts) :])
            source = tar.extractfile(member)
            assert source is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())


def spark_schema_json(crd_path: Path) -> str:
    crd = yaml.safe_load(crd_path.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta2"]
    return json.dumps(version["schema"]["openAPIV3Schema"], indent=1)


def fetch(dest: Path, url_for: Callable[[ChartTree], str] = archive_url, timeout: float = 60.0) -> Path:
    """Fetch every pinned chart into dest (the reference layout), verifying every digest."""
    work = dest.with_name(dest.name + f".partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    try:
        for chart in CHARTS:
            url = url_for(chart)
            try:
                data = _download(url, timeout)
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ReferenceUnavailable(f"cannot download {url} ({reason})") from None
            target = work / "charts" / chart.folder
            _extract_chart(data, chart, target)
            got = tree_sha256(target) if target.is_dir() else "nothing"
            if got != chart.tree_sha256:
                raise ReferenceUnavailable(
                    f"{url}: {chart.path} has tree digest {got}, pinned {chart.tree_sha256} "
                    f"({chart.repo} {chart.tag})"
                )
        for folder, chart_folder in VALUES_COPIES.items():
            (work / folder).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "charts" / chart_folder / "values.yaml", work / folder / "values.yaml")
        schema = spark_schema_json(work / SPARK_CRD)
        if hashlib.sha256(schema.encode()).hexdigest() != SPARK_SCHEMA_SHA256:
            raise ReferenceUnavailable(f"the SparkApplication schema from {SPARK_CRD} is not the pinned one")
        (work / SPARK_SCHEMA).write_text(schema)
        (work / ".complete").write_text(pins_digest() + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        work.replace(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def resolve(
    explicit: str | None = None,
    shared: Path = SHARED_DIR,
    cache: Path | None = None,
    url_for: Callable[[ChartTree], str] = archive_url,
) -> Path:
    """The reference folder: explicit, else shared, else the cache (fetched when incomplete)."""
    if explicit:
        path = Path(explicit)
        if not path.is_dir():
            raise ReferenceUnavailable(f"SPARKLAB_REFERENCE_DIR={explicit} is not a folder ({FIX})")
        return path
    if shared.is_dir():
        return shared
    cache = cache or default_cache()
    if (cache / ".complete").is_file():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (cache / ".complete").is_file():
            return cache
        try:
            return fetch(cache, url_for)
        except ReferenceUnavailable as exc:
            raise ReferenceUnavailable(
                f"upstream reference data not found at {shared} and not fetched: {exc} ({FIX})"
            ) from None


def _resolve_for_tests() -> tuple[Path, str | None]:
    """The folder, or (the shared path, the one-line error) for tests/conftest.py to stop the run with."""
    try:
        return resolve(os.environ.get("SPARKLAB_REFERENCE_DIR")), None
    except ReferenceUnavailable as exc:
        return SHARED_DIR, str(exc)


# Importing never fails: a test session that imported this module and has ERROR set is stopped with
# that one line after collection (tests/conftest.py), before any test runs.
REFERENCE_DIR, ERROR = _resolve_for_tests()
CHARTS_DIR = REFERENCE_DIR / "charts"
