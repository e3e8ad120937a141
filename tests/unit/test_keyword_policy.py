"""The per-driver keyword allowlists: what callers may pass, what the connector owns.

The decoy-server suite (tests/security/) shows the same refusals keep the token from reaching
an unverified server; these tests pin the messages and the allowlists themselves.
"""

from __future__ import annotations

import sys
from typing import Any

import psycopg
import pytest
import trustme
from psycopg import pq

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth.drivers import _libpq
from rds_iam_auth.drivers import psycopg as psycopg_adapter
from rds_iam_auth.drivers import pymysql as pymysql_adapter
from rds_iam_auth.testing import StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
SECRET = "SECRET-TOKEN-VALUE"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def connector(ca_file: str) -> Connector:
    return Connector(signer=StaticSigner(SECRET), ca=ca_file)


def refused(connector: Connector, driver: str, **kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        connector.connect_kwargs(HOST, "app", driver=driver, **kwargs)
    assert SECRET not in str(info.value)
    return str(info.value)


@pytest.mark.regression
@pytest.mark.parametrize("value", ["0", "1", "yes", "no", "true", 1, 0])
def test_requiressl_is_refused(connector: Connector, value: object) -> None:
    # Regression (finding 1): libpq turns requiressl into an sslmode that came after ours.
    assert "tls=" in refused(connector, "psycopg", requiressl=value)


@pytest.mark.regression
@pytest.mark.parametrize(
    "name",
    [
        "sslmode ",
        " sslmode",
        "application_name=x sslmode",
        "sslrootcert ",
        "SSLMODE",
        "ssl mode",
        "dbname\x00",
        "",
    ],
)
def test_keyword_names_outside_the_allowlist_are_refused(connector: Connector, name: str) -> None:
    # Regression (finding 2): psycopg put keyword names into the conninfo string unescaped.
    message = refused(connector, "psycopg", **{name: "disable"})
    assert "unknown or unsupported keyword" in message


def test_a_near_miss_suggests_the_keyword(connector: Connector) -> None:
    assert "did you mean 'sslmode'" in refused(connector, "psycopg", **{"sslmode ": "x"})
    assert "did you mean 'database'" in refused(connector, "pymysql", databse="app")


@pytest.mark.regression
@pytest.mark.parametrize(
    ("name", "points_to"),
    [
        ("sslkeylogfile", "session keys"),
        ("conninfo", "conninfo"),
        ("dsn", "DSN"),
        ("hostaddr", "address="),
        ("service", "configuration file"),
        ("servicefile", "configuration file"),
        ("sslrootcert", "ca="),
        ("sslnegotiation", "tls="),
        ("sslsni", "tls="),
        ("sslcrl", "tls="),
        ("ssl_min_protocol_version", "tls="),
        ("gssencmode", "GSS"),
        ("krbsrvname", "GSS"),
        ("passfile", "IAM token"),
        ("require_auth", "IAM token"),
        ("channel_binding", "IAM token"),
        ("oauth_client_secret", "IAM token"),
        ("load_balance_hosts", "one host"),
    ],
)
def test_psycopg_options_the_connector_owns(
    connector: Connector, name: str, points_to: str
) -> None:
    # Regression (findings 5, 13): sslkeylogfile=, conninfo= and hostaddr= were accepted.
    message = refused(connector, "psycopg", **{name: "x"})
    assert f"do not pass {name}=" in message
    assert points_to in message


@pytest.mark.regression
@pytest.mark.parametrize(
    "name",
    [
        "read_default_file",
        "read_default_group",
        "unix_socket",
        "defer_connect",
        "auth_plugin_map",
        "server_public_key",
        "ssl",
        "ssl_ca",
        "ssl_capath",
        "ssl_cipher",
        "ssl_disabled",
        "ssl_verify_cert",
        "ssl_verify_identity",
    ],
)
def test_pymysql_options_the_connector_owns(connector: Connector, name: str) -> None:
    # Regression (finding 13): read_default_file= could set host, socket and ssl-* options.
    assert f"do not pass {name}=" in refused(connector, "pymysql", **{name: "x"})


@pytest.mark.regression
@pytest.mark.parametrize("value", ["app\x00 sslmode=disable", "app\n", "a\rb", "x\x1b[2J", "\x7f"])
def test_control_characters_in_values_are_refused(connector: Connector, value: str) -> None:
    # Regression (finding 4): libpq stops reading the conninfo at a NUL, dropping what follows.
    assert "control character" in refused(connector, "psycopg", dbname=value)
    assert "control character" in refused(connector, "pymysql", database=value)


def test_value_types(connector: Connector) -> None:
    assert "must be a str or int or float" in refused(connector, "psycopg", dbname=["app"])
    assert "must be a str" in refused(connector, "pymysql", charset={"x": 1})


def test_driver_keywords_pass_through(connector: Connector) -> None:
    from psycopg.rows import dict_row

    kwargs = connector.connect_kwargs(
        HOST,
        "app",
        driver="psycopg",
        dbname="app",
        autocommit=True,
        prepare_threshold=None,
        row_factory=dict_row,
        options="-c search_path=app",
        keepalives_idle=30,
        sslmode="verify-full",
    )
    assert kwargs["row_factory"] is dict_row
    assert kwargs["prepare_threshold"] is None
    assert kwargs["options"] == "-c search_path=app"
    import pymysql.cursors

    kwargs = connector.connect_kwargs(
        HOST, "app", driver="pymysql", database="app", cursorclass=pymysql.cursors.DictCursor
    )
    assert kwargs["cursorclass"] is pymysql.cursors.DictCursor


def test_every_option_of_the_loaded_libpq_is_classified() -> None:
    # Fail closed and on purpose: a libpq release with a new option fails this test until
    # someone decides whether it is harmless (ALLOWED) or the connector's (OWNED).
    options = {opt.keyword.decode() for opt in pq.Conninfo.get_defaults()}
    unclassified = options - _libpq.ALLOWED - set(_libpq.OWNED)
    assert not unclassified, f"classify these libpq {pq.version()} options: {unclassified}"


def test_an_option_the_loaded_libpq_lacks_is_named(
    connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = frozenset(psycopg_adapter._libpq_options() or ()) - {"sslcertmode", "gssencmode"}
    monkeypatch.setattr(psycopg_adapter, "_libpq_options", lambda: older)
    assert "libpq is too old" in refused(connector, "psycopg", sslcertmode="allow")
    kwargs = connector.connect_kwargs(HOST, "app", driver="psycopg", dbname="x")
    assert "gssencmode" not in kwargs  # pinned only where libpq knows the option


@pytest.mark.regression
def test_creator_checks_keywords_and_driver_when_built(
    connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression (finding 15): an unknown keyword or a missing driver failed only at the
    # pool's first connection.
    with pytest.raises(ConfigurationError, match="unknown or unsupported keyword 'dbnme'"):
        connector.creator(HOST, "app", driver="psycopg", dbnme="app")
    monkeypatch.setitem(sys.modules, "pymysql", None)
    with pytest.raises(DriverNotInstalledError, match=r"rds-iam-auth\[pymysql\]"):
        connector.creator(HOST, "app", driver="pymysql")


def test_adapters_declare_what_they_need() -> None:
    for adapter in (psycopg_adapter, pymysql_adapter):
        assert adapter.SUPPORTS_ADDRESS is True
        assert not adapter.POLICY.allowed & set(adapter.POLICY.owned)
    assert psycopg_adapter.load() is psycopg


@pytest.mark.regression
def test_pymysql_below_1_2_is_refused(
    connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyMySQL 1.1.x sent the password in clear to a server offering no TLS, even with a
    # verifying context; an application pin can hold it below our extra's floor.
    import pymysql

    monkeypatch.setattr(pymysql, "VERSION", (1, 1, 1, "final"))
    monkeypatch.setattr(pymysql, "VERSION_STRING", "1.1.1")
    with pytest.raises(DriverNotInstalledError, match=r"PyMySQL >= 1\.2 \(found 1\.1\.1\)"):
        connector.connect(HOST, "app", driver="pymysql")
    with pytest.raises(DriverNotInstalledError, match="in clear"):
        connector.creator(HOST, "app", driver="pymysql")


def test_the_declared_pymysql_floor_is_1_2() -> None:
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'pymysql = ["PyMySQL>=1.2"]' in pyproject
    assert '  "PyMySQL>=1.2",\n' in pyproject.split("all = [", 1)[1].split("\n]", 1)[0]
    assert pymysql_adapter.MIN_VERSION == (1, 2)
