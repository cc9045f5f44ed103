"""Key, request and certificate helpers for the stand-ins, with the container's openssl CLI."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import tempfile


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def new_key() -> bytes:
    return _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")


def new_csr(key_pem: bytes, subject: str, sans: list[str] | None = None) -> bytes:
    with tempfile.NamedTemporaryFile("wb", suffix=".key") as key:
        key.write(key_pem)
        key.flush()
        args = ["req", "-new", "-key", key.name, "-subj", subject]
        if sans:
            args += ["-addext", "subjectAltName=" + ",".join(sans)]
        return _openssl(*args)


def sign(csr_pem: bytes, ca_cert: str, ca_key: str, usage: str) -> bytes:
    """``openssl x509 -req`` with the cluster CA, as kubeadm's certs and kubeconfig phases sign."""
    with tempfile.TemporaryDirectory() as folder:
        csr, ext = os.path.join(folder, "r.csr"), os.path.join(folder, "ext")
        with open(csr, "wb") as handle:
            handle.write(csr_pem)
        with open(ext, "w") as handle:
            handle.write(
                f"extendedKeyUsage={usage}\nkeyUsage=critical,digitalSignature\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n"
            )
        return _openssl(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-CAserial",
            os.path.join(folder, "serial"),
            "-days",
            "365",
            "-extfile",
            ext,
        )


def ca_hash(ca_pem: bytes) -> str:
    """kubeadm's discovery-token-ca-cert-hash: sha256 of the CA's DER SubjectPublicKeyInfo."""
    with tempfile.NamedTemporaryFile("wb", suffix=".crt") as cert:
        cert.write(ca_pem)
        cert.flush()
        public = _openssl("x509", "-in", cert.name, "-pubkey", "-noout")
    der = _openssl("pkey", "-pubin", "-outform", "der", data=public)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def kubeconfig(
    server: str, ca_pem: bytes, user: str, *, cert: bytes = b"", key: bytes = b"", token: str = ""
) -> dict:
    """A kubeconfig in kubeadm's layout (kubeconfigutil.CreateWithCerts / CreateWithToken)."""
    credentials = (
        {"token": token}
        if token
        else {
            "client-certificate-data": base64.b64encode(cert).decode(),
            "client-key-data": base64.b64encode(key).decode(),
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": f"{user}@kubernetes",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "contexts": [{"name": f"{user}@kubernetes", "context": {"cluster": "kubernetes", "user": user}}],
        "users": [{"name": user, "user": credentials}],
        "preferences": {},
    }
