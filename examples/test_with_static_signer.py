"""Unit-testing code that connects through rds_iam_auth, with no AWS configuration at all.

A Connector built with ``signer=StaticSigner(...)`` resolves no AWS credentials; a FakeClock
drives token expiry without sleeping. Run: ``pytest examples/test_with_static_signer.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone

import rds_iam_auth
from rds_iam_auth.testing import FakeClock, StaticSigner


def make_connector(signer: StaticSigner, clock: FakeClock) -> rds_iam_auth.Connector:
    # In application code this is rds_iam_auth.Connector(); tests inject signer and clock.
    return rds_iam_auth.Connector(signer=signer, clock=clock, ca="certifi")


def test_token_is_reused_then_refreshed() -> None:
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    signer = StaticSigner(["first", "second"])
    connector = make_connector(signer, clock)
    host = "mydb.abc123.us-east-1.rds.amazonaws.com"

    assert connector.token(host, 5432, "app").value == "first"
    clock.advance(60)
    assert connector.token(host, 5432, "app").value == "first"  # cached
    clock.advance(600)  # inside the refresh window (300 s before the 900 s expiry)
    assert connector.token(host, 5432, "app").value == "second"
    assert len(signer.calls) == 2


def test_connect_kwargs_carry_the_token_and_verified_tls() -> None:
    connector = make_connector(StaticSigner("tok"), FakeClock(datetime.now(timezone.utc)))
    kwargs = connector.connect_kwargs(
        "mydb.abc123.us-east-1.rds.amazonaws.com", "app", driver="psycopg", dbname="app"
    )
    assert kwargs["password"] == "tok"
    assert kwargs["sslmode"] == "verify-full"
