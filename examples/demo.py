"""End to end: IAM database authentication against local servers that verify it like RDS.

Starts the local RDS IAM emulator (real PostgreSQL 15 and MariaDB 10.11 that check SigV4
tokens over TLS, see tests/emulator/), then runs the AWS guide's recipe done right: sign a
token as ``aws rds generate-db-auth-token`` would, and connect with psycopg and PyMySQL over
verified TLS. Run it with ``nox -s demo``.

Where the servers cannot start (not root, packages missing) it shows the offline part (token,
connect keywords) and says what to install; under CI or RDS_IAM_AUTH_REQUIRE_EMULATOR=1 that
is an error.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rds_iam_auth
from tests.emulator import (
    LONG_TERM,
    TEMPORARY,
    Emulator,
    EmulatorUnavailable,
    unavailable_reason,
)


def shown(token: str) -> str:
    """A token with its signature cut, fit for a terminal."""
    head, _, _signature = token.rpartition("&X-Amz-Signature=")
    return f"{head[:110]}...&X-Amz-Signature=<64 hex, {len(token)} chars in all>"


def offline(reason: str) -> int:
    print(f"Local RDS IAM emulator unavailable: {reason}\n")
    print("Offline part: a token and the psycopg connect keywords for an RDS endpoint.")
    host = "mydb.abc123xyz.us-east-1.rds.amazonaws.com"
    now = datetime.now(timezone.utc)
    token = rds_iam_auth.generate_auth_token(
        host, 5432, "jane", credentials=LONG_TERM.botocore_credentials(), now=now
    )
    print(f"  token   {shown(token)}")
    connector = rds_iam_auth.Connector(credentials=LONG_TERM.botocore_credentials(), ca="certifi")
    kwargs = connector.connect_kwargs(host, "jane", driver="psycopg", dbname="appdb")
    kwargs["password"] = "<token>"
    # certifi stands in for the RDS CA bundle here, which the default would download.
    kwargs["sslrootcert"] = "<RDS global-bundle.pem shipped in the wheel>"
    print(f"  psycopg.connect(**{kwargs})")
    required = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
        os.environ.get("RDS_IAM_AUTH_REQUIRE_EMULATOR") == "1"
    )
    return 1 if required else 0


def describe(conn: Any, engine: str) -> str:
    cur = conn.cursor()
    if engine == "postgres":
        cur.execute(
            "SELECT current_user, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        user, version, cipher = cur.fetchone()
    else:
        cur.execute("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)")
        (user,) = cur.fetchone()
        cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
        status = dict(cur.fetchall())
        version, cipher = status["Ssl_version"], status["Ssl_cipher"]
    return f"current_user={user}  tls={version} {cipher}"


def main() -> int:
    reason = unavailable_reason()
    if reason is not None:
        return offline(reason)
    started = time.monotonic()
    try:
        emu = Emulator().start()
    except EmulatorUnavailable as exc:
        return offline(str(exc))
    with emu:
        pg, my = emu.pg, emu.mysql
        print(
            f"Emulator up in {time.monotonic() - started:.1f} s: PostgreSQL 127.0.0.1:{pg.port}, "
            f"MariaDB 127.0.0.1:{my.port} (TLS only, CA {pg.ca_path})\n"
        )

        # 1. What `aws rds generate-db-auth-token --hostname ... --port ... --username ...` prints.
        token = rds_iam_auth.generate_auth_token(
            pg.host,
            pg.port,
            pg.user,
            region=pg.region,
            credentials=LONG_TERM.botocore_credentials(),
        )
        print(f"token      {shown(token)}\n")

        # 2. The recipe done right: a Connector signs, caches, verifies TLS, retries once.
        for label, key in (("long-term key", LONG_TERM), ("session token", TEMPORARY)):
            with rds_iam_auth.Connector(
                credentials=key.botocore_credentials(), region=pg.region, ca=pg.ca_path
            ) as connector:
                lines = []
                for engine, info, driver, db in (
                    ("postgres", pg, "psycopg", {"dbname": pg.database}),
                    ("mariadb", my, "pymysql", {"database": my.database}),
                ):
                    t0 = time.monotonic()
                    create = connector.creator(
                        info.host, info.user, driver=driver, port=info.port, **db
                    )
                    for _ in range(3):
                        conn = create()
                        about = describe(conn, engine)
                        conn.close()
                    ms = (time.monotonic() - t0) * 1000 / 3
                    lines.append((f"{driver:8} {label:13} {about}", info, ms))
                stats = connector.stats
                for text, info, ms in lines:
                    expires = connector.token(info.host, info.port, info.user).expires_at
                    print(f"{text}  expires={expires:%H:%M:%S}Z  {ms:.0f} ms/login")
                print(
                    f"         6 logins, {stats.signings} signings, {stats.cache_hits} cache hits, "
                    f"{stats.retries} retries\n"
                )
    print(f"Servers stopped. Done in {time.monotonic() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
