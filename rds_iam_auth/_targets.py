"""Turning call arguments into validated Keys and Targets, remembered for reuse.

A pool calls ``connect()`` with the same arguments thousands of times; validating the host,
parsing the endpoint, resolving the region and the CA file once per distinct call keeps a cache
hit at a dict lookup.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from . import _fork
from ._address import parse_address
from ._log import logger
from ._login import Key, Target
from .drivers import get_adapter
from .endpoint import Endpoint, parse_endpoint, region_from_host, validate_host, validate_region
from .errors import ConfigurationError, ConnectorClosedError
from .signer import check_expires_for, validate_user
from .tls import Fetcher, TlsMode, TlsSettings, ca_bundle_path, trust_group

if TYPE_CHECKING:
    from .credentials import CredentialSource
    from .token import Signer

__all__ = ["Targets"]

_CLOSED = "this Connector is closed; build a new one"


class Targets:
    """The argument-to-Key/Target half of a Connector (one per Connector)."""

    def __init__(
        self,
        *,
        signer: Signer,
        source: CredentialSource | None,
        region: str | None,
        tls_mode: TlsMode,
        ca: str | None,
        ca_fetcher: Fetcher | None,
        max_remembered: int,
        expires_in_s: int | None = None,
    ) -> None:
        self.closed = False
        self._signer = signer
        self._expires_in_s = expires_in_s  # SigV4 only; a custom signer= checks its own
        self._source = source
        self._region = region
        self._tls_mode = tls_mode
        self._ca = ca
        self._ca_fetcher = ca_fetcher
        self._lock = threading.Lock()
        self._fallback_region: tuple[str | None] | None = None
        self._warned_regions: set[tuple[str, str]] = set()
        # CA resolution depends only on ca=, the environment and the endpoint's trust group
        # (public roots for RDS Proxy / DSQL, else its partition); resolving it once per group
        # keeps file checks off the per-connection path.
        self._ca_paths: dict[str, str] = {}
        # Validated call arguments -> Key / Target. Public to the Connector, whose hit path
        # reads it directly (one method call less per pooled connection).
        self.remembered: dict[tuple[Any, ...], Any] = {}
        self._max_remembered = max_remembered
        _fork.register(self, Targets._after_fork)

    def _after_fork(self) -> None:
        # A child forked while another thread looked up the default region holds this lock.
        self._lock = threading.Lock()

    def close(self) -> None:
        """Forget everything; later lookups raise ConnectorClosedError."""
        self.closed = True
        self.remembered.clear()

    def check_open(self) -> None:
        """Raise ConnectorClosedError after :meth:`close`."""
        if self.closed:
            raise ConnectorClosedError(_CLOSED)

    def _default_region(self) -> str | None:
        if self._region is not None:
            return self._region
        if self._source is None:
            return None
        if self._fallback_region is None:
            with self._lock:
                if self._fallback_region is None:
                    self._fallback_region = (self._source.region(),)
        return self._fallback_region[0]

    def _new_key(self, host: str, port: int, user: str, region: str | None) -> Key:
        validate_host(host)
        host_region = region_from_host(host)
        if region is not None:
            source = "region="
            if host_region is not None and host_region != validate_region(region):
                self._warn_region(host, host_region, region)
        elif host_region is not None:
            source = "the host name"
        else:
            region = self._default_region()
            source = "Connector(region=)" if self._region else "the AWS profile or environment"
        endpoint: Endpoint = parse_endpoint(host, port, region)
        if self._expires_in_s is not None:
            # Per host: one Connector may serve RDS (<= 900 s) and DSQL (<= 604800 s) hosts.
            # Keys are remembered, so this runs once per distinct call, never per signing.
            check_expires_for(endpoint, self._expires_in_s)
        return Key(endpoint, validate_user(user), self._signer, source)

    def _warn_region(self, host: str, host_region: str, region: str) -> None:
        pair = (host.rstrip(".").lower(), region)
        with self._lock:
            if pair in self._warned_regions:
                return
            self._warned_regions.add(pair)
        logger.warning(
            "region=%r differs from the region %r in the host name %s: the token is signed "
            "for %r, which RDS refuses unless the database really is there",
            region,
            host_region,
            host,
            region,
        )

    def _remember(self, args: tuple[Any, ...], prepared: Any) -> None:
        if len(self.remembered) >= self._max_remembered:
            self.remembered.clear()  # many distinct hosts: start over rather than grow
        self.remembered[args] = prepared
        if self.closed:  # close() ran meanwhile: leave nothing behind
            self.remembered.clear()
            raise ConnectorClosedError(_CLOSED)

    def key(self, host: str, port: int, user: str, region: str | None) -> Key:
        """The validated Key for ``token()``'s arguments."""
        args = ("token", host, port, user, region)
        try:
            key: Key | None = self.remembered[args]
        except (KeyError, TypeError):  # TypeError: unhashable, let validation name it
            key = None
        # type() is int: True and 5432.0 hash like 1 and 5432 but are not valid ports.
        if key is None or type(port) is not int:
            self.check_open()
            key = self._new_key(host, port, user, region)
            self._remember(args, key)
        return key

    def remembered_key(self, host: str, port: Any, user: str, region: Any) -> Key | None:
        """The Key :meth:`key` would return, if it is remembered (no validation, no I/O)."""
        try:
            key: Key | None = self.remembered[("token", host, port, user, region)]
        except (KeyError, TypeError):
            return None
        return key if type(port) is int else None

    def remembered_target(
        self, host: str, user: str, driver: str, where: tuple[Any, Any, Any]
    ) -> Target | None:
        """The Target :meth:`target` would return, if it is remembered (no validation, no I/O)."""
        args = (host, user, driver, *where)
        try:
            target: Target | None = self.remembered[args]
        except (KeyError, TypeError):
            return None
        port = where[0]
        return target if port is None or type(port) is int else None

    def target(self, host: str, user: str, driver: str, where: tuple[Any, Any, Any]) -> Target:
        """The validated Target for ``connect()``'s arguments; ``where`` is (port, region,
        address)."""
        args = (host, user, driver, *where)
        try:
            target: Target | None = self.remembered[args]
        except (KeyError, TypeError):
            target = None
        port = where[0]
        if target is None or not (port is None or type(port) is int):
            self.check_open()
            target = self._new_target(host, user, driver, where)
            self._remember(args, target)
        return target

    def _new_target(self, host: str, user: str, driver: str, where: tuple[Any, Any, Any]) -> Target:
        port, region, address = where
        adapter = get_adapter(driver)
        key = self._new_key(host, adapter.DEFAULT_PORT if port is None else port, user, region)
        dial = None
        if address is not None:
            if not adapter.SUPPORTS_ADDRESS:
                raise ConfigurationError(
                    f"address= is not possible with driver={driver!r}: it cannot verify a "
                    "certificate name other than the host it dials"
                )
            dial = parse_address(address, key.endpoint.port)
        tls = TlsSettings(self._tls_mode, self._ca_path(key.endpoint))
        return Target(key, adapter, tls, dial)

    def _ca_path(self, endpoint: Endpoint) -> str:
        group = trust_group(endpoint)
        path = self._ca_paths.get(group)
        if path is None:
            path = self._ca_paths[group] = ca_bundle_path(self._ca, endpoint, self._ca_fetcher)
        return path
