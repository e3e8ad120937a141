"""Driver adapters: the exact connect keywords (DESIGN §3/§6) and what they refuse."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth.drivers import DRIVERS, get_adapter
from rds_iam_auth.drivers import psycopg as psycopg_adapter
from rds_iam_auth.drivers import pymysql as pymysql_adapter
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import TlsSettings, context_for

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:5432/?Action=connect&DBUser=app&X-Amz-Signature=abc"
# What the connector sets so that neither PG* variables nor a service file can (libpq 18).
PINNED = {
    "hostaddr": "",
    "gssencmode": "disable",
    "sslkeylogfile": "",
    "ssl_min_protocol_version": "TLSv1.2",
}


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


@pytest.fixture
def verify_ca(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-ca", ca_file)


def pg(tls: TlsSettings, **user_kwargs: Any) -> dict[str, Any]:
    return psycopg_adapter.build_kwargs(
        host=HOST,
        port=5432,
        user="app",
        password=TOKEN,
        tls=tls,
        address=None,
        user_kwargs=user_kwargs,
    )


def my(tls: TlsSettings, **user_kwargs: Any) -> dict[str, Any]:
    return pymysql_adapter.build_kwargs(
        host=HOST,
        port=3306,
        user="app",
        password=TOKEN,
        tls=tls,
        address=None,
        user_kwargs=user_kwargs,
    )


def test_registry_and_defaults() -> None:
    assert set(DRIVERS) >= {"psycopg", "pymysql"}
    assert get_adapter("psycopg").DEFAULT_PORT == 5432
    assert get_adapter("pymysql").DEFAULT_PORT == 3306


@pytest.mark.parametrize("driver", ["mysql", "postgres", "PSYCOPG", "", None, 3])
def test_unknown_driver(driver: object) -> None:
    with pytest.raises(ConfigurationError, match="driver must be one of"):
        get_adapter(driver)


def test_unknown_driver_through_connector() -> None:
    c = Connector(signer=StaticSigner("t"), ca="certifi")
    with pytest.raises(ConfigurationError, match="'psycopg', 'pymysql'"):
        c.connect_kwargs(HOST, "app", driver="postgres")


# --- psycopg -----------------------------------------------------------------------------------


def test_psycopg_exact_kwargs(full: TlsSettings, ca_file: str) -> None:
    assert pg(full) == {
        "host": HOST,
        "port": 5432,
        "user": "app",
        "password": TOKEN,
        "sslmode": "verify-full",
        "sslrootcert": ca_file,
        **PINNED,
    }


def test_psycopg_verify_ca_mode(verify_ca: TlsSettings) -> None:
    assert pg(verify_ca)["sslmode"] == "verify-ca"
    # A user asking for more than tls= requires is fine.
    assert pg(verify_ca, sslmode="verify-full")["sslmode"] == "verify-full"


def test_psycopg_user_kwargs_merged(full: TlsSettings) -> None:
    kwargs = pg(
        full, dbname="app", connect_timeout=5, application_name="svc", sslmode="verify-full"
    )
    assert kwargs["dbname"] == "app"
    assert kwargs["connect_timeout"] == 5
    assert kwargs["application_name"] == "svc"
    assert kwargs["sslmode"] == "verify-full"
    assert kwargs["password"] == TOKEN


@pytest.mark.parametrize("sslmode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_psycopg_weaker_sslmode_refused_naming_tls(full: TlsSettings, sslmode: str) -> None:
    with pytest.raises(ConfigurationError, match="tls=") as info:
        pg(full, sslmode=sslmode)
    assert repr(sslmode) in str(info.value)


@pytest.mark.parametrize("sslmode", ["disable", "require", "prefer"])
def test_psycopg_weaker_sslmode_refused_under_verify_ca(
    verify_ca: TlsSettings, sslmode: str
) -> None:
    with pytest.raises(ConfigurationError, match="tls="):
        pg(verify_ca, sslmode=sslmode)


def test_psycopg_own_sslrootcert_refused(full: TlsSettings) -> None:
    with pytest.raises(ConfigurationError, match="ca="):
        pg(full, sslrootcert="/tmp/other.pem")
    with pytest.raises(ConfigurationError, match="ca="):
        pg(full, sslrootcert="system")


@pytest.mark.parametrize("name", ["password", "host", "hostaddr", "port", "user"])
def test_psycopg_reserved_kwargs(full: TlsSettings, name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}=") as info:
        pg(full, **{name: "x"})
    assert TOKEN not in str(info.value)


# --- PyMySQL ----------------------------------------------------------------------------------


def test_pymysql_exact_kwargs(full: TlsSettings) -> None:
    kwargs = my(full)
    assert set(kwargs) == {"host", "port", "user", "password", "ssl"}
    assert kwargs["host"] == HOST
    assert kwargs["port"] == 3306
    assert kwargs["user"] == "app"
    assert kwargs["password"] == TOKEN
    context = kwargs["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert len(context.get_ca_certs()) == 1
    # Built once per CA and reused; PyMySQL answers mysql_clear_password itself, so no
    # auth_plugin / cleartext keyword is passed.
    assert my(full)["ssl"] is context
    assert context is context_for(full, HOST)


def test_pymysql_verify_ca_context(verify_ca: TlsSettings) -> None:
    context = my(verify_ca)["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_pymysql_user_kwargs_merged(full: TlsSettings) -> None:
    kwargs = my(full, database="app", connect_timeout=5, charset="utf8mb4")
    assert (kwargs["database"], kwargs["connect_timeout"], kwargs["charset"]) == (
        "app",
        5,
        "utf8mb4",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ssl_disabled", True),
        ("ssl_verify_cert", False),
        ("ssl_verify_identity", False),
        ("ssl_ca", "/tmp/ca.pem"),
        ("ssl_capath", "/etc/ssl/certs"),
        ("ssl", {"ca": "/tmp/ca.pem"}),
        ("ssl", False),
        ("ssl", ssl.create_default_context()),
    ],
)
def test_pymysql_weakening_tls_kwargs_refused_naming_tls(
    full: TlsSettings, name: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match="tls="):
        my(full, **{name: value})


def test_pymysql_any_user_context_refused(full: TlsSettings, ca_file: str) -> None:
    # Regression (finding 14): ssl_ca= was refused "for replacing the CA" while an ssl= context
    # that trusts another CA was accepted. One rule for both routes: the CA is ca=.
    rogue = ssl.create_default_context(cafile=ca_file)
    with pytest.raises(ConfigurationError, match="ca="):
        my(full, ssl=rogue)
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError, match="tls="):
        my(full, ssl=lax)


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "passwd",
        "host",
        "port",
        "user",
        "unix_socket",
        "read_default_file",
        "read_default_group",
        "defer_connect",
        "auth_plugin_map",
    ],
)
def test_pymysql_reserved_kwargs(full: TlsSettings, name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}="):
        my(full, **{name: "x"})


# --- through the Connector ----------------------------------------------------------------------


def test_connector_connect_kwargs_psycopg(ca_file: str) -> None:
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    assert c.connect_kwargs(HOST, "app", driver="psycopg", dbname="app") == {
        "host": HOST,
        "port": 5432,
        "user": "app",
        "password": "tok",
        "sslmode": "verify-full",
        "sslrootcert": ca_file,
        **PINNED,
        "dbname": "app",
    }


def test_connector_connect_kwargs_pymysql_verify_ca(ca_file: str) -> None:
    c = Connector(signer=StaticSigner("tok"), ca=ca_file, tls="verify-ca")
    kwargs = c.connect_kwargs("10.1.2.3", "app", driver="pymysql", port=13306, region="eu-west-1")
    assert kwargs["port"] == 13306
    assert kwargs["password"] == "tok"
    assert kwargs["ssl"].check_hostname is False
    assert kwargs["ssl"].verify_mode == ssl.CERT_REQUIRED


def test_connector_refuses_sslmode_disable(ca_file: str) -> None:
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    with pytest.raises(ConfigurationError, match="tls="):
        c.connect_kwargs(HOST, "app", driver="psycopg", sslmode="disable")
    with pytest.raises(ConfigurationError, match="tls="):
        c.creator(HOST, "app", driver="pymysql", ssl_disabled=True)


# --- driver not installed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("driver", "module", "extra"),
    [
        ("psycopg", "psycopg", "rds-iam-auth[psycopg]"),
        ("pymysql", "pymysql", "rds-iam-auth[pymysql]"),
    ],
)
def test_missing_driver(
    monkeypatch: pytest.MonkeyPatch, ca_file: str, driver: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import <module>` raise ImportError
    adapter = get_adapter(driver)
    with pytest.raises(DriverNotInstalledError, match=extra.replace("[", r"\[")) as info:
        adapter.connect({})
    assert isinstance(info.value, ImportError)
    assert info.value.__cause__ is None
    assert adapter.is_auth_refused(Exception("x")) is False
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    with pytest.raises(DriverNotInstalledError):
        c.connect(HOST, "app", driver=driver)


def test_connect_passes_kwargs_to_the_driver(
    monkeypatch: pytest.MonkeyPatch, ca_file: str, tmp_path: Path
) -> None:
    import psycopg

    seen: list[dict[str, Any]] = []

    def fake_connect(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "connection"

    monkeypatch.setattr(psycopg, "connect", fake_connect)
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    assert c.connect(HOST, "app", driver="psycopg", dbname="db") == "connection"
    assert seen == [
        {
            "host": HOST,
            "port": 5432,
            "user": "app",
            "password": "tok",
            "sslmode": "verify-full",
            "sslrootcert": ca_file,
            **PINNED,
            "dbname": "db",
        }
    ]


# --- what PyMySQL actually does with our keywords (no connection: defer_connect) -----------------


def test_pymysql_driver_keeps_our_verifying_context(full: TlsSettings) -> None:
    import pymysql

    conn = pymysql.connect(**my(full), defer_connect=True)
    assert conn.ctx is context_for(full, HOST)
    assert conn.ctx.verify_mode == ssl.CERT_REQUIRED
    assert conn.ctx.check_hostname is True
    with pytest.raises(AttributeError, match="read-only"):
        conn.ctx.check_hostname = False


def test_pymysql_client_certificate_keywords_do_not_drop_verification(
    full: TlsSettings, tmp_path: Path
) -> None:
    # Fixed bug: the adapter lets ssl_cert= / ssl_key= through (they are not in _TLS_KEYWORDS), and
    # PyMySQL, seeing any of ssl_ca/ssl_cert/ssl_key/ssl_verify_*, replaces the ssl= context with
    # one built from {"ca": None, "check_hostname": False, "verify_mode": False}: CERT_NONE, no host
    # name check - a silent TLS downgrade (DESIGN §3/§6). Fix: add "ssl_cert", "ssl_key" (and
    # "ssl_key_password") to drivers/pymysql.py _TLS_KEYWORDS so they raise ConfigurationError
    # (users needing a client certificate pass a verifying ssl= context with load_cert_chain), or
    # load them into a copy of our context and drop them from the kwargs.
    import pymysql

    client = trustme.CA().issue_cert("client.example.test")
    cert = tmp_path / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(cert))
    kwargs = my(full, ssl_cert=str(cert), ssl_key=str(cert))
    assert "ssl_cert" not in kwargs
    assert "ssl_key" not in kwargs
    conn = pymysql.connect(**kwargs, defer_connect=True)
    assert conn.ctx.verify_mode == ssl.CERT_REQUIRED
    assert conn.ctx.check_hostname is True
