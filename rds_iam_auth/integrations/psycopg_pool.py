"""psycopg_pool 3.3+: pools whose new connections log in with a current IAM token.

A pool keeps its ``kwargs`` for its whole life, so a dict built once holds one token and new
connections fail fifteen minutes later. psycopg_pool 3.3 also takes a callable, called for
every connection attempt; these functions build one that asks the
:class:`~rds_iam_auth.Connector` (cached token, TLS settings, keyword policy)::

    from psycopg_pool import AsyncConnectionPool, ConnectionPool
    from rds_iam_auth.integrations.psycopg_pool import async_pool_kwargs, pool_kwargs

    pool = ConnectionPool(kwargs=pool_kwargs(connector, host, "jane", dbname="app"), open=True)

    pool = AsyncConnectionPool(
        kwargs=async_pool_kwargs(connector, host, "jane", dbname="app"), open=False
    )
    await pool.open()

``AsyncConnectionPool`` awaits an async callable but calls a sync one on the event loop, where
a signing would block it: hence :func:`async_pool_kwargs`, which signs in a worker thread and
serves cache hits on the loop. (``AsyncConnectionPool`` opened in its constructor warns;
``open=False`` plus ``await pool.open()`` or ``async with`` does not.)

The pool connects with psycopg itself, so a token the server refuses is not retried at once
as ``Connector.connect()`` does: the pool retries the attempt with backoff, and the Connector
signs a new token when the cached one is due for refresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..drivers import import_driver, require_version

if TYPE_CHECKING:
    from ..connector import Connector

__all__ = ["async_pool_kwargs", "pool_kwargs"]

MIN_VERSION = (3, 3)  # the first psycopg_pool that takes a callable kwargs


def pool_kwargs(
    connector: Connector,
    host: str,
    user: str,
    *,
    port: int | None = None,
    region: str | None = None,
    address: str | None = None,
    **driver_kwargs: Any,
) -> Callable[[], dict[str, Any]]:
    """Return the ``kwargs`` callable for a ``psycopg_pool.ConnectionPool``.

    Arguments as for :meth:`~rds_iam_auth.Connector.connect_kwargs` with ``driver="psycopg"``.
    Everything is checked now (arguments, psycopg keywords, psycopg and psycopg_pool >= 3.3
    installed), not at the pool's first connection.

    Raises:
        ConfigurationError: A bad argument or a keyword the connector refuses.
        DriverNotInstalledError: psycopg or psycopg_pool >= 3.3 is missing.
    """
    where: dict[str, Any] = {"port": port, "region": region, "address": address}
    _checked(connector, host, user, where, driver_kwargs)

    def kwargs() -> dict[str, Any]:
        return connector.connect_kwargs(host, user, driver="psycopg", **where, **driver_kwargs)

    return kwargs


def async_pool_kwargs(
    connector: Connector,
    host: str,
    user: str,
    *,
    port: int | None = None,
    region: str | None = None,
    address: str | None = None,
    **driver_kwargs: Any,
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """Return the async ``kwargs`` callable for a ``psycopg_pool.AsyncConnectionPool``.

    As :func:`pool_kwargs`; each call awaits
    :meth:`~rds_iam_auth.Connector.connect_kwargs_async`, so the event loop never waits for a
    signing.
    """
    where: dict[str, Any] = {"port": port, "region": region, "address": address}
    _checked(connector, host, user, where, driver_kwargs)

    async def kwargs() -> dict[str, Any]:
        return await connector.connect_kwargs_async(
            host, user, driver="psycopg", **where, **driver_kwargs
        )

    return kwargs


def _checked(
    connector: Connector, host: str, user: str, where: dict[str, Any], driver_kwargs: Any
) -> None:
    pool = import_driver("psycopg_pool", "psycopg", "psycopg-pool", "psycopg_pool")
    found = tuple(int(p) if p.isdigit() else p for p in pool.__version__.split(".")[:3])
    require_version(
        found,
        MIN_VERSION,
        driver="psycopg",
        what="psycopg_pool",
        extra="psycopg-pool",
        why="older pools take kwargs only as a dict, which would keep one token for good",
    )
    # The creator is built for its checks (keywords, driver installed) and dropped.
    connector.creator(host, user, driver="psycopg", **where, **driver_kwargs)
