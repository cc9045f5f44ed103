#!/usr/bin/python3
"""Test setup only: write a one-layer OCI image archive that stands in for registry.k8s.io/pause.

registry.k8s.io cannot be reached from the test machine, so the sandbox image is built here from
a static busybox binary (Debian's busybox-static) whose entry point sleeps until the sandbox is
stopped. The archive is an OCI image layout (oci-layout, index.json, blobs/sha256/...) that
`ctr images import` reads; the index names the image with the io.containerd.image.name annotation.

Usage: build_pause_image.py BUSYBOX_BINARY IMAGE_NAME OUTPUT_TAR
"""

import hashlib
import io
import json
import platform
import sys
import tarfile

ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}


def add_bytes(archive, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    archive.addfile(info, io.BytesIO(data))


def main(argv):
    busybox, image_name, output = argv[1:4]
    layer_buffer = io.BytesIO()
    with (
        tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.PAX_FORMAT) as layer,
        open(busybox, "rb") as handle,
    ):
        add_bytes(layer, "busybox", handle.read(), mode=0o755)
    layer_bytes = layer_buffer.getvalue()
    layer_digest = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": ARCHITECTURES.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Entrypoint": ["/busybox", "sleep", "2147483647"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + hashlib.sha256(config_bytes).hexdigest(),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": len(layer_bytes),
            }
        ],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + hashlib.sha256(manifest_bytes).hexdigest(),
                "size": len(manifest_bytes),
                "platform": {"architecture": config["architecture"], "os": "linux"},
                "annotations": {"io.containerd.image.name": image_name},
            }
        ],
    }
    with tarfile.open(output, mode="w", format=tarfile.PAX_FORMAT) as archive:
        add_bytes(archive, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add_bytes(archive, "index.json", json.dumps(index, sort_keys=True).encode())
        for blob in (layer_bytes, config_bytes, manifest_bytes):
            add_bytes(archive, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
