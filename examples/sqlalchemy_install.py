"""SQLAlchemy engines, sync and async, whose new connections always log in with a current token.

install() hooks the engine's connect step: SQLAlchemy still parses the URL and connect_args,
the Connector adds a token (cached until shortly before it expires) and verified TLS. The URL
names the endpoint and the user, never a password.

    RDS_HOST=mydb.abc123.us-east-1.rds.amazonaws.com RDS_USER=jane_doe RDS_DB=app \
        python examples/sqlalchemy_install.py
"""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import rds_iam_auth
from rds_iam_auth.integrations.sqlalchemy import install

HOST = os.environ.get("RDS_HOST", "mydb.abc123.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
REGION = os.environ.get("RDS_REGION")  # only for hosts without one (IP, CNAME)
CA = os.environ.get("RDS_CA")  # default: the RDS bundle shipped in the package


def url(dialect: str) -> sa.URL:
    # URL.create escapes the user name; a string URL works as well.
    return sa.URL.create(dialect, username=USER, host=HOST, port=PORT, database=DBNAME)


async def run_async(connector: rds_iam_auth.Connector) -> None:
    engine = create_async_engine(url("postgresql+asyncpg"))
    install(engine, connector)  # the token is fetched without blocking the event loop
    async with engine.connect() as conn:
        print("asyncpg ", (await conn.execute(sa.text("SELECT current_user"))).scalar_one())
    await engine.dispose()


def main() -> None:
    connector = rds_iam_auth.Connector(region=REGION, ca=CA)  # one token cache for both
    engine = sa.create_engine(url("postgresql+psycopg"), pool_size=5, pool_pre_ping=True)
    install(engine, connector)
    with engine.connect() as conn:
        print("psycopg ", conn.execute(sa.text("SELECT current_user")).scalar_one())
    engine.dispose()
    asyncio.run(run_async(connector))
    print(connector.stats)  # one signing for both engines


if __name__ == "__main__":
    main()
