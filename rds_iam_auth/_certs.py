"""Checking a CA bundle before we trust it (one from the user cache or a download).

Only public stdlib APIs: OpenSSL parses the bundle (``SSLContext.load_verify_locations``),
says which certificates are CAs (``cert_store_stats``) and decodes their names and validity
(``get_ca_certs``). The bundle shipped in the package is not parsed at connect time: its sha256
is pinned (see ``_bundle.py``). Imported only when a bundle is checked, never by
``import rds_iam_auth``.

The rules, each with its reason:

- only ``CERTIFICATE`` PEM blocks, at least one, no duplicates, at most ``MAX_BUNDLE_BYTES``:
  a captive portal's HTML, a truncated download or a key file is not a bundle;
- every certificate is a CA whose subject is its issuer (a self-signed root): the RDS bundles
  hold roots only, and an intermediate or server certificate means the wrong file;
- no certificate expires within ``MIN_REMAINING_S`` (5 years): a bundle that will stop
  verifying soon is not an update;
- for the commercial partition, the newest ``notBefore`` is not older than the shipped
  bundle's: an older bundle lacks the newest regions (a rollback), and the shipped one is
  better.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import CaBundleError

__all__ = ["MAX_BUNDLE_BYTES", "MIN_REMAINING_S", "BundleInfo", "check_bundle", "parse_bundle"]

MAX_BUNDLE_BYTES = 4 * 1024 * 1024
MIN_REMAINING_S = 5 * 365 * 86400
_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----"
)


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What a checked bundle holds.

    Attributes:
        sha256: Hex digest of the file's bytes.
        certificates: Number of certificates (all self-signed CAs).
        fingerprints: The SHA-256 fingerprint (hex) of each certificate's DER, in file order.
        newest_not_before: The latest ``notBefore`` of any certificate (aware UTC).
        earliest_not_after: The earliest ``notAfter`` of any certificate (aware UTC).
    """

    sha256: str
    certificates: int
    fingerprints: tuple[str, ...]
    newest_not_before: datetime
    earliest_not_after: datetime


def _utc(openssl_time: str) -> datetime:
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(openssl_time), timezone.utc)


def _common_name(cert: dict[str, Any]) -> str:
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return "(no common name)"


def parse_bundle(pem: bytes, origin: str) -> BundleInfo:
    """Parse ``pem`` and check the rules that do not depend on time or partition.

    Args:
        pem: The bundle's bytes.
        origin: Where it came from, for messages (a path or a URL).

    Raises:
        CaBundleError: It is not a bundle of self-signed CA certificates.
    """
    if len(pem) > MAX_BUNDLE_BYTES:
        raise CaBundleError(f"{origin} is over {MAX_BUNDLE_BYTES} bytes: not a CA bundle")
    try:
        text = pem.decode("ascii")
    except UnicodeDecodeError:
        raise CaBundleError(f"{origin} is not a PEM file (it has non-ASCII bytes)") from None
    blocks = _BLOCK.findall(text)
    if not blocks or _BLOCK.sub("", text).strip():
        raise CaBundleError(
            f"{origin} is not a PEM bundle of certificates (no CERTIFICATE block, or something "
            "else beside them)"
        )
    fingerprints = []
    for block in blocks:
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except binascii.Error:
            raise CaBundleError(f"{origin} has a certificate that is not valid base64") from None
        fingerprints.append(hashlib.sha256(der).hexdigest())
    if len(set(fingerprints)) != len(fingerprints):
        raise CaBundleError(f"{origin} contains the same certificate twice")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # an empty store: nothing preloaded
    try:
        context.load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        raise CaBundleError(f"{origin}: OpenSSL cannot parse it ({exc})") from None
    stats = context.cert_store_stats()
    certs = context.get_ca_certs()  # CAs only
    if stats["x509"] != len(blocks) or stats["x509_ca"] != len(blocks) or len(certs) != len(blocks):
        raise CaBundleError(
            f"{origin}: {len(blocks) - stats['x509_ca']} of its {len(blocks)} certificates are "
            "not CA certificates (an RDS bundle holds root CAs only)"
        )
    for cert in certs:
        if cert.get("subject") != cert.get("issuer"):
            raise CaBundleError(
                f"{origin}: {_common_name(cert)!r} is not self-signed (an RDS bundle holds "
                "root CAs only)"
            )
    return BundleInfo(
        sha256=hashlib.sha256(pem).hexdigest(),
        certificates=len(blocks),
        fingerprints=tuple(fingerprints),
        newest_not_before=max(_utc(str(c["notBefore"])) for c in certs),
        earliest_not_after=min(_utc(str(c["notAfter"])) for c in certs),
    )


def check_bundle(
    pem: bytes, origin: str, *, now: datetime, not_before_floor: datetime | None
) -> BundleInfo:
    """Every rule of the module docstring.

    Args:
        pem: The bundle's bytes.
        origin: Where it came from, for messages.
        now: The current time (aware).
        not_before_floor: The newest ``notBefore`` it must reach (the shipped bundle's, for
            the commercial partition), or None.

    Raises:
        CaBundleError: A rule is broken; the message says which.
    """
    info = parse_bundle(pem, origin)
    remaining_s = (info.earliest_not_after - now).total_seconds()
    if remaining_s < MIN_REMAINING_S:
        raise CaBundleError(
            f"{origin}: a certificate expires on {info.earliest_not_after:%Y-%m-%d}, within 5 "
            "years; not accepted as an update"
        )
    if not_before_floor is not None and info.newest_not_before < not_before_floor:
        raise CaBundleError(
            f"{origin} is older than the bundle shipped with rds_iam_auth (its newest "
            f"certificate dates from {info.newest_not_before:%Y-%m-%d}, the shipped one's from "
            f"{not_before_floor:%Y-%m-%d}): it would lack the newest regions"
        )
    return info
