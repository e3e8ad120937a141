"""The real psql and MariaDB 10.11 clients, run by ``rds-iam-auth psql`` / ``mysql`` and fed
by ``rds-iam-auth env``, log into the emulator over verified TLS; the token is never on the
client's command line (the clients read their own ``/proc/<pid>/cmdline`` while connected, with
psql's ``\\!`` and the MariaDB client's ``system``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator, ServerInfo
from tests.integration.forwarder import forwarding
from tests.unit.cli_helpers import child_env

pytestmark = pytest.mark.integration


def _env(**extra: str) -> dict[str, str]:
    return child_env(
        AWS_ACCESS_KEY_ID=LONG_TERM.access_key,
        AWS_SECRET_ACCESS_KEY=LONG_TERM.secret_key,
        AWS_REGION="us-east-1",
        **extra,
    )


def _target(info: ServerInfo) -> list[str]:
    return [
        "--hostname",
        info.host,
        "--port",
        str(info.port),
        "--username",
        info.user,
        "--ca",
        info.ca_path,
    ]


def _cli(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rds_iam_auth", *argv],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_psql_logs_in(emulator: Emulator) -> None:
    pg = emulator.pg
    done = _cli(
        [
            "psql",
            *_target(pg),
            "--dbname",
            pg.database,
            "--",
            "-Atc",
            "select current_user, ssl from pg_stat_ssl where pid = pg_backend_pid()",
        ]
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "jane|t\n", "")


def test_mysql_logs_in(emulator: Emulator) -> None:
    done = _cli(["mysql", *_target(emulator.mysql), "--", "-e", "select current_user()"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "current_user()\njane@%\n"
    assert done.stderr == ""  # no "obsolete option" warning from the MariaDB client


def test_the_token_is_on_no_command_line_psql(emulator: Emulator) -> None:
    pg = emulator.pg
    # $PPID of the shell psql starts is psql itself, connected at that moment.
    done = _cli(
        [
            "psql",
            *_target(pg),
            "--dbname",
            pg.database,
            "--",
            "-At",
            "-c",
            r"\! tr '\0' ' ' < /proc/$PPID/cmdline; echo",
            "-c",
            r"\! tr '\0' '\n' < /proc/$PPID/environ | grep -c '^PGPASSWORD=.*X-Amz-Sig[n]ature='",
            "-c",
            "select current_user",
        ]
    )
    assert done.returncode == 0, done.stderr
    cmdline, in_environment, user = done.stdout.splitlines()
    assert "psql" in cmdline
    assert "sslmode='verify-full'" in cmdline
    assert "X-Amz-Signature" not in cmdline
    assert "Action=connect" not in cmdline
    assert (in_environment, user) == ("1", "jane")


def test_the_token_is_on_no_command_line_mysql(emulator: Emulator, tmp_path: Path) -> None:
    # $PPID of the shell the client's `system` starts is the client, connected at that moment.
    statements = (
        r"system tr '\0' '\n' < /proc/$PPID/cmdline > $OUT; "
        r"system stat -c %a $(tr '\0' '\n' < /proc/$PPID/cmdline "
        r"| sed -n 's/^--defaults-extra-file=//p') >> $OUT; "
        "select current_user()"
    )
    record = tmp_path / "record"
    done = _cli(
        ["mysql", *_target(emulator.mysql), "--", "-N", "-e", statements], _env(OUT=str(record))
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "jane@%\n"
    *argv, mode = record.read_text().splitlines()
    assert argv[1].startswith("--defaults-extra-file=")
    assert mode == "600"
    assert "--ssl-verify-server-cert" in argv
    assert any(a.startswith("--ssl-ca=") for a in argv)
    assert not any("X-Amz-Signature" in a or "Action=connect" in a for a in argv)
    assert not Path(argv[1].split("=", 1)[1]).exists()  # deleted once the client exited


def test_env_output_sourced_by_sh_then_psql(emulator: Emulator, tmp_path: Path) -> None:
    pg = emulator.pg
    env_file = tmp_path / "pg.env"
    done = _cli(["env", *_target(pg), "--dbname", pg.database])
    assert done.returncode == 0, done.stderr
    env_file.write_text(done.stdout)
    login = subprocess.run(
        [
            "sh",
            "-c",
            f". {env_file}; psql -X -Atc 'select current_user, ssl from pg_stat_ssl "  # noqa: S608
            "where pid = pg_backend_pid()'",
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (login.returncode, login.stdout) == (0, "jane|t\n"), login.stderr


def test_env_output_for_the_mariadb_client(emulator: Emulator, tmp_path: Path) -> None:
    env_file = tmp_path / "mysql.env"
    done = _cli(["env", *_target(emulator.mysql), "--engine", "mysql"])
    env_file.write_text(done.stdout)
    recipe = (
        'mariadb -N -u "$MYSQL_USER" --ssl-ca="$MYSQL_SSL_CA" --ssl-verify-server-cert '
        "-e 'select current_user()'"
    )
    login = subprocess.run(
        ["sh", "-c", f". {env_file}; {recipe}"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (login.returncode, login.stdout) == (0, "jane@%\n"), login.stderr


def test_psql_through_a_tunnel_keeps_the_endpoint_name(emulator: Emulator) -> None:
    pg = emulator.pg
    with forwarding(("127.0.0.1", pg.port)) as tunnel:
        # Signed for and verified as localhost:<server port>, dialled at the tunnel's port.
        done = _cli(
            [
                "psql",
                "--hostname",
                "localhost",
                "--port",
                str(pg.port),
                "--username",
                pg.user,
                "--dbname",
                pg.database,
                "--ca",
                pg.ca_path,
                "--address",
                tunnel.address,
                "--",
                "-Atc",
                "select current_user",
            ]
        )
        assert (done.returncode, done.stdout) == (0, "jane\n"), done.stderr
        assert tunnel.connections == 1


def test_the_exit_status_is_the_clients(emulator: Emulator) -> None:
    pg = emulator.pg
    failed_sql = _cli(["psql", *_target(pg), "--dbname", pg.database, "--", "-c", "select 1/0"])
    assert failed_sql.returncode == 1
    assert "division by zero" in failed_sql.stderr
    refused = _cli(["psql", *_target(pg), "--dbname", pg.database, "--region", "us-west-2"])
    assert refused.returncode == 2
    assert "PAM authentication failed" in refused.stderr
    refused_mysql = _cli(
        ["mysql", *_target(emulator.mysql), "--region", "us-west-2", "--", "-e", "select 1"]
    )
    assert refused_mysql.returncode == 1
    assert "ERROR 1045" in refused_mysql.stderr
