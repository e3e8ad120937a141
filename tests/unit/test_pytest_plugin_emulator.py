"""The plugin's opt-in emulator fixtures, in a user's project run with ``--rds-iam-emulator``.

The inner pytest run starts its own emulator (real PostgreSQL and MariaDB) in a subprocess,
so it needs what the integration tests need; like them it is skipped where the emulator
cannot run, except under ``CI`` / ``RDS_IAM_AUTH_REQUIRE_EMULATOR=1``, where that fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.emulator import unavailable_reason

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
USER_TESTS = """
def test_three_token_lifetimes(
    rds_iam_emulator, rds_iam_emulator_connector, rds_iam_emulator_clock
):
    pg = rds_iam_emulator.pg
    for _ in range(3):
        conn = rds_iam_emulator_connector.connect(
            pg.host, pg.user, driver="psycopg", port=pg.port, dbname=pg.database
        )
        assert conn.execute("SELECT current_user").fetchone()[0] == pg.user
        conn.close()
        rds_iam_emulator_clock.advance(900)  # the next login needs a new token
    assert rds_iam_emulator_connector.stats.signings == 3
    verdicts = rds_iam_emulator.verifier_log("postgres")
    assert [v.split()[0] for v in verdicts] == ["ACCEPTED"] * 3


def test_the_clock_was_put_back(rds_iam_emulator):  # runs after the test above
    assert float(rds_iam_emulator.clock_offset_file.read_text()) == 0.0
"""


def _required() -> bool:
    return (
        os.environ.get("CI", "").lower() in ("1", "true", "yes")
        or os.environ.get("RDS_IAM_AUTH_REQUIRE_EMULATOR") == "1"
    )


def test_emulator_fixtures_sign_in_across_token_lifetimes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = unavailable_reason()
    if reason is not None:
        if _required():
            pytest.fail(f"the local RDS IAM emulator is required here but unavailable: {reason}")
        pytest.skip(f"local RDS IAM emulator unavailable: {reason}")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # where tests.emulator lives
    pytester.makeconftest('pytest_plugins = ["rds_iam_auth.pytest_plugin"]\n')
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-W", "error", "--rds-iam-emulator")
    result.assert_outcomes(passed=2)
