"""Notes for a driver exception caused by a failed certificate verification.

A server whose certificate our CA bundle cannot verify is most often an RDS region newer than
the bundle, a wrong ``ca=``, or a host name that is not on the certificate (a CNAME, an IP, a
tunnel). The drivers say only "certificate verify failed"; the notes name the server
certificate's issuer (read by ``_tlsprobe``), the bundle that was used and how to update it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._login import Target

__all__ = ["verification_failure", "verification_notes"]

_FAILURE_TEXT = re.compile(
    r"certificate verify failed|unable to get local issuer certificate|self[- ]signed "
    r"certificate|certificate has expired|unable to verify the first certificate|"
    r"does not match host name|hostname mismatch|ip address mismatch|certificate is not valid",
    re.IGNORECASE,
)
_NAME_MISMATCH = re.compile(r"match|not valid for", re.IGNORECASE)


def verification_failure(exc: BaseException) -> str | None:
    """What failed, if ``exc`` (or an exception it was raised from) is a certificate
    verification failure; else None."""
    import ssl

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:  # OpenSSL's own reason is the most precise
        if isinstance(item, ssl.SSLCertVerificationError):
            return str(item.verify_message or "certificate verify failed")
    for item in chain:
        match = _FAILURE_TEXT.search(str(item))
        if match:
            return match.group(0)
    return None


def _bundle_description(path: str) -> tuple[str, str | None]:
    """How to call the bundle at ``path``, and the partition whose update applies (if any)."""
    from pathlib import Path

    from . import _bundle

    if path == str(_bundle.DATA_DIR / "global-bundle.pem"):
        from ._version import __version__

        copied = _bundle.shipped_manifest().get("copied", "?")
        return f"the RDS bundle shipped with rds_iam_auth {__version__}, copied {copied}", "aws"
    for partition in _bundle.PARTITIONS.values():
        if Path(path) == _bundle.cache_dir() / partition.file:
            return f"the {partition.label} RDS bundle in the user cache", partition.name
    import certifi

    if path == certifi.where():
        return "certifi's public roots", "public"
    return "the bundle chosen with ca= or RDS_IAM_AUTH_CA_BUNDLE", None


def verification_notes(target: Target, reason: str) -> list[str]:
    """The notes for a failed verification of ``target``'s server (dials it once more)."""
    from . import _bundle
    from ._tlsprobe import peer_issuer

    endpoint = target.key.endpoint
    dial = target.address or endpoint
    engine = "postgresql" if target.adapter.DEFAULT_PORT == 5432 else "mysql"
    issuer = peer_issuer(dial.host, dial.port, endpoint.host, engine)
    path = target.tls.ca_path
    described, partition = _bundle_description(path)
    shown = f"issued by {issuer}" if issuer else "from an issuer that could not be read"
    notes = [
        f"rds_iam_auth: TLS verification of {endpoint.host} failed ({reason}). The server's "
        f"certificate is {shown}; it was checked against {path} ({described})."
    ]
    if _NAME_MISMATCH.search(reason):
        notes.append(
            "The certificate does not name the host you passed: pass the endpoint name RDS "
            "gave the database as host and dial a CNAME, IP or tunnel with address= (TLS still "
            "checks the endpoint's name), or relax only the name check with tls='verify-ca'."
        )
        return notes
    if partition == "public":
        notes.append(
            "RDS Proxy and Aurora DSQL present Amazon Trust Services certificates, which "
            "certifi has: upgrade certifi, or pass ca='system' (the OS trust store) or a path."
        )
        return notes
    update = _bundle.PARTITIONS[partition or _bundle.partition_of(endpoint.region) or "aws"]
    if issuer and "Amazon RDS" not in issuer:
        notes.append(
            "That issuer is not an Amazon RDS CA: check that host is the database, or pass "
            "ca= with the bundle of the CA that issued it (ca='system' for the OS trust store)."
        )
        return notes
    commercial = update.name == "aws"
    notes.append(
        f"An Amazon RDS CA this bundle lacks (a region newer than the bundle) needs a newer "
        f"bundle: download {update.url} where there is network access and install it with "
        f"rds_iam_auth.tls.install_bundle('global-bundle.pem', partition={update.name!r}) "
        f"(checked, then used{' instead of the shipped bundle' if commercial else ''}), or "
        f"pass ca='/path/global-bundle.pem' or set RDS_IAM_AUTH_CA_BUNDLE"
        f"{'; a newer rds_iam_auth also ships a newer bundle' if commercial else ''}."
    )
    return notes
