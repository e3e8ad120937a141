"""psycopg_pool pools, sync and async, whose new connections always log in with a current token.

psycopg_pool 3.3+ calls a ``kwargs`` callable for every new connection; an
``AsyncConnectionPool`` awaits an async one (a sync callable would sign on the event loop).
``open=`` is explicit: psycopg_pool warns when a pool opens implicitly.

    RDS_HOST=mydb.abc123.us-east-1.rds.amazonaws.com RDS_USER=jane_doe RDS_DB=app \
        python -W error examples/psycopg_pool_kwargs.py
"""

from __future__ import annotations

import asyncio
import os

from psycopg_pool import AsyncConnectionPool, ConnectionPool

import rds_iam_auth
from rds_iam_auth.integrations.psycopg_pool import async_pool_kwargs, pool_kwargs

HOST = os.environ.get("RDS_HOST", "mydb.abc123.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
REGION = os.environ.get("RDS_REGION")  # only for hosts without one (IP, CNAME)
CA = os.environ.get("RDS_CA")  # default: the RDS bundle shipped in the package


async def run_async(connector: rds_iam_auth.Connector) -> None:
    pool = AsyncConnectionPool(
        kwargs=async_pool_kwargs(connector, HOST, USER, port=PORT, dbname=DBNAME),
        min_size=2,
        open=False,
    )
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT current_user")
            print("async", (await cur.fetchone())[0])  # type: ignore[index]
    finally:
        await pool.close()


def main() -> None:
    connector = rds_iam_auth.Connector(region=REGION, ca=CA)
    pool = ConnectionPool(
        kwargs=pool_kwargs(connector, HOST, USER, port=PORT, dbname=DBNAME),
        min_size=2,
        open=True,
    )
    try:
        with pool.connection() as conn:
            print("sync ", conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
    finally:
        pool.close()
    asyncio.run(run_async(connector))
    print(connector.stats)  # 4 connections, 1 signing


if __name__ == "__main__":
    main()
