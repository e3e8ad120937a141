"""What the three asyncio adapters (asyncpg, aiomysql, asyncmy) share: a client certificate
is loaded into our verifying context (never passed to the driver), and the wrong shell is
refused with a ConfigurationError before anything is signed: ``connect()`` with an async-only
driver, ``connect_async()`` / ``async_creator()`` with a DB-API-only one.

Handshakes run over memory BIOs between our client context and a trustme server that demands
a client certificate: the server accepting it is the proof the certificate was presented.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from rds_iam_auth import ConfigurationError
from rds_iam_auth._sslcontext import PinnedContext
from rds_iam_auth.drivers import get_adapter
from rds_iam_auth.tls import TlsSettings, context_for

from .async_driver_helpers import connector
from .test_sslcontext import handshake

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = "secret-token-value"
# driver -> its (certificate, key, key password) keywords
CERT_KEYWORDS = {
    "asyncpg": ("sslcert", "sslkey", "sslpassword"),
    "aiomysql": ("ssl_cert", "ssl_key", "ssl_key_password"),
    "asyncmy": ("ssl_cert", "ssl_key", "ssl_key_password"),
}
ASYNC_ONLY = tuple(CERT_KEYWORDS)
SYNC_ONLY = ("pymysql", "psycopg2", "pg8000", "mysql.connector", "mysqlclient")
PASSWORD = "s3cret-key-pass"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _client_cert(tmp_path: Path, *, encrypted: bool) -> tuple[trustme.CA, str, str]:
    """A client certificate from a CA of its own: (that CA, cert path, key path)."""
    from cryptography.hazmat.primitives import serialization

    client_ca = trustme.CA()
    leaf = client_ca.issue_cert("app@client.example.test")
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    pkey = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    encryption = (
        serialization.BestAvailableEncryption(PASSWORD.encode())
        if encrypted
        else serialization.NoEncryption()
    )
    key.write_bytes(
        pkey.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return client_ca, str(cert), str(key)


def _server_requiring(ca: trustme.CA, client_ca: trustme.CA) -> ssl.SSLContext:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(HOST).configure_cert(server)
    server.verify_mode = ssl.CERT_REQUIRED
    client_ca.configure_trust(server)
    return server


def _build(driver: str, ca_file: str, **user_kwargs: Any) -> dict[str, Any]:
    return get_adapter(driver).build_kwargs(
        host=HOST,
        port=get_adapter(driver).DEFAULT_PORT,
        user="app",
        password=TOKEN,
        tls=TlsSettings("verify-full", ca_file),
        address=None,
        user_kwargs=user_kwargs,
    )


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain-key", "encrypted-key"])
@pytest.mark.parametrize("driver", ASYNC_ONLY)
def test_a_client_certificate_is_presented_by_our_context(
    driver: str, encrypted: bool, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    cert_kw, key_kw, password_kw = CERT_KEYWORDS[driver]
    client_ca, cert, key = _client_cert(tmp_path, encrypted=encrypted)
    given = {cert_kw: cert, key_kw: key, **({password_kw: PASSWORD} if encrypted else {})}
    kwargs = _build(driver, ca_file, **given)
    assert not set(given) & set(kwargs), "the certificate keywords went to the driver"
    context = kwargs["ssl"]
    assert isinstance(context, PinnedContext)
    assert context is not context_for(TlsSettings("verify-full", ca_file), HOST)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.server_name == HOST
    server = _server_requiring(ca, client_ca)
    handshake(context, server, "dialled.example")  # the server accepted our certificate
    with pytest.raises(ssl.SSLError):  # and refuses a client without one
        handshake(_build(driver, ca_file)["ssl"], server, HOST)
    assert _build(driver, ca_file, **given)["ssl"] is context  # shared, being read-only


@pytest.mark.parametrize("driver", ASYNC_ONLY)
def test_an_unloadable_client_key_is_named_without_its_password(
    driver: str, ca_file: str, tmp_path: Path
) -> None:
    cert_kw, key_kw, password_kw = CERT_KEYWORDS[driver]
    _client_ca, cert, key = _client_cert(tmp_path, encrypted=True)
    with pytest.raises(ConfigurationError) as info:
        _build(driver, ca_file, **{cert_kw: cert, key_kw: key, password_kw: "wrong-pass"})
    message = str(info.value)
    assert "cannot load the client certificate" in message
    assert cert in message
    assert "wrong-pass" not in message
    assert info.value.__context__ is None
    with pytest.raises(ConfigurationError, match="cannot read ssl_cert"):
        _build(driver, ca_file, **{cert_kw: str(tmp_path / "missing.crt")})


@pytest.mark.parametrize("value", [5, True, 1.5, b"/c.pem", ["/c.pem"]])
@pytest.mark.parametrize("driver", ASYNC_ONLY)
def test_client_certificate_values_must_be_strings(
    driver: str, value: object, ca_file: str
) -> None:
    # os.stat() takes an int as a file descriptor: 5 (or True, i.e. 1) would stat stdout.
    for keyword in CERT_KEYWORDS[driver]:
        extra = {} if keyword == CERT_KEYWORDS[driver][0] else {CERT_KEYWORDS[driver][0]: "/c"}
        with pytest.raises(ConfigurationError, match=f"{keyword}= must be a"):
            _build(driver, ca_file, **extra, **{keyword: value})


@pytest.mark.parametrize("driver", ASYNC_ONLY)
def test_key_without_a_certificate_is_refused(driver: str, ca_file: str) -> None:
    _cert_kw, key_kw, password_kw = CERT_KEYWORDS[driver]
    for keyword in (key_kw, password_kw):
        with pytest.raises(ConfigurationError, match="need"):
            _build(driver, ca_file, **{keyword: "x"})


@pytest.mark.parametrize("driver", ASYNC_ONLY)
def test_connect_refuses_an_async_only_driver_before_signing(driver: str, ca_file: str) -> None:
    c = connector(ca_file)
    message = r"is asynchronous: use await connect_async"
    with pytest.raises(ConfigurationError, match=message):
        c.connect(HOST, "app", driver=driver)
    with pytest.raises(ConfigurationError, match="is asynchronous: use async_creator"):
        c.creator(HOST, "app", driver=driver)  # refused when built, not in the pool
    assert c.stats.signings == 0


@pytest.mark.parametrize("driver", SYNC_ONLY)
def test_connect_async_refuses_a_sync_only_driver_before_signing(driver: str, ca_file: str) -> None:
    c = connector(ca_file)
    message = r"has no asyncio API.*asyncpg, psycopg, aiomysql, asyncmy"
    with pytest.raises(ConfigurationError, match=message):
        asyncio.run(c.connect_async(HOST, "app", driver=driver))
    with pytest.raises(ConfigurationError, match=message):
        c.async_creator(HOST, "app", driver=driver)
    assert c.stats.signings == 0


def test_an_unknown_driver_is_named(ca_file: str) -> None:
    with pytest.raises(ConfigurationError, match=r"driver must be one of .*'asyncmy'"):
        asyncio.run(connector(ca_file).connect_async(HOST, "app", driver="aiopg"))
