"""The TLS identity the provider serves with (Terraform's automatic mTLS).

Terraform's plugin host insists on TLS once it offers a client certificate, and
trusts exactly the certificate the plugin names in its handshake. Making a key
costs more than a provider start may, so saasctl makes one when it installs the
provider, into its own cache directory (mode 0600), never under $HOME.
"""

from __future__ import annotations

import base64
import datetime
import os
from pathlib import Path


def ensure(directory: Path) -> Path:
    """One PEM file (key, then certificate), written atomically, mode 0600."""
    path = directory / "tls.pem"
    if path.is_file():
        return path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_encipherment=True, key_cert_sign=True,
                content_commitment=False, data_encipherment=False, key_agreement=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".tls-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)
    return path


def split(pem: bytes) -> tuple[bytes, bytes]:
    """(key, certificate) PEM blocks of the file :func:`ensure` writes."""
    marker = b"-----BEGIN CERTIFICATE-----"
    at = pem.index(marker)
    return pem[:at], pem[at:]


def handshake_field(cert_pem: bytes) -> str:
    """The certificate as go-plugin's handshake carries it: base64 DER, no padding."""
    body = b"".join(
        line for line in cert_pem.splitlines() if line and not line.startswith(b"-----")
    )
    return base64.b64encode(base64.b64decode(body)).decode().rstrip("=")
