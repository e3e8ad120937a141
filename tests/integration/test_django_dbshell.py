"""``manage.py dbshell`` through our backends: psql / mysql log in with a current token.

The real clients run (psql 15, MariaDB 10.11's mysql), behind a wrapper on ``PATH`` that
records what they were started with: the command line (which every user can read through
``ps``), which ``PG*`` / ``MYSQL_*`` variables reached them, and for MySQL the option file's
mode. The wrapper records whether the token is present, never the token.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.django_project.harness import accepted_logins, django_env, manage
from tests.emulator import Emulator

pytestmark = pytest.mark.integration

TOKEN_MARK = "X-Amz-Signature="  # in every token; a token's other parts are not secret
WRAPPER = """#!{python} -I
import json, os, sys
record = {{
    "argv": sys.argv[1:],
    "pg_env": sorted(k for k in os.environ if k.startswith("PG")),
    "mysql_env": sorted(k for k in os.environ if k.startswith("MYSQL")),
    "pgpassword_is_token": {mark!r} in os.environ.get("PGPASSWORD", ""),
}}
for arg in sys.argv[1:]:
    if arg.startswith("--defaults-file="):
        path = arg.split("=", 1)[1]
        record["option_file"] = path
        record["file_mode"] = oct(os.stat(path).st_mode & 0o777)
        record["dir_mode"] = oct(os.stat(os.path.dirname(path)).st_mode & 0o777)
        with open(path) as f:
            record["file_has_token"] = {mark!r} in f.read()
with open({log!r}, "a") as f:
    f.write(json.dumps(record) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""
QUERIES = {
    "postgres": (
        "-At",
        "-c",
        "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    ),
    "mariadb": ("-N", "-B", "-e", "SELECT CURRENT_USER(); SHOW SESSION STATUS LIKE 'Ssl_cipher'"),
}
# Left in the caller's environment on purpose: none of them may reach the client.
HOSTILE_ENV = {
    "PGSSLMODE": "disable",
    "PGSERVICE": "no-such-service",
    "PGHOSTADDR": "192.0.2.1",
    "MYSQL_PWD": "not-the-token",
    "MYSQL_HOST": "192.0.2.1",
}


def _wrapped(tmp_path: Path, client: str) -> tuple[Path, Path]:
    """A directory with ``client`` wrapped, and the wrapper's log."""
    real = shutil.which(client)
    assert real is not None, f"{client} is installed with the emulator's packages"
    bindir, log = tmp_path / "bin", tmp_path / "client-log.jsonl"
    bindir.mkdir()
    wrapper = bindir / client
    wrapper.write_text(
        WRAPPER.format(python=sys.executable, mark=TOKEN_MARK, log=str(log), real=real)
    )
    wrapper.chmod(0o755)
    return bindir, log


def _dbshell(
    emu: Emulator, engine: str, tmp_path: Path, **settings: str
) -> tuple[Any, list[dict[str, Any]]]:
    info = emu.pg if engine == "postgres" else emu.mysql
    client = "psql" if engine == "postgres" else "mysql"
    bindir, log = _wrapped(tmp_path, client)
    env = django_env(info, tmp_path, **settings)
    env.update(HOSTILE_ENV, PATH=f"{bindir}{os.pathsep}{env['PATH']}")
    result = manage(env, "dbshell", "--", *QUERIES[engine])
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, [r for r in records if "--version" not in r["argv"]]


@pytest.mark.parametrize(
    ("engine", "pg_driver"),
    [("postgres", "psycopg"), ("postgres", "psycopg2"), ("mariadb", "")],
    ids=["psql-psycopg", "psql-psycopg2", "mysql"],
)
def test_dbshell_runs_a_query_with_a_current_token_never_on_argv(
    emulator: Emulator, tmp_path: Path, engine: str, pg_driver: str
) -> None:
    logins = accepted_logins(emulator.verifier_log(engine))
    result, records = _dbshell(emulator, engine, tmp_path, PG_DRIVER=pg_driver)
    assert result.returncode == 0, result.stderr[-3000:]
    assert accepted_logins(emulator.verifier_log(engine)) - logins == 1
    out = result.stdout.split()
    if engine == "postgres":
        assert out == ["jane|t"]  # the IAM user, over TLS
    else:
        assert out[0] == "jane@%"
        assert out[1] == "Ssl_cipher"
        assert len(out) == 3  # a cipher's name follows: TLS
    [record] = records
    assert not any(TOKEN_MARK in arg or "Action=connect" in arg for arg in record["argv"])
    assert TOKEN_MARK not in result.stdout + result.stderr
    if engine == "postgres":
        assert record["pgpassword_is_token"] is True
        assert record["pg_env"] == ["PGPASSWORD"]  # the hostile PG* variables were removed
        assert "sslmode='verify-full'" in record["argv"][-1]
    else:
        assert record["argv"][0].startswith("--defaults-file=")  # first, as mysql requires
        assert "--ssl-verify-server-cert" in record["argv"]
        assert (record["file_mode"], record["dir_mode"]) == ("0o600", "0o700")
        assert record["file_has_token"] is True
        assert record["mysql_env"] == []  # MYSQL_PWD / MYSQL_HOST removed
        assert not Path(record["option_file"]).exists()  # removed when the client exited


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_dbshell_verifies_the_server_before_sending_the_token(
    emulator: Emulator, tmp_path: Path, engine: str
) -> None:
    """With a CA that did not sign the server's certificate the client must stop at the TLS
    handshake: the server's verifier never sees a login attempt."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    verdicts = len(emulator.verifier_log(engine))
    result, records = _dbshell(emulator, engine, tmp_path, CA=str(other_ca))
    assert result.returncode != 0
    assert len(records) == 1  # the client did run, and gave up
    assert len(emulator.verifier_log(engine)) == verdicts
    expected = "certificate verify failed" if engine == "postgres" else "TLS/SSL error"
    assert expected in result.stderr


@pytest.mark.parametrize(("host", "logs_in"), [("localhost", True), ("db.example.internal", False)])
def test_dbshell_with_address_dials_there_and_verifies_host(
    emulator: Emulator, tmp_path: Path, host: str, logs_in: bool
) -> None:
    """OPTIONS["address"]: psql dials the address but checks the certificate against HOST
    (verify-full), so a HOST the certificate does not name never gets the token."""
    info = emulator.pg
    verdicts = len(emulator.verifier_log("postgres"))
    address = f"{info.host}:{info.port}"
    result, records = _dbshell(emulator, "postgres", tmp_path, HOST=host, ADDRESS=address)
    assert len(records) == 1
    assert f"hostaddr='{info.host}'" in records[0]["argv"][-1]
    if logs_in:
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.split() == ["jane|t"]
        assert len(emulator.verifier_log("postgres")) == verdicts + 1
    else:
        assert result.returncode != 0
        assert "does not match host name" in result.stderr
        assert len(emulator.verifier_log("postgres")) == verdicts
