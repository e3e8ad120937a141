"""Checked by ``nox -s typecheck`` (mypy --strict), not run by pytest: ``driver=`` picks the
connection type that ``connect_async``, ``async_creator`` and ``rds_iam_auth.connect_async``
give back. asyncpg 0.32 and aiomysql 0.3 ship no type information (no ``py.typed``), so their
connections are ``Any`` to mypy (as pg8000's are in driver_types.py); should they start
shipping types, the ``Any`` assertions here fail and should name the driver's class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncmy
import psycopg
from psycopg.rows import TupleRow
from typing_extensions import assert_type

import rds_iam_auth

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


async def check(c: rds_iam_auth.Connector, name: str) -> None:
    assert_type(await c.connect_async(HOST, "u", driver="asyncpg"), Any)
    assert_type(
        await c.connect_async(HOST, "u", driver="psycopg", dbname="app"),
        psycopg.AsyncConnection[TupleRow],
    )
    assert_type(await c.connect_async(HOST, "u", driver="aiomysql"), Any)
    assert_type(
        await c.connect_async(HOST, "u", driver="asyncmy", address="127.0.0.1:3306"),
        asyncmy.Connection,
    )
    assert_type(await c.connect_async(HOST, "u", driver=name), Any)
    assert_type(
        c.async_creator(HOST, "u", driver="asyncpg", database="app"),
        Callable[[], Awaitable[Any]],
    )
    assert_type(
        c.async_creator(HOST, "u", driver="psycopg"),
        Callable[[], Awaitable[psycopg.AsyncConnection[TupleRow]]],
    )
    assert_type(
        c.async_creator(HOST, "u", driver="aiomysql", port=3307),
        Callable[[], Awaitable[Any]],
    )
    assert_type(
        c.async_creator(HOST, "u", driver="asyncmy"), Callable[[], Awaitable[asyncmy.Connection]]
    )
    assert_type(c.async_creator(HOST, "u", driver=name), Callable[[], Awaitable[Any]])
    assert_type(await c.connect_kwargs_async(HOST, "u", driver="asyncpg"), dict[str, Any])
    assert_type(await c.token_async(HOST, 5432, "u"), rds_iam_auth.Token)
    assert_type(
        await rds_iam_auth.connect_async(HOST, "u", driver="asyncpg", region="us-east-1"),
        Any,
    )
    assert_type(
        await rds_iam_auth.connect_async(HOST, "u", driver="psycopg"),
        psycopg.AsyncConnection[TupleRow],
    )
    assert_type(await rds_iam_auth.connect_async(HOST, "u", driver="aiomysql"), Any)
    assert_type(await rds_iam_auth.connect_async(HOST, "u", driver="asyncmy"), asyncmy.Connection)
    assert_type(await rds_iam_auth.connect_async(HOST, "u", driver=name), Any)


async def pooled(c: rds_iam_auth.Connector) -> None:
    # async_creator is a zero-argument coroutine function: what SQLAlchemy's async_creator=
    # and asyncpg.create_pool(connect=...) call.
    make = c.async_creator(HOST, "u", driver="asyncmy")
    conn = await make()
    assert_type(conn, asyncmy.Connection)
    await conn.ensure_closed()
