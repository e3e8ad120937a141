"""The asyncio drivers, for the integration tests: which server, database keyword, how a
refused login looks, and how to ask the server who we are and whether the session is TLS."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tests.emulator import Emulator, ServerInfo

from .drivers import _errno_1045, _errors, _pam


@dataclass(frozen=True)
class AsyncProfile:
    """How one asyncio driver behaves, for the tests (measured on the emulator)."""

    driver: str
    engine: str  # "postgres" or "mariadb"
    db_key: str
    refused_type: str
    refused: Any  # (exception) -> bool

    def refused_class(self) -> type[BaseException]:
        """The driver's class for a refused login."""
        return _errors(self.refused_type)()[0]

    def server(self, emulator: Emulator) -> ServerInfo:
        """The emulator server this driver talks to."""
        return emulator.pg if self.engine == "postgres" else emulator.mysql


ASYNC_PROFILES: dict[str, AsyncProfile] = {
    p.driver: p
    for p in (
        AsyncProfile(
            "asyncpg",
            "postgres",
            "database",
            "asyncpg.exceptions.InvalidAuthorizationSpecificationError",
            _pam,
        ),
        AsyncProfile("psycopg", "postgres", "dbname", "psycopg.OperationalError", _pam),
        AsyncProfile("aiomysql", "mariadb", "db", "pymysql.err.OperationalError", _errno_1045),
        AsyncProfile(
            "asyncmy", "mariadb", "database", "asyncmy.errors.OperationalError", _errno_1045
        ),
    )
}

_PG_WHOAMI = "select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()"
_MYSQL_WHOAMI = (
    "select current_user(), variable_value from information_schema.session_status "
    "where variable_name = 'Ssl_version'"
)


async def whoami(conn: Any, driver: str) -> tuple[str, bool]:
    """(database user, whether the server sees this session over TLS)."""
    if driver == "asyncpg":
        row = await conn.fetchrow(_PG_WHOAMI)
        return row[0], bool(row[1])
    if driver == "psycopg":
        cur = await conn.execute(_PG_WHOAMI)
        user, tls = await cur.fetchone()
        return user, bool(tls)
    async with conn.cursor() as cur:
        await cur.execute(_MYSQL_WHOAMI)
        user, version = await cur.fetchone()
    return user.split("@")[0], bool(version)


async def close(conn: Any, driver: str) -> None:
    """Close a connection of any of the four drivers, awaiting the socket's close (aiomysql's
    and asyncmy's ``close()`` only schedules it, and ``asyncio.run`` may end first)."""
    if driver in ("asyncpg", "psycopg"):
        await conn.close()
        return
    # ensure_closed() sends COM_QUIT, then close()s the TLS transport: a graceful shutdown that
    # waits for the server's close_notify, which asyncio.run() may not wait for (the socket is
    # then reported unclosed). Abort the transport after it, as a long-running loop would.
    transport = conn._writer.transport if driver == "aiomysql" else conn._transport
    await conn.ensure_closed()
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)
