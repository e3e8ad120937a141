"""Aurora DSQL through a SQLAlchemy pool, connections recycled before DSQL's one-hour limit.

DSQL closes every connection one hour after it opened, whatever the token's lifetime. So the
pool retires connections after ``pool_recycle`` seconds (here 50 minutes), and each replacement
logs in through ``creator``: the Connector hands it the cached token (``admin`` signs
``DbConnectAdmin``, any other role ``DbConnect``) or signs a new one shortly before it expires.
TLS is verify-full against certifi's Amazon roots, the CA DSQL's certificates chain to.

    DSQL_HOST=<cluster-id>.dsql.us-east-1.on.aws DSQL_USER=admin python examples/dsql_sqlalchemy.py

``DSQL_ADDRESS=127.0.0.1:15432`` dials a tunnel or port-forward instead (the token is still
signed for, and TLS still verifies, ``DSQL_HOST``); ``DSQL_CA`` replaces the CA file.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

import rds_iam_auth

HOST = os.environ.get("DSQL_HOST", "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws")
USER = os.environ.get("DSQL_USER", "admin")
ADDRESS = os.environ.get("DSQL_ADDRESS")
CA = os.environ.get("DSQL_CA")
RECYCLE_S = 50 * 60  # before the server's 60-minute connection limit


def main() -> None:
    connector = rds_iam_auth.Connector(ca=CA)
    engine = sa.create_engine(
        "postgresql+psycopg://",
        creator=connector.creator(HOST, USER, driver="psycopg", address=ADDRESS, dbname="postgres"),
        pool_size=5,
        pool_recycle=RECYCLE_S,
        pool_pre_ping=True,
    )
    with engine.connect() as conn:
        print(conn.execute(sa.text("SELECT current_user")).scalar_one())
    engine.dispose()
    print(connector.stats)


if __name__ == "__main__":
    main()
