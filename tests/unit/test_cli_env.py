"""``rds-iam-auth env``: which variables, and quoting that survives sh, .env parsers and JSON
(the sh output is sourced by a real ``sh``; logging in with it is an integration test)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rds_iam_auth.cli._env import format_variables
from rds_iam_auth.testing import FakeClock
from tests.unit.cli_helpers import AKID, HOST, SECRET, boto3_token, run_cli

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
NASTY = 'it\'s "quoted" $HOME `id` \\ back;slash & more'


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


def _sourced(text: str, tmp_path: Path, names: list[str]) -> list[str]:
    script = tmp_path / "env.sh"
    script.write_text(text)
    printed = "".join(f'printf "%s\\0" "${name}"; ' for name in names)
    done = subprocess.run(
        ["sh", "-c", f". {script}; {printed}"], capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode().split("\0")[:-1]


def test_postgres_variables_and_the_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = run_cli(
        ["env", "--hostname", HOST, "--username", "jane", "--dbname", "app", "--format", "json"],
        FakeClock(WHEN),
    )
    found = json.loads(result.out)
    assert list(found) == [
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGGSSENCMODE",
        "PGDATABASE",
    ]
    assert found["PGPASSWORD"] == boto3_token(
        monkeypatch, WHEN, host=HOST, port=5432, user="jane", region="us-east-1"
    )
    assert (found["PGSSLMODE"], found["PGGSSENCMODE"]) == ("verify-full", "disable")
    assert found["PGSSLROOTCERT"].endswith("rds_iam_auth/_data/global-bundle.pem")


def test_sh_output_survives_any_posix_shell_quoting(tmp_path: Path) -> None:
    found = {"PGUSER": NASTY, "PGPASSWORD": "h:5432/?Action=connect&DBUser=x%20y&X=1"}
    text = format_variables(found, "sh", "comment; rm -rf /")
    assert _sourced(text, tmp_path, list(found)) == list(found.values())


def test_sh_output_of_the_command_is_what_was_signed(tmp_path: Path) -> None:
    result = run_cli(["env", "--hostname", HOST, "--username", "jane"], FakeClock(WHEN))
    as_json = run_cli(
        ["env", "--hostname", HOST, "--username", "jane", "--format", "json"], FakeClock(WHEN)
    )
    expected = json.loads(as_json.out)
    assert result.out.startswith("# rds-iam-auth env: IAM token for jane at ")
    assert _sourced(result.out, tmp_path, list(expected)) == list(expected.values())


def test_dotenv_quotes_only_when_needed_and_refuses_what_it_cannot_carry() -> None:
    text = format_variables({"A": "h:1/?x=1&y=%2F", "B": "two words", "C": "$HOME"}, "dotenv", "c")
    assert text.splitlines()[1:] == ["A=h:1/?x=1&y=%2F", "B='two words'", "C='$HOME'"]
    result = run_cli(
        ["env", "--hostname", HOST, "--username", "it's", "--format", "dotenv"], FakeClock(WHEN)
    )
    assert result.status == 2
    assert "--format sh or --format json" in result.err


def test_mysql_variables(tmp_path: Path) -> None:
    result = run_cli(
        ["env", "--hostname", HOST, "--port", "3306", "--username", "jane", "--format", "json"],
        FakeClock(WHEN),
    )
    found = json.loads(result.out)
    assert list(found) == [
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_USER",
        "MYSQL_PWD",
        "MYSQL_SSL_CA",
        "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN",
    ]
    assert found["MYSQL_PWD"].startswith(f"{HOST}:3306/?Action=connect&DBUser=jane&")
    sh = run_cli(
        ["env", "--hostname", HOST, "--engine", "mysql", "--username", "jane"], FakeClock(WHEN)
    )
    assert "--ssl-verify-server-cert" in sh.err  # how to pass TLS, which has no variable


def test_address_dials_elsewhere_but_the_token_keeps_the_endpoint() -> None:
    result = run_cli(
        [
            "env",
            "--hostname",
            HOST,
            "--username",
            "jane",
            "--address",
            "127.0.0.1:15432",
            "--format",
            "json",
        ],
        FakeClock(WHEN),
    )
    found = json.loads(result.out)
    assert (found["PGHOST"], found["PGHOSTADDR"], found["PGPORT"]) == (HOST, "127.0.0.1", "15432")
    assert found["PGPASSWORD"].startswith(f"{HOST}:5432/?")
    refused = run_cli(
        [
            "env",
            "--hostname",
            HOST,
            "--engine",
            "mysql",
            "--username",
            "jane",
            "--address",
            "127.0.0.1:13306",
        ],
        FakeClock(WHEN),
    )
    assert refused.status == 2
    assert "MySQL clients" in refused.err
    assert refused.out == ""


def test_a_missing_ca_file_is_a_runtime_error(tmp_path: Path) -> None:
    result = run_cli(
        ["env", "--hostname", HOST, "--username", "jane", "--ca", str(tmp_path / "nope.pem")],
        FakeClock(WHEN),
    )
    assert (result.status, result.out) == (1, "")
    assert "does not exist or is not readable" in result.err
