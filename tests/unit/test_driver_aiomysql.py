"""The aiomysql adapter: exact keywords, what it refuses, address=, the TLS-only Connection,
refusal recognition and a missing driver (client certificates and the sync/async errors:
test_driver_async_common.py).

aiomysql raises PyMySQL's own exception classes; the refusal tests use them with the values
measured on the emulator (``OperationalError(1045, ...)``). No test here dials.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import ssl
import sys
from collections.abc import Iterator
from typing import Any

import aiomysql
import asyncmy.errors
import pymysql
import pytest
import trustme

from rds_iam_auth import ConfigurationError, DriverNotInstalledError
from rds_iam_auth._sslcontext import PinnedContext
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import aiomysql as adapter
from rds_iam_auth.tls import TlsSettings, context_for

from .async_driver_helpers import connector

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:3306/?Action=connect&DBUser=app&X-Amz-Signature=SECRETSIG"
DENIED = "Access denied for user 'app'@'10.0.0.7' (using password: YES)"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


@pytest.fixture
def fresh_load() -> Iterator[None]:
    # load() caches the imported module (its version check reads package metadata), and the
    # TLS-only Connection class built from it.
    for cached in (adapter.load, adapter._tls_only_connection):
        cached.cache_clear()
    yield
    for cached in (adapter.load, adapter._tls_only_connection):
        cached.cache_clear()


def build(tls: TlsSettings, address: Address | None = None, **user_kwargs: Any) -> dict[str, Any]:
    return adapter.build_kwargs(
        host=HOST,
        port=3306,
        user="app",
        password=TOKEN,
        tls=tls,
        address=address,
        user_kwargs=user_kwargs,
    )


def refused(tls: TlsSettings, **user_kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        build(tls, **user_kwargs)
    assert TOKEN not in str(info.value)
    return str(info.value)


# --- exact keywords ------------------------------------------------------------------------


def test_registry_entry() -> None:
    assert get_adapter("aiomysql") is adapter
    assert (adapter.NAME, adapter.DEFAULT_PORT, adapter.SUPPORTS_ADDRESS) == (
        "aiomysql",
        3306,
        True,
    )
    assert (adapter.SYNC, adapter.ASYNC, adapter.RESOLVES_ADDRESS) == (False, True, False)


def test_exact_kwargs(full: TlsSettings) -> None:
    kwargs = build(full)
    assert set(kwargs) == {"host", "port", "user", "password", "ssl"}
    assert (kwargs["host"], kwargs["port"], kwargs["user"]) == (HOST, 3306, "app")
    assert kwargs["password"] == TOKEN
    context = kwargs["ssl"]
    assert isinstance(context, PinnedContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.server_name == HOST
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert build(full)["ssl"] is context is context_for(full, HOST)
    with pytest.raises(AttributeError, match="read-only"):
        context.verify_mode = ssl.CERT_NONE
    assert TOKEN not in repr(kwargs)


def test_verify_ca_skips_only_the_name_check(ca_file: str) -> None:
    context = build(TlsSettings("verify-ca", ca_file))["ssl"]
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, False)


def test_allowed_keywords_pass_through(full: TlsSettings) -> None:
    options: dict[str, Any] = {
        "db": "app",
        "charset": "utf8mb4",
        "sql_mode": "ANSI",
        "use_unicode": True,
        "client_flag": 0,
        "init_command": "SET time_zone = '+00:00'",
        "connect_timeout": 5,
        "autocommit": True,
        "echo": False,
        "local_infile": False,
        "program_name": "svc",
        "cursorclass": aiomysql.DictCursor,
    }
    kwargs = build(full, **options)
    assert {k: kwargs[k] for k in options} == options


def test_database_is_passed_as_db(full: TlsSettings) -> None:
    # PyMySQL takes both names; aiomysql's Connection has only db= (database= is a TypeError).
    assert "database" not in inspect.signature(aiomysql.Connection).parameters
    kwargs = build(full, database="app")
    assert kwargs["db"] == "app"
    assert "database" not in kwargs
    assert "not both" in refused(full, database="a", db="b")
    assert "control character" in refused(full, database="app\x00")


def test_every_keyword_of_the_installed_aiomysql_is_classified() -> None:
    # Fail closed: a release with a new Connection keyword fails here until it is classified.
    keywords = set(inspect.signature(aiomysql.Connection).parameters)
    unclassified = keywords - adapter.POLICY.allowed - set(adapter.POLICY.owned)
    assert not unclassified, f"classify these aiomysql keywords: {unclassified}"
    ours = {"ssl_cert", "ssl_key", "ssl_key_password", "database"}  # loaded / renamed by us
    assert adapter.POLICY.allowed - ours <= keywords


# --- owned, unknown and bad values -------------------------------------------------------------

OWNED_HINTS = {
    **dict.fromkeys(("host", "port", "user", "unix_socket", "sock"), "address="),
    **dict.fromkeys(("password", "passwd", "auth_plugin", "server_public_key"), "IAM token"),
    **dict.fromkeys(("password_creator", "auth_plugin_map"), "IAM token"),
    **dict.fromkeys(("read_default_file", "read_default_group"), "configuration file"),
    **dict.fromkeys(("ssl", "ssl_ca", "ssl_capath", "ssl_disabled", "ssl_verify_cert"), "tls="),
    "loop": "running event loop",
    "defer_connect": "retry a refused token",
}


@pytest.mark.parametrize(("name", "points_to"), OWNED_HINTS.items())
def test_owned_keywords_are_refused_with_their_hint(
    full: TlsSettings, name: str, points_to: str
) -> None:
    message = refused(full, **{name: "x"})
    assert f"do not pass {name}=" in message
    assert points_to in message


@pytest.mark.parametrize("value", [None, True, False, {}, {"ca": "/x"}, "lax"])
def test_no_ssl_of_the_callers_is_accepted(full: TlsSettings, value: object) -> None:
    if value == "lax":
        value = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        value.check_hostname = False
    assert "tls=" in refused(full, ssl=value)


@pytest.mark.parametrize("name", ["ssl ", "dbname", "DB", "", "cursor_cls", "ssl_verify_identity "])
def test_unknown_names_are_refused_by_name(full: TlsSettings, name: str) -> None:
    message = refused(full, **{name: "x"})
    assert f"unknown or unsupported keyword {name!r}" in message
    assert "Accepted: autocommit, charset, client_flag" in message


def test_a_near_miss_suggests_the_keyword(full: TlsSettings) -> None:
    assert "did you mean 'charset'" in refused(full, charsett="utf8mb4")
    assert "did you mean 'connect_timeout'" in refused(full, connect_timout=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"db": b"app"}, "db= must be a str"),
        ({"init_command": "SET x=1\x00"}, "control character"),
        ({"program_name": "svc\r\n"}, "control character"),
        ({"client_flag": "0"}, "client_flag= must be a non-negative int"),
        ({"client_flag": True}, "client_flag= must be a non-negative int"),
        ({"client_flag": -1}, "client_flag= must be a non-negative int"),
        ({"connect_timeout": [5]}, "connect_timeout= must be a"),
    ],
)
def test_bad_values_are_refused(full: TlsSettings, kwargs: dict[str, Any], message: str) -> None:
    assert message in refused(full, **kwargs)


# --- address= -----------------------------------------------------------------------------


@pytest.mark.parametrize("dial", [Address("127.0.0.1", 13306), Address("bastion.internal", 3307)])
def test_address_dials_elsewhere_and_verifies_the_endpoint(
    full: TlsSettings, dial: Address
) -> None:
    kwargs = build(full, dial)
    assert (kwargs["host"], kwargs["port"]) == (dial.host, dial.port)
    # aiomysql passes the dialled host as server_hostname; the context verifies HOST instead.
    assert kwargs["ssl"].server_name == HOST
    assert kwargs["ssl"].check_hostname is True


# --- the TLS-only Connection -------------------------------------------------------------------


def test_connections_are_the_tls_only_subclass() -> None:
    cls = adapter._tls_only_connection()
    assert issubclass(cls, aiomysql.Connection)
    assert cls is adapter._tls_only_connection()  # built once
    # Only the step that would send the credentials is overridden.
    overridden = {n for n, v in vars(cls).items() if callable(v) and not n.startswith("__")}
    assert overridden == {"_request_authentication"}


# --- refusal recognition --------------------------------------------------------------------


def test_a_refused_login_is_recognised() -> None:
    assert adapter.is_auth_refused(pymysql.err.OperationalError(1045, DENIED)) is True


@pytest.mark.parametrize(
    "exc",
    [
        pymysql.err.OperationalError(adapter.NO_TLS, "the server offered no TLS"),
        pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'x'"),
        pymysql.err.OperationalError(1044, "Access denied for user 'app' to database 'x'"),
        pymysql.err.OperationalError(),
        pymysql.err.InternalError(1045, DENIED),
        pymysql.err.ProgrammingError(1045, DENIED),
        asyncmy.errors.OperationalError(1045, DENIED),  # asyncmy's, not aiomysql's
        ssl.SSLCertVerificationError("certificate verify failed"),
        Exception(1045, DENIED),
    ],
    ids=["no-tls", "2003", "1044", "no-args", "internal", "programming", "asyncmy", "tls", "other"],
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


# --- a missing driver -----------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_load")
def test_missing_aiomysql_names_the_extra(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "aiomysql", None)  # `import aiomysql` raises ImportError
    c = connector(ca_file, TOKEN)
    extra = r"pip install 'rds-iam-auth\[aiomysql\]'"
    with pytest.raises(DriverNotInstalledError, match=extra):
        c.async_creator(HOST, "app", driver="aiomysql", db="app")
    with pytest.raises(DriverNotInstalledError, match=extra) as info:
        asyncio.run(c.connect_async(HOST, "app", driver="aiomysql"))
    assert isinstance(info.value, ImportError)
    assert info.value.__context__ is None


@pytest.mark.usefixtures("fresh_load")
def test_an_aiomysql_below_the_floor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda d: "0.2.0" if d == "aiomysql" else real(d)
    )
    with pytest.raises(DriverNotInstalledError, match=r"aiomysql >= 0\.3 \(found 0\.2\.0\)"):
        adapter.load()
