"""The asyncpg adapter: exact keywords, what it refuses, address=, refusal recognition, a
missing driver (client certificates and the sync/async errors: test_driver_async_common.py).

The refusal tests use asyncpg's real exception classes with the fields measured on the
emulator (see the adapter's docstring); no test here dials.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import sys
from typing import Any

import asyncpg
import psycopg
import pytest
import trustme

from rds_iam_auth import ConfigurationError, DriverNotInstalledError
from rds_iam_auth._sslcontext import PinnedContext
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import asyncpg as adapter
from rds_iam_auth.tls import TlsSettings, context_for

from .async_driver_helpers import connector

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:5432/?Action=connect&DBUser=app&X-Amz-Signature=SECRETSIG"
_MEASURED = {"S": "FATAL", "V": "FATAL", "F": "auth.c", "L": "334", "R": "auth_failed"}
PAM_REFUSED = {**_MEASURED, "C": "28000", "M": 'PAM authentication failed for user "jane"'}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


def build(tls: TlsSettings, address: Address | None = None, **user_kwargs: Any) -> dict[str, Any]:
    return adapter.build_kwargs(
        host=HOST,
        port=5432,
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
    assert get_adapter("asyncpg") is adapter
    assert (adapter.NAME, adapter.DEFAULT_PORT, adapter.SUPPORTS_ADDRESS) == ("asyncpg", 5432, True)
    assert (adapter.SYNC, adapter.ASYNC, adapter.RESOLVES_ADDRESS) == (False, True, False)


def test_exact_kwargs(full: TlsSettings) -> None:
    kwargs = build(full)
    assert set(kwargs) == {"host", "port", "user", "password", "ssl", "direct_tls"}
    assert (kwargs["host"], kwargs["port"], kwargs["user"]) == (HOST, 5432, "app")
    assert kwargs["password"] == TOKEN
    assert kwargs["direct_tls"] is False  # never PGSSLNEGOTIATION's choice
    context = kwargs["ssl"]
    assert isinstance(context, PinnedContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.server_name == HOST
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1  # the CA file only, no system roots
    assert build(full)["ssl"] is context is context_for(full, HOST)
    with pytest.raises(AttributeError, match="read-only"):
        context.check_hostname = False


def test_verify_ca_skips_only_the_name_check(ca_file: str) -> None:
    context = build(TlsSettings("verify-ca", ca_file))["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_repr_hides_the_token(full: TlsSettings) -> None:
    kwargs = build(full, database="app")
    assert TOKEN not in repr(kwargs)
    assert TOKEN not in str(kwargs)
    assert "'database': 'app'" in repr(kwargs)


def test_allowed_keywords_pass_through(full: TlsSettings) -> None:
    settings = {"application_name": "svc", "search_path": "app"}
    kwargs = build(
        full,
        database="app",
        timeout=7.5,
        command_timeout=3,
        statement_cache_size=0,
        max_cached_statement_lifetime=0,
        max_cacheable_statement_size=1024,
        target_session_attrs="read-write",
        direct_tls=False,
        server_settings=settings,
        record_class=asyncpg.Record,
    )
    assert kwargs["database"] == "app"
    assert (kwargs["timeout"], kwargs["command_timeout"]) == (7.5, 3)
    assert kwargs["target_session_attrs"] == "read-write"
    assert kwargs["server_settings"] == settings
    assert kwargs["server_settings"] is not settings  # checked copy, not the caller's dict
    assert kwargs["record_class"] is asyncpg.Record
    assert kwargs["direct_tls"] is False


def test_every_keyword_of_the_installed_asyncpg_is_classified() -> None:
    # Fail closed: a release with a new connect keyword fails here until someone classifies it.
    keywords = set(inspect.signature(asyncpg.connect).parameters)
    unclassified = keywords - adapter.POLICY.allowed - set(adapter.POLICY.owned)
    assert not unclassified, f"classify these asyncpg keywords: {unclassified}"
    ours = {"sslcert", "sslkey", "sslpassword"}  # loaded into our context, never passed on
    assert adapter.POLICY.allowed - ours <= keywords


# --- owned, unknown and bad values -------------------------------------------------------------


OWNED_HINTS = {
    **dict.fromkeys(("host", "port", "user", "hostaddr"), "address="),
    **dict.fromkeys(("password", "passfile", "krbsrvname", "gsslib"), "IAM token"),
    **dict.fromkeys(("service", "servicefile"), "configuration file"),
    **dict.fromkeys(("ssl", "sslmode", "sslrootcert", "sslcrl"), "tls="),
    "dsn": "DSN string",
    "loop": "running event loop",
}


@pytest.mark.parametrize(("name", "points_to"), OWNED_HINTS.items())
def test_owned_keywords_are_refused_with_their_hint(
    full: TlsSettings, name: str, points_to: str
) -> None:
    message = refused(full, **{name: "x"})
    assert f"do not pass {name}=" in message
    assert points_to in message


@pytest.mark.parametrize(
    "value", [None, True, False, "disable", "prefer", "require", "verify-full", "lax", "system"]
)
def test_no_ssl_of_the_callers_is_accepted(full: TlsSettings, value: object) -> None:
    # "prefer" falls back to plaintext, "require" checks nothing, and a context of the
    # caller's could trust another CA or skip the name check.
    if value == "lax":
        value = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        value.check_hostname = False
        value.verify_mode = ssl.CERT_NONE
    elif value == "system":
        value = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        value.load_default_certs()
    message = refused(full, ssl=value)
    assert "tls=" in message
    assert "ca=" in message


@pytest.mark.parametrize("name", ["ssl ", "dbname", "DATABASE", "", "ssl_context", "sslmode "])
def test_unknown_names_are_refused_by_name(full: TlsSettings, name: str) -> None:
    message = refused(full, **{name: "x"})
    assert f"unknown or unsupported keyword {name!r}" in message
    assert "Accepted: command_timeout, connection_class, database" in message


def test_a_near_miss_suggests_the_keyword(full: TlsSettings) -> None:
    assert "did you mean 'database'" in refused(full, databse="app")
    assert "did you mean 'command_timeout'" in refused(full, comand_timeout=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"database": b"app"}, "database= must be a str"),
        ({"database": "app\x00user\x00postgres"}, "control character"),
        ({"target_session_attrs": "any\n"}, "control character"),
        ({"direct_tls": "yes"}, "direct_tls= must be True or False"),
        ({"direct_tls": 1}, "direct_tls= must be True or False"),
        ({"direct_tls": True}, "ALPN"),
        ({"server_settings": "search_path=app"}, "must be a dict of str to str"),
        ({"server_settings": {"search_path": 1}}, "must be a dict of str to str"),
        ({"server_settings": {1: "x"}}, "must be a dict of str to str"),
        ({"server_settings": {"a": "x\x00user\x00postgres"}}, "control character"),
        ({"server_settings": {"a\nb": "x"}}, "control character"),
        ({"server_settings": {"user": "postgres"}}, "signed for"),
        ({"server_settings": {"database": "other"}}, "pass database= instead"),
        ({"server_settings": {"replication": "database"}}, "replication protocol"),
        ({"server_settings": {"_pq_.command_tag": "x"}}, "protocol extension"),
        ({"sslcert": 5}, "sslcert= must be a str"),
        ({"sslcert": True}, "sslcert= must be a str"),
        ({"sslkey": "/k.pem"}, "need sslcert="),
        ({"sslpassword": "pw"}, "need sslcert="),
    ],
)
def test_bad_values_are_refused(full: TlsSettings, kwargs: dict[str, Any], message: str) -> None:
    assert message in refused(full, **kwargs)


# --- address= -----------------------------------------------------------------------------


@pytest.mark.parametrize("dial", [Address("127.0.0.1", 15432), Address("::1", 6432)])
def test_address_dials_elsewhere_and_verifies_the_endpoint(
    full: TlsSettings, dial: Address
) -> None:
    kwargs = build(full, dial)
    assert (kwargs["host"], kwargs["port"]) == (dial.host, dial.port)
    # asyncpg passes the dialled host as server_hostname; the context verifies HOST instead.
    assert kwargs["ssl"].server_name == HOST
    assert kwargs["ssl"].check_hostname is True


def test_address_through_the_connector(ca_file: str) -> None:
    with connector(ca_file, TOKEN) as c:
        kwargs = asyncio.run(
            c.connect_kwargs_async(HOST, "app", driver="asyncpg", address="bastion.internal:15432")
        )
        signed = asyncio.run(c.token_async(HOST, 5432, "app"))
    assert (kwargs["host"], kwargs["port"]) == ("bastion.internal", 15432)  # asyncpg resolves it
    assert kwargs["ssl"].server_name == HOST
    assert (signed.host, signed.port) == (HOST, 5432)


# --- refusal recognition --------------------------------------------------------------------


def test_a_refused_login_is_recognised() -> None:
    measured = asyncpg.PostgresError.new(PAM_REFUSED)
    assert type(measured) is asyncpg.InvalidAuthorizationSpecificationError
    assert adapter.is_auth_refused(measured) is True


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.PostgresError.new(
            {**PAM_REFUSED, "M": 'no pg_hba.conf entry for host "127.0.0.1", user "x"'}
        ),
        asyncpg.PostgresError.new({**PAM_REFUSED, "C": "28P01"}),  # InvalidPasswordError
        asyncpg.PostgresError.new({**PAM_REFUSED, "C": "3D000"}),
        psycopg.OperationalError(PAM_REFUSED["M"]),
        ConnectionError("rejected SSL upgrade"),
        ssl.SSLCertVerificationError("certificate verify failed"),
        Exception(PAM_REFUSED["M"]),
    ],
    ids=["pg_hba", "28P01", "3D000", "psycopg", "no-tls", "tls", "other"],
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


# --- a missing driver -----------------------------------------------------


def test_missing_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # `import asyncpg` raises ImportError
    c = connector(ca_file, TOKEN)
    extra = r"pip install 'rds-iam-auth\[asyncpg\]'"
    with pytest.raises(DriverNotInstalledError, match=extra):
        c.async_creator(HOST, "app", driver="asyncpg", database="app")
    with pytest.raises(DriverNotInstalledError, match=extra) as info:
        asyncio.run(c.connect_async(HOST, "app", driver="asyncpg"))
    assert isinstance(info.value, ImportError)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert adapter.is_auth_refused(Exception(PAM_REFUSED["M"])) is False


def test_an_asyncpg_below_the_floor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncpg, "__version__", "0.29.0")
    with pytest.raises(DriverNotInstalledError, match=r"asyncpg >= 0\.30 \(found 0\.29\.0\)"):
        adapter.load()
