"""TLS policy: which CA verifies the server, and cached SSL contexts for drivers that take one.

CA resolution order (DESIGN §6), first match wins:

1. ``ca=``: a path, ``"certifi"`` or ``"system"`` (the OS trust store);
2. ``RDS_IAM_AUTH_CA_BUNDLE``: a path;
3. RDS Proxy and Aurora DSQL endpoints: certifi (they present public Amazon Trust Services
   certificates, which certifi has and the RDS bundles do not);
4. a newer RDS bundle installed into the user cache with :func:`install_bundle` (what
   ``rds-iam-auth ca update`` does), used only while it validates;
5. the RDS global bundle shipped in the package (commercial partition): nothing is downloaded
   at connect time, so clients in private subnets work.

GovCloud (``us-gov-*``) and China (``cn-*``) have their own RDS bundles: steps 4-5 become
"the cached bundle of that partition, else downloaded once into the cache" (through the
Connector's ``ca_fetcher``), or pass ``ca=``. The ISO partitions and the European Sovereign
Cloud need ``ca=``. The cache is ``RDS_IAM_AUTH_CACHE_DIR``, default the user cache directory
(``~/.cache/rds-iam-auth``); it is refused when other users can write to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._bundle import (
    CA_BUNDLE_ENV,
    CACHE_DIR_ENV,
    Fetcher,
    cache_dir,
    partition_of,
    shipped_bundle,
    shipped_manifest,
)
from ._bundle_cache import install_bundle, rds_bundle
from .errors import CaBundleError, ConfigurationError

if TYPE_CHECKING:
    import ssl

    from .endpoint import Endpoint

__all__ = [
    "CACHE_DIR_ENV",
    "CA_BUNDLE_ENV",
    "Fetcher",
    "TlsMode",
    "TlsSettings",
    "ca_bundle_path",
    "cache_dir",
    "context_for",
    "install_bundle",
    "shipped_bundle",
    "shipped_manifest",
    "trust_group",
]

TlsMode = Literal["verify-full", "verify-ca"]
TLS_MODES: tuple[TlsMode, ...] = ("verify-full", "verify-ca")
# RDS Proxy and Aurora DSQL present public Amazon Trust Services certificates; parse_endpoint
# gives DSQL hosts (<id>.dsql[-suffix].<region>.on.aws) kind "dsql".
_PUBLIC_KINDS = ("proxy", "proxy-endpoint", "dsql")


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The verification a driver must apply: ``mode`` and the CA file to trust."""

    mode: TlsMode
    ca_path: str

    @property
    def check_hostname(self) -> bool:
        """Whether the server's name must match its certificate."""
        return self.mode == "verify-full"


def validate_tls(tls: object) -> TlsMode:
    """Check the ``tls=`` setting."""
    if tls not in TLS_MODES:
        raise ConfigurationError(
            f"tls must be 'verify-full' or 'verify-ca' (there is no plaintext mode), got {tls!r}"
        )
    return tls


def validate_ca(ca: object) -> str | None:
    """Check the ``ca=`` setting: None, ``"certifi"``, ``"system"`` or a path."""
    if ca is None:
        return None
    if isinstance(ca, os.PathLike):
        ca = os.fspath(ca)
    if not isinstance(ca, str) or not ca:
        raise ConfigurationError(
            f"ca must be a file path, 'certifi' or 'system', got {type(ca).__name__}"
        )
    return ca


def _system_bundle() -> str:
    import ssl

    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    raise CaBundleError(
        "ca='system': no system CA file found (looked at the OpenSSL default paths); "
        "pass ca='/path/to/bundle.pem'"
    )


def _checked_file(path: str, origin: str) -> str:
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise CaBundleError(f"CA bundle {path!r} from {origin} does not exist or is not readable")
    return path


def ca_bundle_path(ca: str | None, endpoint: Endpoint, fetch: Fetcher | None = None) -> str:
    """Resolve the CA file that verifies ``endpoint`` (see the module docstring for the order).

    Raises:
        CaBundleError: The chosen file is missing or unreadable; no bundle is known for the
            endpoint's partition; a GovCloud / China bundle is not cached and cannot be
            downloaded.
    """
    if ca == "certifi":
        import certifi

        return certifi.where()
    if ca == "system":
        return _system_bundle()
    if ca is not None:
        return _checked_file(ca, "ca=")
    from_env = os.environ.get(CA_BUNDLE_ENV)
    if from_env:
        return _checked_file(from_env, CA_BUNDLE_ENV)
    if trust_group(endpoint) == "public":
        import certifi

        return certifi.where()
    return rds_bundle(endpoint.region, fetch)


def trust_group(endpoint: Endpoint) -> str:
    """Which default CA verifies ``endpoint``: ``"public"`` (certifi: RDS Proxy, Aurora DSQL)
    or the name of the partition whose RDS bundle does (``"aws"``, ``"aws-us-gov"``,
    ``"aws-cn"``; the region itself when no bundle is known)."""
    if endpoint.kind in _PUBLIC_KINDS:
        return "public"
    return partition_of(endpoint.region) or endpoint.region


def context_for(settings: TlsSettings, server_name: str) -> ssl.SSLContext:
    """A verifying, read-only ``SSLContext`` for ``settings`` that verifies ``server_name``.

    Shared per (CA file and its mtime, mode, name): see ``_sslcontext`` for why that is safe.

    Raises:
        CaBundleError: The CA bundle cannot be read or loaded.
    """
    from ._sslcontext import pinned_context

    return pinned_context(settings.ca_path, settings.check_hostname, server_name)
