"""psycopg_pool ConnectionPool and AsyncConnectionPool across three token lifetimes, against the
emulator: every connection the pool opens (refilled after drain(), replacing a dropped one)
logs in with a token the server accepts, and the Connector signs once per lifetime."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from rds_iam_auth import Connector
from rds_iam_auth.integrations.psycopg_pool import async_pool_kwargs, pool_kwargs
from tests.emulator import Emulator

from .token_lifetimes import Lifetimes, Logins, lifetimes

pytestmark = pytest.mark.integration

STEPS = 4  # the first lifetime and three more
SIZE = 2
NEW_PER_STEP = SIZE + 1  # a full refill, then the replacement of the dropped one
_KILL = "SELECT pg_terminate_backend(%s, 10000)"  # waits until the backend is gone


def _kwargs(connector: Connector, emulator: Emulator, make: Any) -> Any:
    info = emulator.pg
    return make(connector, info.host, info.user, port=info.port, dbname=info.database)


def _check_step(pool: Any, before: int, logins: Logins) -> int:
    stats = pool.get_stats()
    assert stats.get("connections_errors", 0) == 0
    made = stats["connections_num"]
    assert made - before == NEW_PER_STEP
    assert logins.accepted() == NEW_PER_STEP  # each new connection logged in, none refused
    return int(made)


def _check_signings(connector: Connector, lt: Lifetimes) -> None:
    stats = connector.stats
    # Concurrent refills share one signing (single flight): one per lifetime, nothing extra.
    assert stats.signings == 1 + lt.crossed
    assert stats.retries == 0


def test_connection_pool_across_lifetimes(emulator: Emulator) -> None:
    with lifetimes(emulator) as lt, warnings.catch_warnings():
        warnings.simplefilter("error")  # the pool set-up as documented warns about nothing
        connector = lt.connector(emulator.pg)
        kwargs = _kwargs(connector, emulator, pool_kwargs)
        with ConnectionPool(kwargs=kwargs, min_size=SIZE, max_size=SIZE, open=False) as pool:
            made = 0
            for step in range(STEPS):
                logins = Logins(emulator, "postgres")
                if step:
                    lt.cross()
                    pool.drain()  # what max_lifetime does, on real time: all new connections
                pool.wait()
                with pool.connection() as a, pool.connection() as b:
                    b.execute(_KILL, (a.info.backend_pid,))
                pool.check()  # the dropped one is discarded and replaced
                pool.wait()
                with pool.connection() as c:
                    assert c.execute("SELECT current_user").fetchone() == (emulator.pg.user,)
                made = _check_step(pool, made, logins)
    _check_signings(connector, lt)


def test_async_connection_pool_across_lifetimes(emulator: Emulator) -> None:
    async def main(lt: Lifetimes, connector: Connector) -> None:
        kwargs = _kwargs(connector, emulator, async_pool_kwargs)
        pool = AsyncConnectionPool(kwargs=kwargs, min_size=SIZE, max_size=SIZE, open=False)
        async with pool:
            made = 0
            for step in range(STEPS):
                logins = Logins(emulator, "postgres")
                if step:
                    lt.cross()
                    await pool.drain()
                await pool.wait()
                async with pool.connection() as a, pool.connection() as b:
                    await b.execute(_KILL, (a.info.backend_pid,))
                await pool.check()
                await pool.wait()
                async with pool.connection() as c:
                    cur = await c.execute("SELECT current_user")
                    assert await cur.fetchone() == (emulator.pg.user,)
                made = _check_step(pool, made, logins)

    with lifetimes(emulator) as lt, warnings.catch_warnings():
        warnings.simplefilter("error")
        connector = lt.connector(emulator.pg)
        asyncio.run(main(lt, connector))
    _check_signings(connector, lt)
