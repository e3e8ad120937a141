"""Certificates with chosen validity and CA-ness, for the CA bundle tests (made with
``cryptography``, which trustme brings; the library itself does not use it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# After the newest notBefore of the shipped bundle (2025-05-20), so they count as newer.
RECENT = datetime(2026, 6, 1, tzinfo=timezone.utc)
FAR = datetime(2090, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 2, tzinfo=timezone.utc)
_KEY = ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon Web Services, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def cert_pem(
    common_name: str = "Amazon RDS test-1 Root CA ECC256 G1",
    *,
    not_before: datetime = RECENT,
    not_after: datetime = FAR,
    ca: bool = True,
    issuer: str | None = None,
) -> bytes:
    """One PEM certificate: a self-signed CA root unless told otherwise."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(issuer or common_name))
        .public_key(_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    cert = builder.sign(_KEY, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def bundle(*names: str, **options: object) -> bytes:
    """A bundle of self-signed CA roots, one per name (default: two)."""
    return b"".join(cert_pem(n, **options) for n in (names or ("Root A", "Root B")))  # type: ignore[arg-type]


def later(days: int) -> datetime:
    return NOW + timedelta(days=days)


class Fetcher:
    """An injected downloader that counts calls and returns a fixed body (or raises)."""

    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body = body
        self.error = error
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        return self.body
