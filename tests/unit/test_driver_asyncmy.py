"""The asyncmy adapter: exact keywords, what it refuses, address=, refusal recognition and a
missing driver (client certificates, sync/async errors: test_driver_async_common.py).

asyncmy raises its own exception classes (not PyMySQL's); the refusal tests use them with the
values measured on the emulator (``asyncmy.errors.OperationalError(1045, ...)``). No test here
dials.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import ssl
import sys
from collections.abc import Iterator
from typing import Any

import asyncmy
import asyncmy.connection
import asyncmy.cursors
import asyncmy.errors
import pymysql
import pytest
import trustme

from rds_iam_auth import ConfigurationError, DriverNotInstalledError
from rds_iam_auth._sslcontext import PinnedContext
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import asyncmy as adapter
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
    # load() caches the imported module (its version check reads package metadata).
    adapter.load.cache_clear()
    yield
    adapter.load.cache_clear()


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
    assert get_adapter("asyncmy") is adapter
    assert (adapter.NAME, adapter.DEFAULT_PORT, adapter.SUPPORTS_ADDRESS) == (
        "asyncmy",
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
        "database": "app",
        "charset": "utf8mb4",
        "sql_mode": "ANSI",
        "use_unicode": True,
        "client_flag": 0,
        "init_command": "SET time_zone = '+00:00'",
        "connect_timeout": 5,
        "read_timeout": 30,
        "autocommit": True,
        "local_infile": False,
        "max_allowed_packet": 1 << 20,
        "binary_prefix": False,
        "program_name": "svc",
        "echo": False,
        "stmt_cache_size": 16,
        "cursor_cls": asyncmy.cursors.DictCursor,
    }
    kwargs = build(full, **options)
    assert {k: kwargs[k] for k in options} == options
    assert build(full, db="app")["db"] == "app"  # asyncmy's deprecated alias


def test_every_keyword_of_the_installed_asyncmy_is_classified() -> None:
    # Fail closed: a release with a new Connection keyword fails here until it is classified.
    keywords = set(inspect.signature(asyncmy.connection.Connection.__init__).parameters)
    keywords.discard("self")
    assert keywords == set(inspect.signature(asyncmy.connect).parameters)
    unclassified = keywords - adapter.POLICY.allowed - set(adapter.POLICY.owned)
    assert not unclassified, f"classify these asyncmy keywords: {unclassified}"
    ours = {"ssl_cert", "ssl_key", "ssl_key_password"}  # loaded into our context
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


@pytest.mark.parametrize(
    "name", ["ssl ", "dbname", "DB", "", "cursorclass", "ssl_verify_identity "]
)
def test_unknown_names_are_refused_by_name(full: TlsSettings, name: str) -> None:
    message = refused(full, **{name: "x"})
    assert f"unknown or unsupported keyword {name!r}" in message
    assert "Accepted: autocommit, binary_prefix, charset, client_flag" in message


def test_a_near_miss_suggests_the_keyword(full: TlsSettings) -> None:
    assert "did you mean 'charset'" in refused(full, charsett="utf8mb4")
    assert "did you mean 'connect_timeout'" in refused(full, connect_timout=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"database": b"app"}, "database= must be a str"),
        ({"database": "app\x00"}, "control character"),
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
    # asyncmy passes the dialled host as server_hostname; the context verifies HOST instead.
    assert kwargs["ssl"].server_name == HOST
    assert kwargs["ssl"].check_hostname is True


# --- refusal recognition --------------------------------------------------------------------


def test_a_refused_login_is_recognised() -> None:
    assert adapter.is_auth_refused(asyncmy.errors.OperationalError(1045, DENIED)) is True


@pytest.mark.parametrize(
    "exc",
    [
        asyncmy.errors.OperationalError(2003, "Can't connect to MySQL server on 'x'"),
        asyncmy.errors.OperationalError(1044, "Access denied for user 'app' to database 'x'"),
        asyncmy.errors.OperationalError(),
        asyncmy.errors.InternalError(1045, DENIED),
        asyncmy.errors.ProgrammingError(1045, DENIED),
        pymysql.err.OperationalError(1045, DENIED),  # PyMySQL's (asyncmy), not asyncmy's
        ssl.SSLCertVerificationError("certificate verify failed"),
        Exception(1045, DENIED),
    ],
    ids=["2003", "1044", "no-args", "internal", "programming", "pymysql", "tls", "other"],
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


# --- a missing driver -----------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_load")
def test_missing_asyncmy_names_the_extra(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "asyncmy", None)  # `import asyncmy` raises ImportError
    c = connector(ca_file, TOKEN)
    extra = r"pip install 'rds-iam-auth\[asyncmy\]'"
    with pytest.raises(DriverNotInstalledError, match=extra):
        c.async_creator(HOST, "app", driver="asyncmy", database="app")
    with pytest.raises(DriverNotInstalledError, match=extra) as info:
        asyncio.run(c.connect_async(HOST, "app", driver="asyncmy"))
    assert isinstance(info.value, ImportError)
    assert info.value.__context__ is None


@pytest.mark.usefixtures("fresh_load")
def test_an_asyncmy_below_the_floor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda d: "0.1.9" if d == "asyncmy" else real(d)
    )
    with pytest.raises(DriverNotInstalledError, match=r"asyncmy >= 0\.2 \(found 0\.1\.9\)"):
        adapter.load()
