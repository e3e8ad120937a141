"""``rds-iam-auth doctor`` against the emulator (real PostgreSQL and MariaDB verifying tokens)
and moto's STS on loopback (``AWS_ENDPOINT_URL_STS``): each cause the emulator can reproduce is
named first. The causes about the key itself: test_cli_doctor_identity.py."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from rds_iam_auth.cli import main
from tests.emulator import LONG_TERM, Emulator
from tests.integration.cli_doctor import causes, doctor, moto_sts, set_keys, use_sts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    with moto_sts() as url:
        yield url


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch, sts_url: str) -> str:
    """moto's STS, answering for any key (no authentication)."""
    use_sts(monkeypatch, sts_url, authenticate=False)
    return sts_url


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_a_working_login_is_all_ticks(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
    engine: str,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    info = emulator.pg if engine == "postgres" else emulator.mysql
    status, report = doctor(capsys, info)
    assert status == 0
    assert report["ok"]
    assert report["causes"] == []
    assert report["login"]["status"] == "ok"
    assert report["clock"]["against"] == "the database"
    assert report["credentials"]["key_id"] == LONG_TERM.access_key
    assert report["identity"]["ok"] is True
    argv = [
        "doctor",
        "--hostname",
        info.host,
        "--port",
        str(info.port),
        "--username",
        info.user,
        "--dbname",
        info.database,
        "--region",
        "us-east-1",
        "--ca",
        info.ca_path,
        "--engine",
        "postgres" if engine == "postgres" else "mysql",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "✘" not in text
    assert "✔ login" in text
    assert "\033[" not in text
    assert LONG_TERM.secret_key not in text


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_wrong_region_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
    engine: str,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    info = emulator.pg if engine == "postgres" else emulator.mysql
    status, report = doctor(capsys, info, region=None)
    assert status == 1
    assert report["login"]["status"] == "refused"
    assert report["target"]["region_source"] == "AWS_DEFAULT_REGION"
    assert causes(report)[0] == "region"


def test_wrong_region_against_a_host_name_that_names_one(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    # The emulator's PostgreSQL also answers as an Aurora DSQL cluster, whose name has a region.
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    dsql = emulator.dsql
    capsys.readouterr()
    status = main(
        [
            "doctor",
            "--hostname",
            dsql.host,
            "--address",
            dsql.address,
            "--username",
            dsql.admin_user,
            "--dbname",
            dsql.database,
            "--ca",
            dsql.ca_path,
            "--region",
            "us-west-2",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["login"]["status"] == "refused"
    assert report["causes"][0]["id"] == "region"
    assert report["causes"][0]["weight"] == 3
    assert "the host name says us-east-1" in report["causes"][0]["evidence"]
    right = [
        "doctor",
        "--hostname",
        dsql.host,
        "--address",
        dsql.address,
        "--username",
        dsql.admin_user,
        "--dbname",
        dsql.database,
        "--ca",
        dsql.ca_path,
    ]
    assert main(right) == 0


def test_token_for_another_host_name(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    pg = emulator.pg
    capsys.readouterr()
    status = main(
        [
            "doctor",
            "--hostname",
            "db.example.test",
            "--address",
            f"127.0.0.1:{pg.port}",
            "--username",
            pg.user,
            "--region",
            "us-east-1",
            "--ca",
            pg.ca_path,
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["login"]["status"] == "skipped"
    first = report["causes"][0]
    assert first["id"] == "host"
    assert (
        first["check"]
        == "sign for the endpoint name and dial yours: --hostname localhost --address "
        f"127.0.0.1:{pg.port}"
    )


def test_a_ca_bundle_that_does_not_verify_the_server(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
    tmp_path: Path,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    status, report = doctor(capsys, emulator.pg, ca=str(other))
    assert status == 1
    assert report["login"]["status"] == "skipped"
    assert report["tls"]["chain_ok"] is False
    assert "trustme" in report["tls"]["issuer"]
    assert causes(report)[0] == "tls-ca"


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_a_user_without_the_grant(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
    engine: str,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    user = f"nogrant_{secrets.token_hex(4)}"
    if engine == "postgres":
        emulator.sql(engine, f"CREATE ROLE {user} LOGIN")  # not GRANTed rds_iam
    else:
        emulator.sql(engine, f"CREATE USER '{user}'@'%' IDENTIFIED BY 'password-user' REQUIRE SSL;")
    info = emulator.pg if engine == "postgres" else emulator.mysql
    try:
        status, report = doctor(capsys, info, "--username", user)
    finally:
        emulator.sql(
            engine, f"DROP ROLE {user}" if engine == "postgres" else f"DROP USER '{user}'@'%';"
        )
    assert status == 1
    assert report["target"]["user"] == user
    assert causes(report)[0] == "grant"
    if engine == "postgres":  # PostgreSQL says it did not try PAM; MySQL's 1045 does not say
        assert report["causes"][0]["weight"] == 3
        assert f'GRANT rds_iam TO "{user}";' in report["causes"][0]["check"]


def test_a_clock_far_ahead(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    set_keys(monkeypatch, LONG_TERM.access_key, LONG_TERM.secret_key)
    status, report = doctor(capsys, emulator.pg, clock=lambda: time.time() + 1000)
    assert status == 1
    assert report["login"]["status"] == "refused"
    assert report["clock"]["against"] == "STS"
    assert report["clock"]["skew_s"] < -900
    assert causes(report)[0] == "clock"
