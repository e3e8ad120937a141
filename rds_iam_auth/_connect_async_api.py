"""The asyncio half of :class:`~rds_iam_auth.Connector`: ``connect_async()``, ``token_async()``,
``connect_kwargs_async()`` and ``async_creator()``.

The same Targets, TokenCache and login flow as the blocking half (``_login.flow``), answered by
an awaiting shell. A cache hit never leaves the event loop; everything that can block (signing
and credential refresh, the default-region lookup, CA resolution and the first TLS context,
resolving a host name in ``address=`` for libpq) runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from ._login import Target, build, login_async
from .errors import ConfigurationError

if TYPE_CHECKING:
    import aiomysql
    import asyncmy
    import asyncpg
    import psycopg
    from psycopg.rows import TupleRow

    from ._targets import Targets
    from .cache import TokenCache
    from .token import Token

__all__ = ["AsyncDriverConnect"]

_Where = tuple[Any, Any, Any]


class AsyncDriverConnect:
    """The awaiting half of :class:`~rds_iam_auth.Connector`."""

    _targets: Targets
    _cache: TokenCache

    def _count_retry(self) -> None:
        raise NotImplementedError  # pragma: no cover - Connector's

    async def token_async(
        self, host: str, port: int, user: str, *, region: str | None = None
    ) -> Token:
        """:meth:`token` without blocking the event loop (one cache shared with threads)."""
        key = self._targets.remembered_key(host, port, user, region)
        if key is None:
            import asyncio

            key = await asyncio.to_thread(self._targets.key, host, port, user, region)
        return await self._cache.get_async(key.key, key.sign)

    async def _target(self, host: str, user: str, driver: str, where: _Where, kw: Any) -> Target:
        target = self._targets.remembered_target(host, user, driver, where)
        if target is None:
            import asyncio

            target = await asyncio.to_thread(self._first_target, host, user, driver, where, kw)
        self._targets.check_open()
        return target

    def _first_target(self, host: str, user: str, driver: str, where: _Where, kw: Any) -> Target:
        from ._connect_api import PLACEHOLDER

        target = self._targets.target(host, user, driver, where)
        # Loads the CA file into the shared TLS context here, in the worker thread, and
        # checks the driver keywords before any signing.
        build(target, PLACEHOLDER, kw)
        return target

    async def connect_kwargs_async(
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
        """:meth:`connect_kwargs` without blocking the event loop."""
        target = await self._target(host, user, driver, (port, region, address), driver_kwargs)
        token = await self._cache.get_async(target.key.key, target.key.sign)
        if target.address is not None and getattr(target.adapter, "RESOLVES_ADDRESS", False):
            import asyncio

            return await asyncio.to_thread(build, target, token, driver_kwargs)
        return build(target, token, driver_kwargs)

    @overload
    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["asyncpg"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> asyncpg.Connection: ...
    @overload
    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["psycopg"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> psycopg.AsyncConnection[TupleRow]: ...
    @overload
    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["aiomysql"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> aiomysql.Connection: ...
    @overload
    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["asyncmy"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> asyncmy.Connection: ...
    @overload
    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Any: ...

    async def connect_async(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        address: str | None = None,
        **driver_kwargs: Any,
    ) -> Any:
        """Open a connection with an asyncio driver (``"asyncpg"``, ``"psycopg"`` for
        ``psycopg.AsyncConnection``, ``"aiomysql"``, ``"asyncmy"``) without blocking the loop.

        As :meth:`connect`: a refused token is dropped and the login retried once. Timeouts
        are the driver's (``timeout=``, ``connect_timeout=``). Cancelling the call cancels this
        login only, never a signing that other callers wait for.
        """
        target = await self._target(host, user, driver, (port, region, address), driver_kwargs)
        return await login_async(self._cache, target, driver_kwargs, self._count_retry)

    @overload
    def async_creator(
        self, host: str, user: str, *, driver: Literal["asyncpg"], **options: Any
    ) -> Callable[[], Awaitable[asyncpg.Connection]]: ...
    @overload
    def async_creator(
        self, host: str, user: str, *, driver: Literal["psycopg"], **options: Any
    ) -> Callable[[], Awaitable[psycopg.AsyncConnection[TupleRow]]]: ...
    @overload
    def async_creator(
        self, host: str, user: str, *, driver: Literal["aiomysql"], **options: Any
    ) -> Callable[[], Awaitable[aiomysql.Connection]]: ...
    @overload
    def async_creator(
        self, host: str, user: str, *, driver: Literal["asyncmy"], **options: Any
    ) -> Callable[[], Awaitable[asyncmy.Connection]]: ...
    @overload
    def async_creator(
        self, host: str, user: str, *, driver: str, **options: Any
    ) -> Callable[[], Awaitable[Any]]: ...

    def async_creator(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        address: str | None = None,
        **driver_kwargs: Any,
    ) -> Callable[[], Awaitable[Any]]:
        """Return a zero-argument coroutine function that opens a connection: for async pools,
        e.g. ``create_async_engine("postgresql+asyncpg://", async_creator=c.async_creator(...))``.

        Everything is checked now, once (arguments, driver keywords, that the driver is
        installed and asynchronous: call it at start-up, it may read the CA file); each call
        then reuses the cached token until it is due for refresh.
        """
        where = (port, region, address)
        target = self._first_target(host, user, driver, where, driver_kwargs)
        target.adapter.load()
        if not target.adapter.ASYNC:
            raise ConfigurationError(
                f"driver={driver!r} has no asyncio API: use creator() for a blocking pool, or "
                "an async driver: asyncpg, psycopg, aiomysql, asyncmy"
            )
        kwargs = dict(driver_kwargs)

        async def create() -> Any:
            self._targets.check_open()
            return await login_async(self._cache, target, kwargs, self._count_retry)

        return create
