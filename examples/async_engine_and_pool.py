"""Async code: a SQLAlchemy asyncio engine and an asyncpg pool, both logging in with IAM.

Signing and credential refresh run in a worker thread, so they never stall the event loop;
the engine and the pool share one Connector, so they share one cached token.

    RDS_HOST=... RDS_USER=jane_doe RDS_DB=app python examples/async_engine_and_pool.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import rds_iam_auth

HOST = os.environ.get(
    "RDS_HOST", "postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
REGION = os.environ.get("RDS_REGION")
CA = os.environ.get("RDS_CA")


async def main() -> None:
    connector = rds_iam_auth.Connector(ca=CA)
    where: dict[str, Any] = {"driver": "asyncpg", "port": PORT, "region": REGION}

    engine = create_async_engine(
        "postgresql+asyncpg://",
        async_creator=connector.async_creator(HOST, USER, database=DBNAME, **where),
        pool_size=5,
        pool_recycle=600,
    )
    async with engine.connect() as conn:
        print("engine:", (await conn.execute(text("SELECT current_user"))).scalar_one())
    await engine.dispose()

    # asyncpg calls connect(*args, loop=..., connection_class=..., record_class=..., **kwargs).
    async def connect(*_args: Any, loop: Any = None, **pool_kwargs: Any) -> Any:
        return await connector.connect_async(HOST, USER, database=DBNAME, **where, **pool_kwargs)

    async with asyncpg.create_pool(connect=connect, min_size=1, max_size=4) as pool:
        print("pool:", await pool.fetchval("SELECT current_user"))
    print(connector.stats)


if __name__ == "__main__":
    asyncio.run(main())
