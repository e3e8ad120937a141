"""Your own tests with rds_iam_auth's pytest plugin: ``pytest examples/test_with_pytest_plugin.py``.

In a project, put the ``pytest_plugins`` line in the top-level ``conftest.py``.
"""

from __future__ import annotations

from rds_iam_auth import Connector
from rds_iam_auth.testing import FakeClock, StaticSigner

pytest_plugins = ["rds_iam_auth.pytest_plugin"]

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def test_token_is_cached_until_the_refresh_window(
    rds_iam_connector: Connector, rds_iam_clock: FakeClock, rds_iam_signer: StaticSigner
) -> None:
    first = rds_iam_connector.token(HOST, 5432, "app")
    rds_iam_clock.advance(60)
    assert rds_iam_connector.token(HOST, 5432, "app") is first  # cached
    rds_iam_clock.advance(540)  # 300 s before the 900 s expiry: refreshed
    rds_iam_connector.token(HOST, 5432, "app")
    assert len(rds_iam_signer.calls) == 2
