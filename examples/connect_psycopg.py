"""The AWS guide's psycopg recipe, done right: cached token, verified TLS, no boto3 client.

Run against your database (or the local emulator, see README):
    RDS_HOST=mydb.abc123.us-east-1.rds.amazonaws.com RDS_USER=jane_doe RDS_DB=app \
        python examples/connect_psycopg.py
"""

from __future__ import annotations

import os

import rds_iam_auth

HOST = os.environ.get(
    "RDS_HOST", "postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
# Only needed for hosts that do not name their region (IPs, custom DNS names).
REGION = os.environ.get("RDS_REGION")
# Default: the RDS global CA bundle shipped in the wheel; or a path / RDS_IAM_AUTH_CA_BUNDLE.
CA = os.environ.get("RDS_CA")


def main() -> None:
    with rds_iam_auth.Connector(ca=CA) as connector:
        conn = connector.connect(
            HOST, USER, driver="psycopg", port=PORT, region=REGION, dbname=DBNAME
        )
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_user, now()")
            print(cur.fetchone())


if __name__ == "__main__":
    main()
