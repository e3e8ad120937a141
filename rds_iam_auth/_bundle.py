"""The RDS CA bundles we know: one per partition with its URL, and the commercial one shipped
in the package (``_data/global-bundle.pem``, described by ``_data/manifest.json``).

The shipped bundle is trusted by its pinned sha256, checked once per process; it is never
parsed at connect time. The user cache (installed and downloaded bundles) is
``_bundle_cache.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import CaBundleError

__all__ = [
    "CACHE_DIR_ENV",
    "CA_BUNDLE_ENV",
    "DATA_DIR",
    "PARTITIONS",
    "Fetcher",
    "Partition",
    "cache_dir",
    "not_before_floor",
    "partition_of",
    "shipped_bundle",
    "shipped_manifest",
]

CA_BUNDLE_ENV = "RDS_IAM_AUTH_CA_BUNDLE"
CACHE_DIR_ENV = "RDS_IAM_AUTH_CACHE_DIR"
DATA_DIR = Path(__file__).parent / "_data"

Fetcher = Callable[[str], bytes]
"""Downloads a URL and returns its body; injectable so tests never touch the network."""


@dataclass(frozen=True, slots=True)
class Partition:
    """An AWS partition with its own RDS CA bundle."""

    name: str
    label: str
    url: str
    file: str


PARTITIONS: dict[str, Partition] = {
    p.name: p
    for p in (
        Partition(
            "aws",
            "commercial",
            "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
            "rds-ca-aws.pem",
        ),
        Partition(
            "aws-us-gov",
            "GovCloud (US)",
            "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem",
            "rds-ca-aws-us-gov.pem",
        ),
        Partition(
            "aws-cn",
            "China",
            "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/global/global-bundle.pem",
            "rds-ca-aws-cn.pem",
        ),
    )
}


def partition_of(region: str) -> str | None:
    """The partition whose RDS bundle verifies ``region``, or None when we know no bundle
    (the ISO partitions and the European Sovereign Cloud)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("eusc-") or region.split("-")[1].startswith("iso"):
        return None
    return "aws"


def cache_dir() -> Path:
    """Where installed and downloaded bundles are kept: ``RDS_IAM_AUTH_CACHE_DIR``, else the
    user cache directory (``$XDG_CACHE_HOME/rds-iam-auth``, default ``~/.cache/rds-iam-auth``)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rds-iam-auth"


# --- the shipped bundle -------------------------------------------------------------------------

_shipped: dict[str, Any] = {}  # "manifest" -> dict, "path" -> str once its sha256 matched


def shipped_manifest() -> dict[str, Any]:
    """The manifest of the shipped bundle (source URL, sha256, count, date of copy, ...)."""
    manifest: dict[str, Any] | None = _shipped.get("manifest")
    if manifest is None:
        import json

        manifest = _shipped["manifest"] = json.loads(
            (DATA_DIR / "manifest.json").read_text("utf-8")
        )
    return manifest


def shipped_bundle() -> str:
    """The path of the RDS global bundle shipped in the package, its sha256 checked once.

    Raises:
        CaBundleError: The file is missing or does not match the manifest's sha256.
    """
    path: str | None = _shipped.get("path")
    if path is not None:
        return path
    import hashlib

    target = DATA_DIR / "global-bundle.pem"
    try:
        expected = shipped_manifest()["sha256"]
        actual = hashlib.sha256(target.read_bytes()).hexdigest()
    except (OSError, ValueError, KeyError) as exc:
        raise CaBundleError(
            f"the CA bundle shipped with rds_iam_auth cannot be read ({exc}): reinstall the "
            f"package, or pass ca='/path/global-bundle.pem' or set {CA_BUNDLE_ENV}"
        ) from None
    if actual != expected:
        raise CaBundleError(
            f"the CA bundle shipped with rds_iam_auth at {target} was modified (sha256 {actual}, "
            f"expected {expected}): reinstall the package, or pass ca= or set {CA_BUNDLE_ENV}"
        )
    path = _shipped["path"] = str(target)
    return path


def not_before_floor(partition: str) -> datetime | None:
    """The newest ``notBefore`` a bundle of ``partition`` must reach (the shipped one's, for
    the commercial partition), or None."""
    if partition != "aws":
        return None
    return datetime.fromisoformat(shipped_manifest()["newest_not_before"])
