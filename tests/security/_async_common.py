"""The decoy suite's async half: drive ``connect_async`` against the (threaded) decoys.

pytest-asyncio is not a dependency: each attempt runs in its own ``asyncio.run()`` inside a
plain test, and the decoys are read only after that loop has finished (their properties wait
for in-flight bytes with blocking joins, which must not run on an event loop).
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import asyncmy.errors
import asyncpg
import pytest

from rds_iam_auth import Connector

from ._common import REFUSALS, USER, assert_no_leak
from .decoys import Decoy

__all__ = [
    "ASYNC_DRIVERS",
    "ASYNC_REFUSALS",
    "MYSQL_DRIVERS",
    "PG_DRIVERS",
    "assert_async_refused",
    "async_connect_to",
    "close",
    "run",
]

ASYNC_DRIVERS = {"asyncpg": "pg", "psycopg": "pg", "aiomysql": "mysql", "asyncmy": "mysql"}
"""``driver=`` → the decoy protocol it speaks."""
PG_DRIVERS = ("asyncpg", "psycopg")
MYSQL_DRIVERS = ("aiomysql", "asyncmy")

ASYNC_REFUSALS: tuple[type[BaseException], ...] = (
    *REFUSALS,  # ours, psycopg's and PyMySQL's (aiomysql raises PyMySQL's errors)
    asyncpg.PostgresError,  # the decoy's FATAL 28P01 (after the token: never in an attack)
    asyncpg.InterfaceError,  # asyncpg's own "cannot connect" family
    asyncmy.errors.Error,  # asyncmy: "Can't connect", 1045
    ssl.SSLError,  # asyncpg: certificate verification failed
    ConnectionError,  # asyncpg: "rejected SSL upgrade"
)
"""Acceptable outcomes of an async attempt aimed at a decoy that is not verified.

``ssl.SSLError`` and ``ConnectionError`` are ``OSError``\\ s, but only these two are accepted:
a ``TimeoutError`` or ``ConnectionRefusedError`` would mean the attempt never reached the decoy.
"""

Attempt = Callable[[], Awaitable[Any]]


def run(coroutine: Awaitable[Any]) -> Any:
    """Run ``coroutine`` on a fresh event loop (one per call, as ``asyncio.run`` makes)."""

    async def main() -> Any:
        return await coroutine

    return asyncio.run(main())


async def close(conn: Any) -> None:
    """Close a connection of any of the four drivers (aiomysql's ``close()`` is not awaitable)."""
    closing = getattr(conn, "ensure_closed", None) or conn.close
    result = closing()
    if inspect.isawaitable(result):
        await result


def async_connect_to(
    connector: Connector, decoy: Decoy, driver: str, **kwargs: Any
) -> Callable[[], Awaitable[Any]]:
    """``connector.connect_async`` aimed at ``decoy`` (as a thunk for
    :func:`assert_async_refused`)."""

    def attempt() -> Awaitable[Any]:
        return connector.connect_async(decoy.host, USER, driver=driver, port=decoy.port, **kwargs)

    return attempt


def assert_async_refused(attempt: Attempt, *decoys: Decoy) -> BaseException:
    """Run ``attempt`` on a new loop; it must raise one of :data:`ASYNC_REFUSALS`, and none of
    ``decoys`` may have received the token or any slice of its signature.

    Returns the exception, for tests that look closer at it.
    """

    async def connect_and_close() -> None:
        await close(await attempt())  # never reached: a decoy refuses every login

    with pytest.raises(ASYNC_REFUSALS) as info:
        run(connect_and_close())
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value
