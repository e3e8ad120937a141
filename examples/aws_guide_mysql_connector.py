"""The AWS guide's Aurora MySQL program ("Connecting to your DB cluster using IAM authentication
and the AWS SDK for Python (Boto3)"), rewritten with rds_iam_auth and mysql.connector.

What changed, and why:

- No ``os.environ['LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN'] = '1'``: the connector passes
  ``auth_plugin="mysql_clear_password"`` itself, so nothing process-wide is switched on.
- Verified TLS. The guide passes no ``ssl_*`` argument at all, so its token (a bearer credential
  sent as a cleartext password) goes to whatever answers at ENDPOINT. Here the server must show a
  certificate from the RDS CA bundle for ENDPOINT's own name before the token is sent.
- No boto3 client: the token is signed locally and reused until shortly before it expires. The
  guide's unused ``boto3.Session(profile_name='default')`` becomes an optional ``profile=``.
- ``PORT`` is a number, and ``DBNAME`` a database name (the guide's "aurora" is an engine name).
- A refused login raises mysql.connector's own error, with notes saying what was signed and the
  likely causes; it is printed and the script exits 1 (the guide printed and carried on).

Run against your cluster (or the local emulator, see README):
    RDS_HOST=mysqlcluster.cluster-123456789012.us-east-1.rds.amazonaws.com RDS_USER=jane_doe \
        RDS_DB=mydb python examples/aws_guide_mysql_connector.py
"""

from __future__ import annotations

import os
import sys

import mysql.connector

import rds_iam_auth

ENDPOINT = os.environ.get(
    "RDS_HOST", "mysqlcluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("RDS_PORT", "3306"))
USR = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB") or None
# Only needed for hosts that do not name their region (IPs, custom DNS names).
REGION = os.environ.get("RDS_REGION")
PROFILE = os.environ.get("RDS_PROFILE")  # None: the default credential chain
# Default: the RDS global CA bundle (see README); or a path / RDS_IAM_AUTH_CA_BUNDLE.
CA = os.environ.get("RDS_CA")


def main() -> int:
    with rds_iam_auth.Connector(profile=PROFILE, ca=CA) as connector:
        try:
            conn = connector.connect(
                ENDPOINT, USR, driver="mysql.connector", port=PORT, region=REGION, database=DBNAME
            )
        except mysql.connector.Error as e:
            print(f"Database connection failed due to {e}", file=sys.stderr)
            for note in getattr(e, "__notes__", ()):
                print(note, file=sys.stderr)
            return 1
        try:
            cur = conn.cursor()
            cur.execute("SELECT CURRENT_USER(), NOW()")
            query_results = cur.fetchall()
            print(query_results)
        finally:
            conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
