"""The AWS guide's MySQL recipe, done right with PyMySQL: verified TLS, and no
LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN (PyMySQL answers the server's cleartext request itself,
inside the verified TLS session).

    RDS_HOST=mysqlcluster.cluster-123456789012.us-east-1.rds.amazonaws.com RDS_USER=jane_doe \
        python examples/connect_pymysql.py
"""

from __future__ import annotations

import os

import rds_iam_auth

HOST = os.environ.get("RDS_HOST", "mysqlcluster.cluster-123456789012.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("RDS_PORT", "3306"))
USER = os.environ.get("RDS_USER", "jane_doe")
DATABASE = os.environ.get("RDS_DB") or None
REGION = os.environ.get("RDS_REGION")
CA = os.environ.get("RDS_CA")


def main() -> None:
    with rds_iam_auth.Connector(ca=CA) as connector:
        conn = connector.connect(
            HOST, USER, driver="pymysql", port=PORT, region=REGION, database=DATABASE
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT CURRENT_USER(), NOW()")
                print(cur.fetchone())
        finally:
            conn.close()


if __name__ == "__main__":
    main()
