"""``rds-iam-auth psql`` / ``mysql`` with a recorder standing in for the client (through
``RDS_IAM_AUTH_PSQL`` / ``RDS_IAM_AUTH_MYSQL``): what the client gets on its command line, in
its environment and in the option file, that the file is 0600 and gone afterwards, the exit
status, signals, and which client arguments are refused. The real psql and mariadb clients
log into the emulator in tests/integration/test_cli_clients.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rds_iam_auth.cli._clients import MYSQL_OPTIONS, PSQL_OPTIONS, check_client_args
from rds_iam_auth.errors import ConfigurationError
from tests.unit.cli_helpers import AKID, HOST, SECRET, child_env

RECORDER = r"""#!{python}
import json, os, signal, sys
args = sys.argv[1:]
if args == ["--version"]:
    print(os.environ.get("RECORDER_VERSION", "mariadb  Ver 15.1 Distrib 10.11.6-MariaDB"))
    sys.exit(0)
if args == ["--print-defaults"]:
    print("client would have been started with the following arguments:")
    print(os.environ.get("RECORDER_DEFAULTS", "--socket=/run/mysqld/mysqld.sock "))
    sys.exit(0)
record = {{"argv": sys.argv, "pid": os.getpid(), "env": dict(os.environ)}}
with open("/proc/self/cmdline", "rb") as fh:
    record["cmdline"] = fh.read().decode()
for arg in args[:1]:
    if arg.startswith("--defaults"):
        path = arg.split("=", 1)[1]
        record["option_file"] = {{"path": path, "mode": os.stat(path).st_mode & 0o777,
                                  "dir_mode": os.stat(os.path.dirname(path)).st_mode & 0o777,
                                  "text": open(path).read()}}
with open(os.environ["RECORDER_OUT"], "w") as fh:
    json.dump(record, fh)
if os.environ.get("RECORDER_READY"):
    with open(os.environ["RECORDER_READY"], "w") as fh:
        fh.write("ready\n")
    sys.stdin.read()
sys.exit(int(os.environ.get("RECORDER_EXIT", "0")))
"""


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    path = tmp_path / "recorder"
    path.write_text(RECORDER.format(python=sys.executable))
    path.chmod(0o755)
    return path


def _env(tmp_path: Path, recorder: Path, **extra: str) -> dict[str, str]:
    settings = {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "RDS_IAM_AUTH_PSQL": str(recorder),
        "RDS_IAM_AUTH_MYSQL": str(recorder),
        "RECORDER_OUT": str(tmp_path / "record.json"),
    }
    return child_env(**{**settings, **extra})


def _run(argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rds_iam_auth", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


def _record(tmp_path: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((tmp_path / "record.json").read_text())
    return record


TARGET = ["--hostname", HOST, "--username", "jane"]


def test_psql_gets_the_token_in_its_environment_only(tmp_path: Path, recorder: Path) -> None:
    env = _env(
        tmp_path,
        recorder,
        PGHOST="elsewhere",
        PGSSLMODE="disable",
        PGAPPNAME="app",
        RECORDER_EXIT="3",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rds_iam_auth",
            "psql",
            *TARGET,
            "--dbname",
            "app",
            "--",
            "-qAt",
            "-c",
            "select 1",
        ],
        env=env,
    )
    assert proc.wait(timeout=60) == 3  # the client's status
    record = _record(tmp_path)
    token = record["env"]["PGPASSWORD"]
    assert token.startswith(f"{HOST}:5432/?Action=connect&DBUser=jane&")
    assert record["pid"] == proc.pid  # psql replaced the process (exec)
    assert token not in record["cmdline"]
    assert "X-Amz-Signature" not in record["cmdline"]
    assert record["argv"][1:] == [
        f"--dbname=host='{HOST}' port='5432' user='jane' dbname='app' sslmode='verify-full' "
        f"sslrootcert='{record['argv'][1].split('sslrootcert=')[1].split(chr(39))[1]}' "
        "gssencmode='disable'",
        "--no-password",
        "-qAt",
        "-c",
        "select 1",
    ]
    assert "_data/global-bundle.pem" in record["argv"][1]
    pg_vars = {k for k in record["env"] if k.startswith("PG")}
    assert pg_vars == {"PGPASSWORD", "PGAPPNAME"}  # PGHOST / PGSSLMODE of the caller dropped


def test_psql_address_goes_to_hostaddr(tmp_path: Path, recorder: Path) -> None:
    done = _run(["psql", *TARGET, "--address", "127.0.0.1:15432"], _env(tmp_path, recorder))
    assert done.returncode == 0, done.stderr
    argv = _record(tmp_path)["argv"]
    assert f"host='{HOST}' port='15432' hostaddr='127.0.0.1' user='jane'" in argv[1]
    assert _record(tmp_path)["env"]["PGPASSWORD"].startswith(f"{HOST}:5432/?")


def test_mysql_gets_a_0600_option_file_deleted_after_it_exits(
    tmp_path: Path, recorder: Path
) -> None:
    env = _env(
        tmp_path,
        recorder,
        MYSQL_PWD="old",
        MARIADB_TLS_DISABLE_PEER_VERIFICATION="1",
        RECORDER_EXIT="5",
    )
    done = _run(["mysql", *TARGET, "--dbname", "app", "--", "-e", "select 1"], env)
    assert done.returncode == 5, done.stderr
    record = _record(tmp_path)
    option_file = record["option_file"]
    assert record["argv"][1] == f"--defaults-extra-file={option_file['path']}"  # first
    assert (option_file["mode"], option_file["dir_mode"]) == (0o600, 0o700)
    token = option_file["text"].split('password="')[1].split('"')[0]
    assert token.startswith(f"{HOST}:3306/?Action=connect&DBUser=jane&")
    assert option_file["text"] == f'[client]\npassword="{token}"\n'
    assert token not in record["cmdline"]
    assert record["argv"][2:] == [
        f"--host={HOST}",
        "--port=3306",
        "--protocol=TCP",
        "--user=jane",
        record["argv"][6],
        "--ssl-verify-server-cert",
        "--database=app",
        "-e",
        "select 1",
    ]
    assert record["argv"][6].startswith("--ssl-ca=")
    assert not {"MYSQL_PWD", "MARIADB_TLS_DISABLE_PEER_VERIFICATION"} & set(record["env"])
    assert not Path(option_file["path"]).exists()
    assert not Path(option_file["path"]).parent.exists()


def test_mysql_8_client_flags(tmp_path: Path, recorder: Path) -> None:
    env = _env(tmp_path, recorder, RECORDER_VERSION="mysql  Ver 8.0.36 for Linux on x86_64")
    assert _run(["mysql", *TARGET], env).returncode == 0
    argv = _record(tmp_path)["argv"]
    assert "--ssl-mode=VERIFY_IDENTITY" in argv
    assert "--enable-cleartext-plugin" in argv
    assert "--ssl-verify-server-cert" not in argv


def test_a_password_in_the_users_option_files_switches_to_defaults_file(
    tmp_path: Path, recorder: Path
) -> None:
    env = _env(tmp_path, recorder, RECORDER_DEFAULTS="--socket=/x --password=local ")
    done = _run(["mysql", *TARGET], env)
    assert done.returncode == 0
    assert _record(tmp_path)["argv"][1].startswith("--defaults-file=")
    assert "your MySQL option files set a password" in done.stderr


def test_sigterm_reaches_the_client_and_the_file_is_still_deleted(
    tmp_path: Path, recorder: Path
) -> None:
    ready = tmp_path / "ready"
    os.mkfifo(ready)
    env = _env(tmp_path, recorder, RECORDER_READY=str(ready))
    with subprocess.Popen(
        [sys.executable, "-m", "rds_iam_auth", "mysql", *TARGET], env=env, stdin=subprocess.PIPE
    ) as proc:
        with open(ready) as fh:  # blocks until the client is up and holds the file
            assert fh.read() == "ready\n"
        path = Path(_record(tmp_path)["option_file"]["path"])
        assert path.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert not path.exists()


@pytest.mark.parametrize(
    ("client", "args"),
    [
        ("psql", ["-h", "evil"]),
        ("psql", ["--host=evil"]),
        ("psql", ["-d", "host=evil"]),
        ("psql", ["-qAtd", "x"]),
        ("psql", ["appdb"]),  # a positional one is a database, maybe a connection string
        ("psql", ["-U", "postgres"]),
        ("psql", ["--comm", "x"]),  # an abbreviation getopt would take: refused, fail closed
        ("psql", ["-c"]),  # needs a value
        ("mysql", ["-hevil"]),
        ("mysql", ["--skip-ssl"]),
        ("mysql", ["--ssl-verify-server-cert=0"]),
        ("mysql", ["--defaults-file=/tmp/x"]),
        ("mysql", ["-p"]),
        ("mysql", ["--socket=/tmp/s"]),
        ("mysql", ["--batch=1"]),
    ],
)
def test_client_arguments_that_change_the_target_or_tls_are_refused(
    client: str, args: list[str]
) -> None:
    options = PSQL_OPTIONS if client == "psql" else MYSQL_OPTIONS
    with pytest.raises(ConfigurationError, match="is not passed on"):
        check_client_args(client, args, options)


@pytest.mark.parametrize(
    ("client", "args"),
    [
        ("psql", ["-c", "select 1", "-qAt", "-v", "ON_ERROR_STOP=1", "--csv"]),
        ("psql", ["-qAtc", "select 1", "-X", "--set=a=b", "-f", "-"]),
        ("mysql", ["-e", "select 1", "-BN", "--table", "--default-character-set=utf8mb4"]),
        ("mysql", ["-eselect 1", "-D", "app", "--database=app"]),
    ],
)
def test_display_and_query_options_pass(client: str, args: list[str]) -> None:
    options = PSQL_OPTIONS if client == "psql" else MYSQL_OPTIONS
    assert check_client_args(client, args, options) == args


def test_refusals_and_a_missing_client_exit_2_with_one_line(tmp_path: Path, recorder: Path) -> None:
    done = _run(["psql", *TARGET, "--", "-h", "evil"], _env(tmp_path, recorder))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "'-h' after -- is not passed on" in done.stderr
    assert not (tmp_path / "record.json").exists()
    missing = _run(["mysql", *TARGET], _env(tmp_path, recorder, RDS_IAM_AUTH_MYSQL="/nonexistent"))
    assert missing.returncode == 2
    assert "RDS_IAM_AUTH_MYSQL" in missing.stderr
    stray = _run(["psql", *TARGET, "-c", "select 1"], _env(tmp_path, recorder))
    assert stray.returncode == 2
    assert "unrecognized arguments: -c" in stray.stderr
    extra = _run(
        ["token", "--hostname", HOST, "--port", "1", "--username", "u", "--", "x"],
        _env(tmp_path, recorder),
    )
    assert extra.returncode == 2
    assert "unrecognized arguments: -- x" in extra.stderr
