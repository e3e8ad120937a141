"""The pytest plugin (``rds_iam_auth.pytest_plugin``): its fixtures used the way a user would.

This module loads the plugin itself (``pytest_plugins``, as a user's conftest.py does) and
uses its fixtures directly; the pytester tests run a user's project in a subprocess to check
what only a whole pytest run shows (options, skips, markers, failures).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rds_iam_auth import Connector
from rds_iam_auth.testing import FakeClock, StaticSigner

pytest_plugins = ["pytester", "rds_iam_auth.pytest_plugin"]

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


# --- direct use, as in a user's test suite ------------------------------------------------


def test_connector_fixture_serves_the_static_token_with_verified_tls(
    rds_iam_connector: Connector,
) -> None:
    kwargs = rds_iam_connector.connect_kwargs(HOST, "app", driver="psycopg", dbname="app")
    assert kwargs["password"] == "rds-iam-test-token"
    assert kwargs["sslmode"] == "verify-full"
    assert rds_iam_connector.stats.signings == 1


def test_clock_fixture_drives_the_connectors_cache(
    rds_iam_connector: Connector, rds_iam_clock: FakeClock, rds_iam_signer: StaticSigner
) -> None:
    assert rds_iam_clock.now() == datetime(2024, 1, 1, tzinfo=timezone.utc)
    rds_iam_connector.token(HOST, 5432, "app")
    rds_iam_clock.advance(60)
    rds_iam_connector.token(HOST, 5432, "app")
    assert len(rds_iam_signer.calls) == 1  # cached
    rds_iam_clock.advance(600)  # into the refresh window (300 s before the 900 s expiry)
    rds_iam_connector.token(HOST, 5432, "app")
    assert len(rds_iam_signer.calls) == 2
    assert rds_iam_signer.calls[1][2] == datetime(2024, 1, 1, 0, 11, tzinfo=timezone.utc)


# --- a user's project, run by pytester ------------------------------------------------------

CONFTEST = 'pytest_plugins = ["rds_iam_auth.pytest_plugin"]\n'
USER_TESTS = """
import pytest
from rds_iam_auth.testing import StaticSigner

@pytest.fixture
def rds_iam_signer():
    return StaticSigner(["first", "second"])   # a user's override

def test_override_is_used(rds_iam_connector, rds_iam_clock):
    assert rds_iam_connector.token("db.internal", 5432, "app").value == "first"
    rds_iam_clock.advance(900)
    assert rds_iam_connector.token("db.internal", 5432, "app").value == "second"

def test_uses_the_emulator(rds_iam_emulator_connector, rds_iam_emulator):
    raise AssertionError("must not run without --rds-iam-emulator")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def test_fixtures_work_and_emulator_tests_skip_without_the_option(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("-W", "error", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*uses the local RDS IAM emulator: run with --rds-iam-emulator*"])


def test_emulator_tests_carry_a_marker_for_deselection(project: pytest.Pytester) -> None:
    result = project.runpytest("-W", "error", "-m", "not rds_iam_emulator")
    result.assert_outcomes(passed=1, deselected=1)


def test_the_option_is_registered_with_help(project: pytest.Pytester) -> None:
    result = project.runpytest("--help")
    result.stdout.fnmatch_lines(["*--rds-iam-emulator*", "*rds_iam_emulator_module*"])


def test_opting_in_without_an_emulator_module_is_an_error_naming_the_fix(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "-W", "error", "--rds-iam-emulator", "-o", "rds_iam_emulator_module=no_such_emulator"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*cannot import the RDS IAM emulator from 'no_such_emulator'*"])
    result.stdout.fnmatch_lines(["*copy tests/emulator*rds_iam_emulator_module*"])


def test_the_ini_switch_opts_in_like_the_option(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nrds_iam_emulator = true\nrds_iam_emulator_module = nope\n")
    result = project.runpytest("-W", "error")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*cannot import the RDS IAM emulator from 'nope'*"])


def test_the_plugin_is_not_loaded_without_being_asked_for(pytester: pytest.Pytester) -> None:
    """No pytest11 entry point: installing rds_iam_auth adds nothing to other projects' runs."""
    pytester.makepyfile(test_other="def test_x(rds_iam_connector):\n    pass\n")
    result = pytester.runpytest("-W", "error")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'rds_iam_connector' not found*"])
