"""Connector: credentials, token cache and TLS policy behind one thread-safe object."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .cache import TokenCache
from .credentials import CredentialSource
from .drivers import DriverAdapter, get_adapter
from .endpoint import Endpoint, parse_endpoint, region_from_host, validate_host, validate_region
from .errors import ConfigurationError
from .signer import SigV4Signer, validate_user
from .tls import Fetcher, TlsSettings, ca_bundle_path, validate_ca, validate_tls
from .token import Token

if TYPE_CHECKING:
    from botocore.credentials import Credentials

    from .token import Signer

__all__ = ["Connector", "Stats", "connect"]


class _Prepared:
    """What one validated (host, port, user, region[, driver]) resolves to, kept for reuse."""

    __slots__ = ("adapter", "endpoint", "key", "sign", "tls", "user")

    def __init__(
        self,
        endpoint: Endpoint,
        user: str,
        signer: Signer,
        adapter: DriverAdapter | None = None,
        tls: TlsSettings | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self.key = (endpoint.key_host, endpoint.port, user, endpoint.region)
        self.adapter = adapter
        self.tls = tls

        def sign(now: datetime) -> Token:
            return signer.sign(endpoint, user, now=now)

        self.sign = sign


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


class Connector:
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
            then certifi for RDS Proxy, then the RDS global bundle (downloaded once, cached).
        tls: ``"verify-full"`` (default) or ``"verify-ca"`` (no host name check, for tunnels).
        clock: Returns epoch seconds; default ``time.time``. Used for all cache decisions.
        refresh_before_s: Re-sign a cached token this many seconds before it expires.
        max_cached: At most this many (host, port, user, region) tokens are kept.
        ca_fetcher: Downloads the RDS bundle; injectable for offline tests.
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
        max_cached: int = 1024,
        ca_fetcher: Fetcher | None = None,
    ) -> None:
        self._region = None if region is None else validate_region(region)
        self._tls_mode = validate_tls(tls)
        self._ca = validate_ca(ca)
        if isinstance(refresh_before_s, bool) or not isinstance(refresh_before_s, int | float):
            raise ConfigurationError("refresh_before_s must be a number of seconds")
        if not 0 <= refresh_before_s < 900:
            raise ConfigurationError(
                f"refresh_before_s must be in 0..899 seconds, got {refresh_before_s}"
            )
        if isinstance(max_cached, bool) or not isinstance(max_cached, int) or max_cached < 1:
            raise ConfigurationError(f"max_cached must be a positive int, got {max_cached!r}")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a callable returning epoch seconds")
        if signer is not None:
            if not hasattr(signer, "sign"):
                raise ConfigurationError("signer must have a sign(endpoint, user, *, now) method")
            if session is not None or credentials is not None or profile is not None:
                raise ConfigurationError(
                    "signer= replaces AWS credentials: do not combine it with session=, "
                    "credentials= or profile="
                )
            self._source: CredentialSource | None = None
            self._signer: Signer = signer
        else:
            self._source = CredentialSource(
                session=session, credentials=credentials, profile=profile
            )
            self._signer = SigV4Signer(self._source)
        self._cache = TokenCache(
            clock=clock or time.time, refresh_before_s=refresh_before_s, max_size=max_cached
        )
        self._ca_fetcher = ca_fetcher
        self._lock = threading.Lock()
        self._retries = 0
        self._fallback_region: str | None = None
        self._fallback_resolved = False
        self._closed = False
        # CA resolution depends only on ca=, the environment and whether the endpoint is an
        # RDS Proxy; resolving it once keeps file checks off the per-connection path.
        self._ca_paths: dict[bool, str] = {}
        # Validated call arguments -> _Prepared, so a cache hit neither re-validates nor
        # re-parses the same host for every connection a pool opens.
        self._prepared: dict[tuple[Any, ...], _Prepared] = {}
        self._max_prepared = 4 * max_cached

    def __repr__(self) -> str:
        return (
            f"Connector(region={self._region!r}, tls={self._tls_mode!r}, ca={self._ca!r}, "
            f"signer={type(self._signer).__name__}, cached={len(self._cache)})"
        )

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Forget cached tokens. Connections already opened are not affected."""
        self._closed = True
        self._prepared.clear()  # so every later call reaches the closed check
        self._cache.clear()

    @property
    def stats(self) -> Stats:
        """A frozen snapshot of signings, cache hits, refreshes and retries."""
        cache = self._cache.stats
        return Stats(cache.signings, cache.cache_hits, cache.refreshes, self._retries)

    def _default_region(self) -> str | None:
        if self._region is not None:
            return self._region
        if self._source is None:
            return None
        if not self._fallback_resolved:
            with self._lock:
                if not self._fallback_resolved:
                    self._fallback_region = self._source.region()
                    self._fallback_resolved = True
        return self._fallback_region

    def _endpoint(self, host: str, port: int | None, region: str | None) -> Endpoint:
        validate_host(host)
        if region is None and region_from_host(host) is None:
            region = self._default_region()
        return parse_endpoint(host, port, region)

    def _remember(self, args: tuple[Any, ...], prepared: _Prepared) -> _Prepared:
        if len(self._prepared) >= self._max_prepared:
            self._prepared.clear()  # many distinct hosts: start over rather than grow
        self._prepared[args] = prepared
        return prepared

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this Connector is closed; create a new one")

    def token(self, host: str, port: int, user: str, *, region: str | None = None) -> Token:
        """Return a cached or freshly signed token for ``user`` at ``host:port``.

        Raises:
            ConfigurationError: A parameter is invalid.
            RegionNotFoundError: No region for this host.
            CredentialsError: No usable AWS credentials.
        """
        args = (host, port, user, region)
        try:
            prepared = self._prepared[args]
        except (KeyError, TypeError):  # TypeError: unhashable, let validation name it
            prepared = None
        # type() is int: True and 5432.0 hash like 1 and 5432 but are not valid ports.
        if prepared is None or type(port) is not int:
            self._check_open()
            endpoint = self._endpoint(host, port, region)
            prepared = self._remember(args, _Prepared(endpoint, validate_user(user), self._signer))
        return self._cache.get(prepared.key, prepared.sign)

    def _prepare(
        self, host: str, user: str, driver: str, port: int | None, region: str | None
    ) -> _Prepared:
        args = (host, user, driver, port, region)
        try:
            prepared = self._prepared[args]
        except (KeyError, TypeError):
            prepared = None
        if prepared is None or not (port is None or type(port) is int):
            self._check_open()
            adapter = get_adapter(driver)
            endpoint = self._endpoint(host, adapter.DEFAULT_PORT if port is None else port, region)
            validate_user(user)
            tls = TlsSettings(self._tls_mode, self._ca_path(endpoint))
            prepared = self._remember(args, _Prepared(endpoint, user, self._signer, adapter, tls))
        return prepared

    def _ca_path(self, endpoint: Endpoint) -> str:
        is_proxy = endpoint.kind in ("proxy", "proxy-endpoint")
        path = self._ca_paths.get(is_proxy)
        if path is None:
            path = self._ca_paths[is_proxy] = ca_bundle_path(self._ca, endpoint, self._ca_fetcher)
        return path

    def connect_kwargs(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        **driver_kwargs: Any,
    ) -> dict[str, Any]:
        """Return the keyword arguments for ``driver``'s ``connect()``, token included.

        The result contains the token as ``password``: hand it to the driver, never log it.
        """
        prepared = self._prepare(host, user, driver, port, region)
        return self._kwargs(prepared, self._cache.get(prepared.key, prepared.sign), driver_kwargs)

    @staticmethod
    def _kwargs(prepared: _Prepared, token: Token, driver_kwargs: dict[str, Any]) -> dict[str, Any]:
        assert prepared.adapter is not None
        assert prepared.tls is not None
        return prepared.adapter.build_kwargs(
            host=prepared.endpoint.host,
            port=prepared.endpoint.port,
            user=prepared.user,
            password=token.value,
            tls=prepared.tls,
            user_kwargs=driver_kwargs,
        )

    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        **driver_kwargs: Any,
    ) -> Any:
        """Open a DB-API connection with ``driver`` ("psycopg" or "pymysql").

        If the server refuses the cached token, it is dropped and the login retried once
        with a fresh one; a second refusal raises the driver's own exception.
        """
        return self._connect(self._prepare(host, user, driver, port, region), driver_kwargs)

    def _connect(self, prepared: _Prepared, driver_kwargs: dict[str, Any]) -> Any:
        self._check_open()
        adapter = prepared.adapter
        assert adapter is not None
        kwargs = self._kwargs(prepared, self._cache.get(prepared.key, prepared.sign), driver_kwargs)
        try:
            return adapter.connect(kwargs)
        except Exception as exc:
            if not adapter.is_auth_refused(exc):
                raise
        # Outside the except block, so a second refusal is not chained to the first.
        self._cache.invalidate(prepared.key)
        with self._lock:
            self._retries += 1
        kwargs["password"] = self._cache.get(prepared.key, prepared.sign).value
        return adapter.connect(kwargs)

    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        **driver_kwargs: Any,
    ) -> Callable[[], Any]:
        """Return a zero-argument callable that opens a connection: for pools and ORMs.

        Arguments are validated now; each call reuses the cached token until it is due for
        refresh, e.g. ``create_engine("postgresql+psycopg://", creator=c.creator(...))``.
        """
        prepared = self._prepare(host, user, driver, port, region)
        kwargs = dict(driver_kwargs)
        # Build once with a placeholder token so bad driver keywords fail here, not in the pool.
        self._kwargs(prepared, _PLACEHOLDER, kwargs)

        def create() -> Any:
            return self._connect(prepared, kwargs)

        return create


_PLACEHOLDER = Token("", "", 0, "", "", datetime.min, datetime.min)

_default_lock = threading.Lock()
_default_connector: Connector | None = None


def _get_default() -> Connector:
    global _default_connector  # noqa: PLW0603 - one lazily built process-wide default
    if _default_connector is None:
        with _default_lock:
            if _default_connector is None:
                _default_connector = Connector()
    return _default_connector


def connect(
    host: str,
    user: str,
    *,
    driver: str,
    port: int | None = None,
    region: str | None = None,
    **driver_kwargs: Any,
) -> Any:
    """Open a connection through a process-wide default :class:`Connector`.

    The default Connector uses the default credential chain and CA resolution; build your own
    Connector to choose a profile, session, CA or clock.
    """
    return _get_default().connect(
        host, user, driver=driver, port=port, region=region, **driver_kwargs
    )
