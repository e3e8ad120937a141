"""TLS policy: which CA verifies the server, and cached SSL contexts for drivers that take one.

CA resolution order: explicit ``ca=`` (a path, ``"certifi"`` or ``"system"``) →
``RDS_IAM_AUTH_CA_BUNDLE`` → certifi for RDS Proxy endpoints (Proxy presents public ACM
certificates) → the RDS global bundle, downloaded once and cached on disk.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from . import _fork
from .errors import CaBundleError, ConfigurationError

if TYPE_CHECKING:
    import ssl

    from .endpoint import Endpoint

__all__ = [
    "CACHE_DIR_ENV",
    "CA_BUNDLE_ENV",
    "RDS_GLOBAL_BUNDLE_URL",
    "TlsMode",
    "TlsSettings",
    "ca_bundle_path",
    "client_cert_context",
    "context_for",
]

TlsMode = Literal["verify-full", "verify-ca"]
TLS_MODES: tuple[TlsMode, ...] = ("verify-full", "verify-ca")
CA_BUNDLE_ENV = "RDS_IAM_AUTH_CA_BUNDLE"
CACHE_DIR_ENV = "RDS_IAM_AUTH_CACHE_DIR"
RDS_GLOBAL_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
_BUNDLE_FILE = "rds-global-bundle.pem"
_DOWNLOAD_TIMEOUT_S = 10.0
_PROXY_KINDS = ("proxy", "proxy-endpoint")

Fetcher = Callable[[str], bytes]
"""Downloads a URL and returns its body; injectable so tests never touch the network."""


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


def _default_fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310
        body: bytes = response.read()
    return body


def cache_dir() -> Path:
    """Where the downloaded RDS bundle is kept: ``RDS_IAM_AUTH_CACHE_DIR`` or the user cache."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rds-iam-auth"


_download_lock = threading.Lock()


def _reset_download_lock(module: object) -> None:
    # A child forked mid-download inherits the lock held by a thread it does not have.
    global _download_lock  # noqa: PLW0603
    _download_lock = threading.Lock()


_fork.register(sys.modules[__name__], _reset_download_lock)


def rds_global_bundle(fetch: Fetcher | None = None, *, refresh: bool = False) -> str:
    """Return the path of the cached RDS global CA bundle, downloading it once if needed.

    Raises:
        CaBundleError: It is not cached and could not be downloaded.
    """
    target = cache_dir() / _BUNDLE_FILE
    with _download_lock:
        if target.is_file() and not refresh:
            return str(target)
        try:
            body = (fetch or _default_fetch)(RDS_GLOBAL_BUNDLE_URL)
        except Exception as exc:
            raise CaBundleError(
                f"the RDS CA bundle is not cached at {target} and downloading it from "
                f"{RDS_GLOBAL_BUNDLE_URL} failed ({type(exc).__name__}: {exc}). Many database "
                "clients have no internet access: download the file once (e.g. in your image "
                f"build) and pass ca='/path/global-bundle.pem', or set {CA_BUNDLE_ENV}."
            ) from None
        if b"-----BEGIN CERTIFICATE-----" not in body:
            raise CaBundleError(
                f"{RDS_GLOBAL_BUNDLE_URL} did not return a PEM bundle; pass ca= or set "
                f"{CA_BUNDLE_ENV}"
            )
        _atomic_write(target, body)
    return str(target)


def _atomic_write(target: Path, body: bytes) -> None:
    # Other processes may read the file at any moment: write a sibling, then rename over.
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".bundle-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise CaBundleError(
            f"cannot write the CA bundle cache {target} ({exc.strerror}); set {CACHE_DIR_ENV} "
            f"to a writable directory, or pass ca= / set {CA_BUNDLE_ENV}"
        ) from None


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
        CaBundleError: The chosen file is missing or unreadable, or cannot be downloaded.
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
    if endpoint.kind in _PROXY_KINDS:
        import certifi

        return certifi.where()
    return rds_global_bundle(fetch)


def context_for(settings: TlsSettings, server_name: str) -> ssl.SSLContext:
    """A verifying, read-only ``SSLContext`` for ``settings`` that verifies ``server_name``.

    Shared per (CA file and its mtime, mode, name): see ``_sslcontext`` for why that is safe.

    Raises:
        CaBundleError: The CA bundle cannot be read or loaded.
    """
    from ._sslcontext import pinned_context

    return pinned_context(settings.ca_path, settings.check_hostname, server_name)


def client_cert_context(
    settings: TlsSettings,
    server_name: str,
    certfile: str,
    keyfile: str | None = None,
    password: str | None = None,
) -> ssl.SSLContext:
    """Like :func:`context_for`, also presenting a client certificate.

    Raises:
        CaBundleError: The CA bundle cannot be read or loaded.
        ConfigurationError: The certificate or key cannot be loaded.
    """
    from ._sslcontext import pinned_context

    return pinned_context(
        settings.ca_path, settings.check_hostname, server_name, (certfile, keyfile, password)
    )
