"""Aurora DSQL through psycopg_pool, connections replaced before DSQL's one-hour limit.

DSQL closes every connection one hour after it opened, so ``max_lifetime`` (here 50 minutes)
retires them first. ``kwargs`` is a callable (psycopg_pool >= 3.3 calls it for every new
connection): each one gets the Connector's cached token, or a fresh one shortly before it
expires, with verify-full TLS against certifi's Amazon roots.

    DSQL_HOST=<cluster-id>.dsql.us-east-1.on.aws DSQL_USER=app_role \
        python examples/dsql_psycopg_pool.py

``DSQL_ADDRESS=127.0.0.1:15432`` dials a tunnel or port-forward instead (the token is still
signed for, and TLS still verifies, ``DSQL_HOST``); ``DSQL_CA`` replaces the CA file.
"""

from __future__ import annotations

import os
from typing import Any

from psycopg_pool import ConnectionPool

import rds_iam_auth

HOST = os.environ.get("DSQL_HOST", "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws")
USER = os.environ.get("DSQL_USER", "app_role")
ADDRESS = os.environ.get("DSQL_ADDRESS")
CA = os.environ.get("DSQL_CA")
MAX_LIFETIME_S = 50 * 60  # before the server's 60-minute connection limit


def main() -> None:
    connector = rds_iam_auth.Connector(ca=CA)

    def kwargs() -> dict[str, Any]:
        return connector.connect_kwargs(
            HOST, USER, driver="psycopg", address=ADDRESS, dbname="postgres"
        )

    with (
        ConnectionPool(
            "", kwargs=kwargs, min_size=1, max_size=4, max_lifetime=MAX_LIFETIME_S
        ) as pool,
        pool.connection() as conn,
    ):
        print(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
    print(connector.stats)


if __name__ == "__main__":
    main()
