"""Connector: credentials, token cache and TLS policy behind one thread-safe object."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _fork
from ._connect_api import DriverConnect
from ._connect_async_api import AsyncDriverConnect
from ._dsql import MAX_DSQL_EXPIRES_IN_S
from ._login import build
from ._targets import Targets
from .cache import TokenCache
from .credentials import CredentialSource
from .endpoint import validate_region
from .errors import ConfigurationError
from .signer import MAX_EXPIRES_IN_S, SigV4Signer, validate_expires_in
from .tls import Fetcher, validate_ca, validate_tls
from .token import Token

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from .token import Signer

__all__ = ["Connector", "Stats"]


@dataclass(frozen=True, slots=True)
class Stats:
    """A snapshot of a Connector's counters.

    Attributes:
        signings: Tokens signed (each one a SigV4 computation).
        cache_hits: Token requests served from the cache.
        refreshes: Signings that replaced a cached token before it expired.
        retries: Logins retried with a fresh token after the server refused one.
    """

    signings: int
    cache_hits: int
    refreshes: int
    retries: int


class Connector(DriverConnect, AsyncDriverConnect):
    """Opens database connections authenticated with IAM tokens, over verified TLS.

    One Connector holds one credential source and one token cache; share it across threads
    and pools. All arguments are keyword-only.

    Args:
        region: Default signing region for hosts that do not name one (IP addresses,
            custom DNS names). The region in an RDS host name wins over it.
        session: A ``boto3.Session`` or ``botocore.session.Session`` to take credentials from.
        credentials: Explicit botocore ``Credentials``.
        profile: A named profile from the shared AWS config files.
        signer: A custom :class:`~rds_iam_auth.Signer` (e.g. ``testing.StaticSigner``); when
            given, no AWS credentials are resolved at all.
        ca: CA bundle: a path, ``"certifi"`` or ``"system"``; default ``RDS_IAM_AUTH_CA_BUNDLE``,
            then certifi for RDS Proxy and Aurora DSQL, then a newer RDS bundle installed with
            ``tls.install_bundle`` (if valid), then the RDS bundle shipped in the package (no
            download; GovCloud and China bundles are downloaded once into the cache).
        tls: ``"verify-full"`` (default) or ``"verify-ca"`` (no host name check). Tunnels and
            port-forwards keep ``verify-full`` with ``address=``.
        clock: Returns epoch seconds; default ``time.time``. Used for all cache decisions.
        refresh_before_s: Re-sign a cached token this many seconds before it expires.
        expires_in_s: Lifetime written into each token (SigV4 signing only): 1..900 seconds
            for RDS hosts, up to 604800 for Aurora DSQL hosts. A token asked for a host that
            does not accept it raises ``ConfigurationError`` (before anything is signed).
        max_cached: At most this many (host, port, user, region) tokens are kept.
        ca_fetcher: Downloads the GovCloud and China RDS bundles; injectable for offline tests.
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        session: Any = None,
        credentials: Credentials | None = None,
        profile: str | None = None,
        signer: Signer | None = None,
        ca: str | None = None,
        tls: str = "verify-full",
        clock: Callable[[], float] | None = None,
        refresh_before_s: float = 300,
        expires_in_s: int = MAX_EXPIRES_IN_S,
        max_cached: int = 1024,
        ca_fetcher: Fetcher | None = None,
    ) -> None:
        self._closed = False  # first, so that repr() and close() work on a half-built object
        self._region = None if region is None else validate_region(region)
        self._tls_mode = validate_tls(tls)
        self._ca = validate_ca(ca)
        if isinstance(refresh_before_s, bool) or not isinstance(refresh_before_s, int | float):
            raise ConfigurationError("refresh_before_s must be a number of seconds")
        if not 0 <= refresh_before_s < MAX_EXPIRES_IN_S:
            raise ConfigurationError(
                f"refresh_before_s must be in 0..899 seconds, got {refresh_before_s}"
            )
        if isinstance(max_cached, bool) or not isinstance(max_cached, int) or max_cached < 1:
            raise ConfigurationError(f"max_cached must be a positive int, got {max_cached!r}")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a callable returning epoch seconds")
        # The limit depends on the host (900 s RDS, 604800 s DSQL): checked per host by Targets.
        validate_expires_in(expires_in_s, MAX_DSQL_EXPIRES_IN_S)
        self._signer = self._make_signer(signer, session, credentials, profile, expires_in_s)
        self._cache = TokenCache(
            clock=clock or time.time, refresh_before_s=refresh_before_s, max_size=max_cached
        )
        self._targets = Targets(
            signer=self._signer,
            source=self._source,
            expires_in_s=expires_in_s if signer is None else None,
            region=self._region,
            tls_mode=self._tls_mode,
            ca=self._ca,
            ca_fetcher=ca_fetcher,
            max_remembered=4 * max_cached,
        )
        self._remembered = self._targets.remembered
        self._lock = threading.Lock()
        self._retries = 0
        _fork.register(self, Connector._after_fork)

    def _make_signer(
        self, signer: Any, session: Any, credentials: Any, profile: Any, expires_in_s: int
    ) -> Signer:
        self._source: CredentialSource | None = None
        if signer is None:
            self._source = CredentialSource(
                session=session, credentials=credentials, profile=profile
            )
            return SigV4Signer(self._source, expires_in_s=expires_in_s)
        if not callable(getattr(signer, "sign", None)):
            raise ConfigurationError("signer must have a sign(endpoint, user, *, now) method")
        if session is not None or credentials is not None or profile is not None:
            raise ConfigurationError(
                "signer= replaces AWS credentials: do not combine it with session=, "
                "credentials= or profile="
            )
        if expires_in_s != MAX_EXPIRES_IN_S:
            raise ConfigurationError(
                "expires_in_s= applies to SigV4 signing; with signer= set the lifetime on the "
                "signer (e.g. StaticSigner(..., expires_in_s=...))"
            )
        return signer  # type: ignore[no-any-return]

    def _after_fork(self) -> None:
        # A child forked while another thread counted a retry holds this lock.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # getattr: repr() must work on an instance whose __init__ raised (error trackers).
        signer = getattr(self, "_signer", None)
        cache = getattr(self, "_cache", None)
        closed = ", closed" if getattr(self, "_closed", False) else ""
        return (
            f"Connector(region={getattr(self, '_region', None)!r}, "
            f"tls={getattr(self, '_tls_mode', None)!r}, ca={getattr(self, '_ca', None)!r}, "
            f"signer={type(signer).__name__}, cached={0 if cache is None else len(cache)}{closed})"
        )

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Forget cached tokens for good; later calls raise ``ConnectorClosedError``.

        Connections already opened are not affected.
        """
        self._closed = True
        targets = getattr(self, "_targets", None)
        if targets is not None:
            targets.close()  # so every later call reaches the closed check
            self._cache.close()

    @property
    def stats(self) -> Stats:
        """A frozen snapshot of signings, cache hits, refreshes and retries."""
        cache = self._cache.stats
        return Stats(cache.signings, cache.cache_hits, cache.refreshes, self._retries)

    def _count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def token(self, host: str, port: int, user: str, *, region: str | None = None) -> Token:
        """Return a cached or freshly signed token for ``user`` at ``host:port``.

        Raises:
            ConfigurationError: A parameter is invalid.
            RegionNotFoundError: No region for this host.
            CredentialsError: No usable AWS credentials.
            ConnectorClosedError: The Connector was closed.
        """
        try:
            key = self._remembered[("token", host, port, user, region)]
        except (KeyError, TypeError):
            key = None
        # type() is int: True and 5432.0 hash like 1 and 5432 but are not valid ports.
        if key is None or type(port) is not int:
            key = self._targets.key(host, port, user, region)
        return self._cache.get(key.key, key.sign)

    def connect_kwargs(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        address: str | None = None,
        **driver_kwargs: Any,
    ) -> dict[str, Any]:
        """Return the keyword arguments for ``driver``'s ``connect()``, token included.

        The result contains the token as ``password`` (its ``repr()`` hides it): hand it to
        the driver, never log it. ``address=`` dials another host/port (``"10.0.0.5:5432"``,
        ``"[::1]:15432"``) while the token is signed for, and TLS verifies, ``host``.
        """
        target = self._targets.target(host, user, driver, (port, region, address))
        return build(target, self._cache.get(target.key.key, target.key.sign), driver_kwargs)
