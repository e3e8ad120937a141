"""The AWS guide's psycopg2 program ("Connecting to a DB cluster", Boto3), rewritten.

What changes against the guide:

- TLS: the guide's ``psycopg2.connect(...)`` uses libpq's default ``sslmode=prefer``, which
  sends the token to any server, in clear if it offers no TLS. Here it is ``verify-full``
  against the RDS global CA bundle, with GSS encryption turned off.
- Credentials: the guide builds ``boto3.Session(profile_name='RDSCreds')`` but then calls
  ``boto3.client('rds')``, which uses the *default* session, so the profile is ignored. Here
  ``profile=`` is applied (``RDS_PROFILE``); without it, the default chain as in boto3.
- No RDS client is created just to sign (it costs ~0.1 s and ~13 MiB); the token is cached
  and reused by later connections until shortly before it expires.
- ``DBNAME`` is the database name (the guide's ``"aurora-postgresql"`` is an engine name).
- ``PORT`` is an int; the region comes from the host name when it is an RDS one.

Run against your cluster (or the local emulator, see README):
    RDS_HOST=postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com \
        RDS_USER=jane_doe RDS_DB=postgres python examples/aws_guide_psycopg2.py
"""

from __future__ import annotations

import os
import sys

import psycopg2

import rds_iam_auth

ENDPOINT = os.environ.get(
    "RDS_HOST", "postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
# Only needed for hosts that do not name their region (IPs, custom DNS names, tunnels).
REGION = os.environ.get("RDS_REGION")
# A named profile from ~/.aws/config (the guide's 'RDSCreds'); None: the default chain.
PROFILE = os.environ.get("RDS_PROFILE")
# None: the RDS global CA bundle shipped with the library; or a path / RDS_IAM_AUTH_CA_BUNDLE.
CA = os.environ.get("RDS_CA")


def main() -> int:
    with rds_iam_auth.Connector(profile=PROFILE, ca=CA) as connector:
        try:
            conn = connector.connect(
                ENDPOINT, USER, driver="psycopg2", port=PORT, region=REGION, database=DBNAME
            )
        except (psycopg2.Error, rds_iam_auth.RdsIamAuthError) as e:
            # Neither message contains the token; a refused login carries notes saying what
            # was signed and the likely causes.
            notes = "".join(f"\n{note}" for note in getattr(e, "__notes__", ()))
            print(f"Database connection failed due to {e}{notes}", file=sys.stderr)
            return 1
        try:
            cur = conn.cursor()
            cur.execute("""SELECT now(), current_user""")
            query_results = cur.fetchall()
            print(query_results)
        finally:
            conn.close()  # psycopg2's `with conn:` ends the transaction but does not close
    return 0


if __name__ == "__main__":
    sys.exit(main())
