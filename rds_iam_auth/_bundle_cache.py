"""The user cache of RDS CA bundles: newer bundles installed with :func:`install_bundle`, and
the GovCloud and China bundles, downloaded on demand; and the resolution that uses them.

Any bundle read from the cache or a download is checked first (``_certs.check_bundle``), and
only from a cache directory that no other user can write to: a bundle planted there would be
trusted for every connection.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _fork
from ._bundle import (
    CA_BUNDLE_ENV,
    CACHE_DIR_ENV,
    PARTITIONS,
    Fetcher,
    Partition,
    cache_dir,
    not_before_floor,
    partition_of,
    shipped_bundle,
)
from ._log import logger
from .errors import CaBundleError

if TYPE_CHECKING:
    from ._certs import BundleInfo

__all__ = ["install_bundle", "rds_bundle"]

_DOWNLOAD_TIMEOUT_S = 10.0


# --- the user cache -----------------------------------------------------------------------------


def _unsafe(path: Path, *, directory: bool) -> str | None:
    """Why ``path`` may not hold a trusted bundle, or None (POSIX only)."""
    if os.name != "posix":
        return None
    st = path.stat() if directory else path.lstat()
    import stat

    if not directory and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if st.st_uid not in (os.geteuid(), 0):
        return f"{path} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return (
            f"{path} is writable by other users (mode {stat.S_IMODE(st.st_mode):o}; chmod go-w it)"
        )
    return None


_checked: dict[tuple[Any, ...], BundleInfo | str] = {}  # (path, stat) -> info or refusal
_warned: set[tuple[str, str]] = set()


def _cached(partition: Partition, now: datetime | None = None) -> str | None:
    """The cached bundle of ``partition`` if it is there, safe and valid; else None (a
    refusal is logged once)."""
    directory = cache_dir()
    target = directory / partition.file
    try:
        st, dst = target.lstat(), directory.stat()
    except OSError:
        return None
    stamp = (
        str(target),
        *(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid),
        *(dst.st_mode, dst.st_uid),
    )
    result = _checked.get(stamp)
    if result is None:
        try:
            reason = _unsafe(directory, directory=True) or _unsafe(target, directory=False)
            if reason is not None:
                raise CaBundleError(f"{reason}: a bundle planted there would be trusted")
            from ._certs import check_bundle

            result = check_bundle(
                target.read_bytes(),
                str(target),
                now=now or datetime.now(timezone.utc),
                not_before_floor=not_before_floor(partition.name),
            )
        except (OSError, CaBundleError) as exc:
            result = str(exc)
        _checked[stamp] = result
    if isinstance(result, str):
        if (str(target), result) not in _warned:
            _warned.add((str(target), result))
            logger.warning("ignoring the cached RDS CA bundle: %s", result)
        return None
    return str(target)


def _read_source(source: bytes | str | os.PathLike[str]) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, "the bundle given"
    path = os.fspath(source)
    try:
        return Path(path).read_bytes(), path
    except OSError as exc:
        raise CaBundleError(f"cannot read {path!r}: {exc.strerror}") from None


def install_bundle(
    source: bytes | str | os.PathLike[str],
    *,
    partition: str = "aws",
    now: datetime | None = None,
) -> str:
    """Check a newer RDS CA bundle and install it atomically into the user cache.

    Connectors built afterwards use it (for the commercial partition, instead of the shipped
    bundle) as long as it stays valid. ``rds-iam-auth ca update`` calls it.

    Args:
        source: The bundle's bytes or the path of a PEM file (e.g. a ``global-bundle.pem``
            downloaded where there is network access).
        partition: ``"aws"`` (commercial), ``"aws-us-gov"`` or ``"aws-cn"``.
        now: The current time, for the expiry rule; default now.

    Returns:
        The path it was installed at.

    Raises:
        CaBundleError: The bundle breaks a rule (see ``_certs``), or the cache directory is
            writable by other users or cannot be written.
        ConfigurationError: ``partition`` is unknown.
    """
    from ._certs import check_bundle

    if partition not in PARTITIONS:
        from .errors import ConfigurationError

        raise ConfigurationError(
            f"partition must be one of {sorted(PARTITIONS)}, got {partition!r}"
        )
    pem, origin = _read_source(source)
    check_bundle(
        pem,
        origin,
        now=now or datetime.now(timezone.utc),
        not_before_floor=not_before_floor(partition),
    )
    return _write(cache_dir() / PARTITIONS[partition].file, pem)


def _write(target: Path, body: bytes) -> str:
    # Other processes may read the file at any moment: write a sibling, then rename over.
    import tempfile

    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        reason = _unsafe(target.parent, directory=True)
        if reason is not None:
            raise CaBundleError(
                f"refusing to install a CA bundle in {target.parent}: {reason} (a bundle planted "
                f"there would be trusted); set {CACHE_DIR_ENV} to a private directory"
            )
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".bundle-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
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
    return str(target)


# --- resolution ----------------------------------------------------------------------------------

_download_lock = threading.Lock()


def _reset_download_lock(module: object) -> None:
    # A child forked mid-download inherits the lock held by a thread it does not have.
    global _download_lock  # noqa: PLW0603
    _download_lock = threading.Lock()


_fork.register(sys.modules[__name__], _reset_download_lock)


def _default_fetch(url: str) -> bytes:
    import ssl
    import urllib.request

    import certifi

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # not create_default_context: no keylog
    context.load_verify_locations(certifi.where())
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S, context=context) as response:  # noqa: S310
        body: bytes = response.read(4 * 1024 * 1024 + 1)
    return body


def rds_bundle(region: str, fetch: Fetcher | None = None) -> str:
    """The RDS CA bundle for an instance in ``region`` (see ``tls`` for the whole order).

    Commercial partition: a valid bundle installed in the cache, else the shipped one (never
    a download). GovCloud and China: the cached bundle, else downloaded once into the cache.

    Raises:
        CaBundleError: No bundle is known for the region's partition, or the GovCloud / China
            bundle is not cached and cannot be downloaded.
    """
    name = partition_of(region)
    if name is None:
        raise CaBundleError(
            f"rds_iam_auth has no RDS CA bundle for region {region}: pass "
            f"ca='/path/to/that partition's RDS bundle.pem' or set {CA_BUNDLE_ENV}"
        )
    partition = PARTITIONS[name]
    if name == "aws":
        return _cached(partition) or shipped_bundle()
    with _download_lock:
        cached = _cached(partition)
        if cached is not None:
            return cached
        return _download(partition, fetch or _default_fetch)


def _download(partition: Partition, fetch: Fetcher) -> str:
    target = cache_dir() / partition.file
    failure = ""
    try:
        body = fetch(partition.url)
    except Exception as exc:
        failure = f"downloading it from {partition.url} failed ({type(exc).__name__}: {exc})"
    if not failure:
        from ._certs import check_bundle

        try:
            check_bundle(body, partition.url, now=datetime.now(timezone.utc), not_before_floor=None)
        except CaBundleError as exc:
            failure = f"the download was refused: {exc}"
    if failure:
        raise CaBundleError(
            f"the RDS CA bundle for the {partition.label} regions is not in the cache "
            f"({target}) and {failure}. Either let this process reach {partition.url} once "
            f"(or, where there is network access, download it and install it with "
            f"rds_iam_auth.tls.install_bundle(path, partition={partition.name!r}) with the same "
            f"{CACHE_DIR_ENV}), or pass ca='/path/global-bundle.pem' or set {CA_BUNDLE_ENV}."
        )
    return _write(target, body)
