"""A SQLAlchemy pool whose new connections always log in with a valid token.

The pool calls the creator for every new connection; the Connector reuses one token until
shortly before it expires, so pooled connections never log in with an expired token and the
database's IAM login throttle is not hit.

    RDS_HOST=... RDS_USER=jane_doe RDS_DB=app python examples/sqlalchemy_creator.py
"""

from __future__ import annotations

import os

import sqlalchemy as sa

import rds_iam_auth

HOST = os.environ.get(
    "RDS_HOST", "postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
REGION = os.environ.get("RDS_REGION")
CA = os.environ.get("RDS_CA")


def main() -> None:
    connector = rds_iam_auth.Connector(ca=CA)
    engine = sa.create_engine(
        "postgresql+psycopg://",
        creator=connector.creator(
            HOST, USER, driver="psycopg", port=PORT, region=REGION, dbname=DBNAME
        ),
        pool_size=5,
        pool_pre_ping=True,
    )
    with engine.connect() as conn:
        print(conn.execute(sa.text("SELECT current_user")).scalar_one())
    engine.dispose()
    print(connector.stats)


if __name__ == "__main__":
    main()
