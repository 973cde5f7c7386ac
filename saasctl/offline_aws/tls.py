"""hashicorp/tls offline: keys, requests and certificates made with `cryptography`,
in the formats and with the attributes the real provider gives (PEM, PKCS#8,
OpenSSH, fingerprints, validity times)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

State = dict[str, Any]
PrivateKey = Any  # rsa, ec or ed25519 private key

CURVES: dict[str, ec.EllipticCurve] = {
    "P224": ec.SECP224R1(),
    "P256": ec.SECP256R1(),
    "P384": ec.SECP384R1(),
    "P521": ec.SECP521R1(),
}
DEFAULTS: dict[str, State] = {
    "tls_private_key": {"rsa_bits": 2048, "ecdsa_curve": "P224"},
    "tls_self_signed_cert": {
        "early_renewal_hours": 0,
        "is_ca_certificate": False,
        "max_path_length": 0,
        "set_subject_key_id": False,
        "set_authority_key_id": False,
    },
    "tls_locally_signed_cert": {
        "early_renewal_hours": 0,
        "is_ca_certificate": False,
        "max_path_length": 0,
        "set_subject_key_id": False,
    },
}
SUBJECT = {"common_name": NameOID.COMMON_NAME, "organization": NameOID.ORGANIZATION_NAME,
           "organizational_unit": NameOID.ORGANIZATIONAL_UNIT_NAME,
           "country": NameOID.COUNTRY_NAME, "province": NameOID.STATE_OR_PROVINCE_NAME,
           "locality": NameOID.LOCALITY_NAME, "postal_code": NameOID.POSTAL_CODE,
           "serial_number": NameOID.SERIAL_NUMBER,
           "email_address": NameOID.EMAIL_ADDRESS}  # fmt: skip
KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "cert_signing",
    "crl_signing",
    "encipher_only",
    "decipher_only",
)
EXTENDED = {"any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
            "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
            "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
            "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
            "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
            "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
            "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING}  # fmt: skip


def _algorithm(key: Any) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "ECDSA"
    return "ED25519"


def _public(public: Any) -> State:
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()  # fmt: skip
    try:
        ssh = public.public_bytes(serialization.Encoding.OpenSSH,
                                  serialization.PublicFormat.OpenSSH)  # fmt: skip
    except ValueError:  # P224: no OpenSSH form, as the provider leaves it empty
        return {"public_key_pem": pem, "public_key_openssh": "",
                "public_key_fingerprint_md5": "", "public_key_fingerprint_sha256": ""}  # fmt: skip
    blob = base64.b64decode(ssh.split()[1])
    md5 = hashlib.md5(blob).hexdigest()  # noqa: S324 - the fingerprint OpenSSH shows
    sha = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return {"public_key_pem": pem, "public_key_openssh": ssh.decode() + "\n",
            "public_key_fingerprint_md5": ":".join(md5[i:i + 2] for i in range(0, 32, 2)),
            "public_key_fingerprint_sha256": f"SHA256:{sha}", "algorithm": _algorithm(public),
            }  # fmt: skip


def _pem(key: PrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt,  # type: ignore[no-any-return]
                             serialization.NoEncryption()).decode()  # fmt: skip


def private_key(s: State) -> State:
    algorithm = s["algorithm"]
    key: PrivateKey
    if algorithm == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(s["rsa_bits"]))
        traditional = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    elif algorithm == "ECDSA":
        if s["ecdsa_curve"] not in CURVES:
            raise ValueError(f"tls_private_key: ecdsa_curve {s['ecdsa_curve']!r} is not one of "
                             f"{', '.join(CURVES)}")  # fmt: skip
        key = ec.generate_private_key(CURVES[s["ecdsa_curve"]])
        traditional = _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    elif algorithm == "ED25519":
        key = ed25519.Ed25519PrivateKey.generate()
        traditional = _pem(key, serialization.PrivateFormat.PKCS8)
    else:
        raise ValueError(f"tls_private_key: algorithm {algorithm!r} is not RSA, ECDSA or ED25519")
    try:
        openssh = _pem(key, serialization.PrivateFormat.OpenSSH)
    except ValueError:
        openssh = ""
    public = _public(key.public_key())
    public.pop("algorithm", None)
    return {**public, "private_key_pem": traditional,
            "private_key_pem_pkcs8": _pem(key, serialization.PrivateFormat.PKCS8),
            "private_key_openssh": openssh,
            "id": hashlib.sha1(public["public_key_pem"].encode()).hexdigest()}  # noqa: S324  # fmt: skip


def _load_key(pem: str) -> PrivateKey:
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError:
        return serialization.load_ssh_private_key(pem.encode(), password=None)


def _name(s: State) -> x509.Name:
    blocks = s.get("subject") or []
    subject = blocks[0] if blocks else {}
    parts = [x509.NameAttribute(oid, str(subject[k])) for k, oid in SUBJECT.items()
             if subject.get(k)]  # fmt: skip
    for street in subject.get("street_address") or []:
        parts.append(x509.NameAttribute(NameOID.STREET_ADDRESS, street))
    return x509.Name(parts)


def _sans(s: State) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = [x509.DNSName(n) for n in s.get("dns_names") or []]
    out += [x509.IPAddress(ipaddress.ip_address(a)) for a in s.get("ip_addresses") or []]
    out += [x509.UniformResourceIdentifier(u) for u in s.get("uris") or []]
    return out


def _signature_hash(key: PrivateKey) -> Any:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _certificate(s: State, subject: x509.Name, public: Any, issuer: x509.Name,
                 signer: PrivateKey, issuer_public: Any) -> State:  # fmt: skip
    start = datetime.now(timezone.utc).replace(microsecond=0)
    end = start + timedelta(hours=int(s["validity_period_hours"]))
    uses = set(s.get("allowed_uses") or [])
    unknown = uses - set(KEY_USAGES) - set(EXTENDED)
    if unknown:
        raise ValueError(f"allowed_uses: {sorted(unknown)[0]!r} is not a key usage")
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end))  # fmt: skip
    # the provider's names, cryptography's argument names
    renamed = {"cert_signing": "key_cert_sign", "crl_signing": "crl_sign"}
    flags = {renamed.get(u, u): u in uses for u in KEY_USAGES}
    if any(flags.values()):
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    extended = [EXTENDED[u] for u in sorted(uses) if u in EXTENDED]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    if s.get("is_ca_certificate"):
        depth = int(s.get("max_path_length") or 0) or None
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=depth), True)
    if s.get("set_subject_key_id"):
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
    if s.get("set_authority_key_id"):
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), False
        )
    sans = _sans(s)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(signer, _signature_hash(signer))
    return {"cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "validity_start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "validity_end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ready_for_renewal": False, "id": str(cert.serial_number)}  # fmt: skip


def self_signed_cert(s: State) -> State:
    key = _load_key(str(s["private_key_pem"]))
    name = _name(s)
    made = _certificate(s, name, key.public_key(), name, key, key.public_key())
    return {**made, "key_algorithm": _algorithm(key)}


def cert_request(s: State) -> State:
    key = _load_key(str(s["private_key_pem"]))
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(s))
    sans = _sans(s)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    pem = builder.sign(key, _signature_hash(key)).public_bytes(serialization.Encoding.PEM).decode()
    return {"cert_request_pem": pem, "key_algorithm": _algorithm(key),
            "id": hashlib.sha1(pem.encode()).hexdigest()}  # noqa: S324  # fmt: skip


def locally_signed_cert(s: State) -> State:
    request = x509.load_pem_x509_csr(str(s["cert_request_pem"]).encode())
    ca_key = _load_key(str(s["ca_private_key_pem"]))
    ca_cert = x509.load_pem_x509_certificate(str(s["ca_cert_pem"]).encode())
    sans: list[x509.GeneralName] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        sans = list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    with_sans = {**s, "dns_names": [n.value for n in sans if isinstance(n, x509.DNSName)],
                 "ip_addresses": [str(n.value) for n in sans if isinstance(n, x509.IPAddress)],
                 "uris": [n.value for n in sans
                          if isinstance(n, x509.UniformResourceIdentifier)]}  # fmt: skip
    made = _certificate(with_sans, request.subject, request.public_key(), ca_cert.subject,
                        ca_key, ca_key.public_key())  # fmt: skip
    return {**made, "ca_key_algorithm": _algorithm(ca_key)}


def public_key(s: State) -> State:
    given = s.get("private_key_pem") or s.get("private_key_openssh")
    if not given:
        raise ValueError("tls_public_key: give private_key_pem or private_key_openssh")
    public = _public(_load_key(str(given)).public_key())
    return {**public, "id": hashlib.sha1(public["public_key_pem"].encode()).hexdigest()}  # noqa: S324


def offline_chain(url: str) -> str:
    """What a TLS server at ``url`` would present, made here (there is no network):
    a root CA and a certificate for the host, the same bytes on every read (keys
    derived from the host, Ed25519 signatures, fixed dates), so a thumbprint taken
    from it (an OIDC provider's) stays put and a re-plan is clean."""
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or url

    def key(role: str) -> ed25519.Ed25519PrivateKey:
        seed = hashlib.sha256(f"saasctl-offline-tls:{role}:{host}".encode()).digest()
        return ed25519.Ed25519PrivateKey.from_private_bytes(seed)

    root_key, leaf_key = key("root"), key("leaf")
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "saasctl offline root CA")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    start, end = (
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        datetime(2036, 1, 1, tzinfo=timezone.utc),
    )
    pems = []
    chain = [(root_name, root_key.public_key(), True), (leaf_name, leaf_key.public_key(), False)]
    for subject, public, ca in chain:
        serial = int.from_bytes(hashlib.sha256(f"{ca}:{host}".encode()).digest()[:16], "big") >> 1
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name)
                   .public_key(public).serial_number(serial)
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca, None), critical=True))  # fmt: skip
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(host)]), False
            )
        pems.append(builder.sign(root_key, None).public_bytes(serialization.Encoding.PEM).decode())
    return "".join(pems)


def certificate(s: State) -> State:
    content = str(s.get("content") or "")
    if s.get("url"):  # the real provider dials it; offline, a stable stand-in chain
        content = offline_chain(str(s["url"]))
    certs = x509.load_pem_x509_certificates(content.encode())
    out = []
    for cert in certs:
        try:
            basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca, depth = basic.ca, basic.path_length or 0
        except x509.ExtensionNotFound:
            is_ca, depth = False, 0
        out.append({
            "cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "is_ca": is_ca, "issuer": cert.issuer.rfc4514_string(), "max_path_length": depth,
            "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "public_key_algorithm": _algorithm(cert.public_key()),
            "serial_number": str(cert.serial_number),
            "sha1_fingerprint": cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303
            "signature_algorithm": cert.signature_algorithm_oid._name,
            "subject": cert.subject.rfc4514_string(), "version": cert.version.value + 1,
        })  # fmt: skip
    return {"certificates": out,
            "id": hashlib.sha1(content.encode()).hexdigest()}  # noqa: S324  # fmt: skip


MAKERS = {
    "tls_private_key": private_key,
    "tls_self_signed_cert": self_signed_cert,
    "tls_cert_request": cert_request,
    "tls_locally_signed_cert": locally_signed_cert,
}
READERS = {"tls_public_key": public_key, "tls_certificate": certificate}
