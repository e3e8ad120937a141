"""The dbshell command lines: where the token goes (never argv) and how TLS is set.

The clients themselves run against the emulator in tests/integration/test_django_dbshell.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.integrations.django.mysql.client import (
    DatabaseClient as MySQLClient,
)
from rds_iam_auth.integrations.django.mysql.client import (
    client_args,
    option_file_text,
)
from rds_iam_auth.integrations.django.postgresql.client import DatabaseClient, conninfo

pytest_plugins = ["rds_iam_auth.pytest_plugin"]

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def entry(connector: Connector, **options: Any) -> dict[str, Any]:
    return {"HOST": HOST, "PORT": 5432, "USER": "jane", "NAME": "app", "PASSWORD": "",
            "OPTIONS": {"connector": connector, **options}}  # fmt: skip


def test_psql_gets_the_token_in_its_environment_and_tls_in_a_conninfo(
    rds_iam_connector: Connector,
) -> None:
    settings = entry(rds_iam_connector, application_name="shell", pool=True, assume_role="r")
    args, env = DatabaseClient.settings_to_cmd_args_env(settings, ["-c", "SELECT 1"])
    assert env == {"PGPASSWORD": "rds-iam-test-token"}
    assert args[:3] == ["psql", "-c", "SELECT 1"]  # parameters first, as Django does
    assert "rds-iam-test-token" not in " ".join(args)
    info = args[3]
    for part in (
        f"host='{HOST}'",
        "port='5432'",
        "user='jane'",
        "dbname='app'",
        "sslmode='verify-full'",
        "gssencmode='disable'",
        "application_name='shell'",
    ):
        assert part in info.split(" ")
    assert "sslrootcert='" in info
    assert "pool" not in info  # Django's own options are not libpq's
    assert "assume_role" not in info
    assert "password" not in info


def test_psql_conninfo_without_a_name_uses_the_postgres_database(
    rds_iam_connector: Connector,
) -> None:
    args, _ = DatabaseClient.settings_to_cmd_args_env(
        {**entry(rds_iam_connector), "NAME": None}, []
    )
    assert "dbname='postgres'" in args[-1].split(" ")


def test_psql_refuses_what_the_connector_refuses(rds_iam_connector: Connector) -> None:
    with pytest.raises(ConfigurationError, match="sslmode='require' would weaken TLS"):
        DatabaseClient.settings_to_cmd_args_env(entry(rds_iam_connector, sslmode="require"), [])
    with pytest.raises(ConfigurationError, match="do not pass service="):
        DatabaseClient.settings_to_cmd_args_env(entry(rds_iam_connector, service="prod"), [])


def test_conninfo_quotes_values_and_drops_the_password_and_unset_options() -> None:
    text = conninfo({"host": "h", "password": "secret", "hostaddr": "", "options": "-c x='a b'\\"})
    assert text == "host='h' options='-c x=\\'a b\\'\\\\'"


def test_the_mysql_option_file_holds_only_the_password() -> None:
    assert option_file_text("tok%2Fen") == '[client]\npassword="tok%2Fen"\n'
    for bad in ('a"b', "a\nb", "a\\b", "a\x00b"):
        with pytest.raises(ConfigurationError, match="option file cannot hold"):
            option_file_text(bad)


KWARGS = {"host": "127.0.0.1", "port": 3306, "user": "jane", "password": "tok",
          "ssl": {"ca": "/ca.pem"}, "ssl_mode": "VERIFY_IDENTITY", "database": "app",
          "charset": "utf8mb4"}  # fmt: skip


@pytest.mark.parametrize(
    ("mariadb", "tls"),
    [
        (True, ["--ssl", "--ssl-ca=/ca.pem", "--ssl-verify-server-cert"]),
        (False, ["--ssl-mode=VERIFY_IDENTITY", "--ssl-ca=/ca.pem", "--enable-cleartext-plugin"]),
    ],
    ids=["mariadb-client", "mysql-client"],
)
def test_mysql_command_line_verifies_tls_and_names_the_option_file_first(
    mariadb: bool, tls: list[str]
) -> None:
    args = client_args("mysql", "/tmp/x/client.cnf", KWARGS, ["-e", "SELECT 1"], mariadb=mariadb)
    assert args == [
        "mysql",
        "--defaults-file=/tmp/x/client.cnf",
        "--host=127.0.0.1",
        "--port=3306",
        "--user=jane",
        *tls,
        "--default-character-set=utf8mb4",
        "app",
        "-e",
        "SELECT 1",
    ]
    assert "tok" not in args


def test_mysql_has_no_cmd_args_env_since_the_option_file_must_outlive_it(
    rds_iam_connector: Connector,
) -> None:
    with pytest.raises(ConfigurationError, match="call runshell"):
        MySQLClient.settings_to_cmd_args_env(entry(rds_iam_connector), [])
