"""The harness PKI: a cluster CA, the stand-in API server's serving certificate, client certificates.

kubeadm keeps an existing ``/etc/kubernetes/pki/ca.crt`` and ``ca.key`` (its "external CA" path in
``cmd/kubeadm/app/phases/certs``): the harness makes the CA here and puts it on the control plane
before ``kubeadm init``, so the API server on the test machine and the kubeconfigs written in the
containers trust the same CA.
"""

from __future__ import annotations

import datetime
import ipaddress
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = datetime.timedelta(days=1)


# Key usages and key identifiers as client-go's certutil and kubeadm's pkiutil write them (the CA:
# digital signature, key encipherment, certificate signing, a subject key id; every issued certificate:
# digital signature and the authority key id). Python 3.13's default TLS context verifies with
# VERIFY_X509_STRICT, which refuses a chain without them (Debian 13's python3 is 3.13).
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
)
_LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _name(common_name: str, organisation: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(parts)


def _issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    public_key: object,
    *,
    server: bool,
    sans: list[str] | None = None,
) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + _DAY)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(_LEAF_KEY_USAGE, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        names = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def sign_csr(ca_cert_pem: bytes, ca_key_pem: bytes, csr_pem: bytes, *, server: bool) -> bytes:
    """Sign a PEM certificate request as kube-controller-manager's csrsigning controller would."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, None)
    csr = x509.load_pem_x509_csr(csr_pem)
    sans: list[str] = []
    try:
        ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(v) for v in ext.get_values_for_type(x509.IPAddress)] + ext.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        pass
    return _issue(ca_cert, ca_key, csr.subject, csr.public_key(), server=server, sans=sans)


@dataclass
class Pki:
    """Files of the harness PKI under ``folder``."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "apiserver.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "apiserver.key"

    @classmethod
    def create(cls, folder: Path, server_sans: list[str]) -> Pki:
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("kubernetes"))
            .issuer_name(_name("kubernetes"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pki = cls(folder)
        pki.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        pki.ca_key.write_bytes(_key_pem(ca_key))
        server_key = ec.generate_private_key(ec.SECP256R1())
        pki.server_key.write_bytes(_key_pem(server_key))
        pki.server_cert.write_bytes(
            _issue(
                ca_cert,
                ca_key,
                _name("kube-apiserver"),
                server_key.public_key(),
                server=True,
                sans=server_sans,
            )
        )
        for path in (pki.ca_key, pki.server_key):
            path.chmod(0o600)
        return pki

    def client(self, common_name: str, organisation: str = "") -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) of a client signed by the CA."""
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), None)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(ca_cert, ca_key, _name(common_name, organisation), key.public_key(), server=False)
        return cert, _key_pem(key)

    def kubeconfig(
        self, server: str, common_name: str = "kubernetes-admin", organisation: str = "kubeadm:cluster-admins"
    ) -> str:
        """A kubeconfig in kubeadm's admin.conf layout for ``server``."""
        cert, key = self.client(common_name, organisation)
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": f"{common_name}@kubernetes",
                "clusters": [
                    {
                        "name": "kubernetes",
                        "cluster": {
                            "server": server,
                            "certificate-authority-data": b64encode(self.ca_cert.read_bytes()).decode(),
                        },
                    }
                ],
                "contexts": [
                    {
                        "name": f"{common_name}@kubernetes",
                        "context": {"cluster": "kubernetes", "user": common_name},
                    }
                ],
                "users": [
                    {
                        "name": common_name,
                        "user": {
                            "client-certificate-data": b64encode(cert).decode(),
                            "client-key-data": b64encode(key).decode(),
                        },
                    }
                ],
                "preferences": {},
            }
        )
