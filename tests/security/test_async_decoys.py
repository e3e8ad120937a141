"""``connect_async`` hands the token to no impostor, with any of the four asyncio drivers.

Each decoy (see ``decoys.py``) records what it received: a plaintext server, one with a
certificate for another name, one with a certificate from an untrusted CA. The good decoy (the
trusted CA, the right name) must receive the token, inside TLS, so the refusals are not
vacuous. The last tests show what each driver does on its own with the same impostors: why
aiomysql needs the adapter's TLS-only Connection subclass and why ``ssl=`` is the connector's.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiomysql
import asyncmy
import asyncmy.errors
import asyncpg
import psycopg
import pymysql
import pytest

import rds_iam_auth
import rds_iam_auth._default
from rds_iam_auth import Connector

from ._async_common import (
    ASYNC_DRIVERS,
    MYSQL_DRIVERS,
    assert_async_refused,
    async_connect_to,
    run,
)
from ._common import TOKEN, USER, Kit, assert_no_leak
from .decoys import ATTACK_MODES, Decoy

DRIVERS = sorted(ASYNC_DRIVERS)
REFUSED_BY_THE_GOOD_DECOY: dict[str, tuple[type[BaseException], str]] = {
    # The decoy answers a password with FATAL 28P01 (PostgreSQL) or error 1045 (MySQL).
    "asyncpg": (asyncpg.InvalidPasswordError, "password authentication failed"),
    "psycopg": (psycopg.OperationalError, "password authentication failed"),
    "aiomysql": (pymysql.err.OperationalError, "Access denied"),
    "asyncmy": (asyncmy.errors.OperationalError, "Access denied"),
}


def _verifying_context(ca: str, *, check_hostname: bool = True) -> ssl.SSLContext:
    # Not ssl.create_default_context(): that would honour SSLKEYLOGFILE.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca)
    context.check_hostname = check_hostname
    return context


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("driver", DRIVERS)
def test_an_impostor_never_receives_the_token(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy(ASYNC_DRIVERS[driver], mode)
    assert_async_refused(async_connect_to(kit.connector, decoy, driver), decoy)
    assert decoy.connections >= 1, "the driver never dialled the decoy"
    # Not even the login's first message (the user name) reached it.
    assert decoy.startups == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_good_server_receives_the_token_inside_tls(kit: Kit, driver: str) -> None:
    decoy = kit.decoy(ASYNC_DRIVERS[driver], "good")
    error_type, text = REFUSED_BY_THE_GOOD_DECOY[driver]
    with pytest.raises(error_type, match=text):
        run(kit.connector.connect_async(decoy.host, USER, driver=driver, port=decoy.port))
    assert decoy.passwords
    assert set(decoy.passwords) == {TOKEN}
    # Every login ran inside a completed TLS handshake (MySQL's 1045 is retried once).
    assert decoy.tls_handshakes_completed == decoy.connections == len(decoy.passwords)
    assert [s["user"] for s in decoy.startups] == [USER] * len(decoy.passwords)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("driver", DRIVERS)
def test_async_creator_refuses_an_impostor(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy(ASYNC_DRIVERS[driver], mode)
    create = kit.connector.async_creator(decoy.host, USER, driver=driver, port=decoy.port)
    assert_async_refused(create, decoy)
    assert_async_refused(create, decoy)  # a pool calls it again: still nothing
    assert decoy.connections >= 2


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_default_connector_refuses_an_impostor(
    kit: Kit, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rds_iam_auth.connect_async goes through the process-wide default Connector.
    monkeypatch.setattr("rds_iam_auth._default._default_connector", kit.connector)
    for mode in ATTACK_MODES:
        decoy = kit.decoy(ASYNC_DRIVERS[driver], mode)

        def attempt(decoy: Decoy = decoy) -> Any:
            return rds_iam_auth.connect_async(decoy.host, USER, driver=driver, port=decoy.port)

        assert_async_refused(attempt, decoy)


@pytest.mark.parametrize("driver", DRIVERS)
def test_verify_ca_skips_the_name_check_only(kit: Kit, driver: str) -> None:
    # tls="verify-ca" is the one way to relax verification: a trusted certificate for another
    # name then gets the token, a certificate from an untrusted CA (or no TLS) still does not.
    protocol = ASYNC_DRIVERS[driver]
    with Connector(
        signer=kit.signer, ca=kit.pki.trusted_ca_path, region="us-east-1", tls="verify-ca"
    ) as connector:
        for mode in ("plaintext", "untrusted"):
            decoy = kit.decoy(protocol, mode)
            assert_async_refused(async_connect_to(connector, decoy, driver), decoy)
        named_otherwise = kit.decoy(protocol, "wrong-name")
        error_type, _text = REFUSED_BY_THE_GOOD_DECOY[driver]
        with pytest.raises(error_type):
            run(async_connect_to(connector, named_otherwise, driver)())
    assert TOKEN in named_otherwise.passwords
    assert named_otherwise.tls_handshakes_completed == named_otherwise.connections


# --- what the drivers do on their own ---------------------------------------------------------


def test_plain_aiomysql_sends_the_token_to_a_server_without_tls(kit: Kit) -> None:
    # Why the aiomysql adapter opens its own Connection subclass: aiomysql 0.3.2 upgrades to
    # TLS only if the server offers it, so a verifying ssl= context does not stop it from
    # sending the password in clear to a server that offers no TLS.
    decoy = kit.decoy("mysql", "plaintext")
    context = _verifying_context(kit.pki.trusted_ca_path)
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        run(
            aiomysql.connect(
                host=decoy.host,
                port=decoy.port,
                user=USER,
                password=TOKEN,
                ssl=context,
                connect_timeout=5,
            )
        )
    assert decoy.passwords == [TOKEN]
    assert decoy.tls_handshakes_completed == 0
    # Through the connector, the same server gets nothing.
    guarded = kit.decoy("mysql", "plaintext")
    error = assert_async_refused(async_connect_to(kit.connector, guarded, "aiomysql"), guarded)
    assert isinstance(error, pymysql.err.OperationalError)
    assert error.args[0] == 2026
    assert "offered no TLS" in error.args[1]
    assert guarded.auth_responses == []


@pytest.mark.parametrize("driver", MYSQL_DRIVERS)
def test_mysql_drivers_with_a_lax_context_send_the_token_to_a_wrong_name(
    kit: Kit, driver: str
) -> None:
    # Why a caller's ssl= is refused: a context without the name check accepts any
    # certificate from a trusted CA.
    decoy = kit.decoy("mysql", "wrong-name")
    lax = _verifying_context(kit.pki.trusted_ca_path, check_hostname=False)
    module: Any = aiomysql if driver == "aiomysql" else asyncmy
    with pytest.raises((pymysql.err.OperationalError, asyncmy.errors.OperationalError)):
        run(module.connect(host=decoy.host, port=decoy.port, user=USER, password=TOKEN, ssl=lax))
    assert decoy.passwords == [TOKEN]


def test_plain_asyncmy_with_a_context_refuses_a_server_without_tls(kit: Kit) -> None:
    # Why asyncmy needs no subclass: with any ssl= context it sends the TLS request whatever
    # the server offers, and the handshake fails before the password would go out.
    decoy = kit.decoy("mysql", "plaintext")
    context = _verifying_context(kit.pki.trusted_ca_path)
    with pytest.raises(asyncmy.errors.OperationalError):
        run(
            asyncmy.connect(
                host=decoy.host, port=decoy.port, user=USER, password=TOKEN, ssl=context
            )
        )
    assert_no_leak(decoy)
    assert decoy.auth_responses == []


@pytest.mark.parametrize(
    ("mode", "ssl_setting"),
    [("plaintext", None), ("plaintext", "prefer"), ("wrong-name", "require"), ("untrusted", "lax")],
)
def test_asyncpg_on_its_own_hands_the_decoys_the_token(
    kit: Kit, mode: str, ssl_setting: Any
) -> None:
    # Why ssl= is the connector's: asyncpg's default (sslmode=prefer) falls back to plaintext,
    # "require" checks nothing, and a context without a CA check trusts any certificate.
    decoy = kit.decoy("pg", mode)
    if ssl_setting == "lax":
        ssl_setting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ssl_setting.check_hostname = False
        ssl_setting.verify_mode = ssl.CERT_NONE
    with pytest.raises(asyncpg.InvalidPasswordError):
        run(
            asyncpg.connect(
                host=decoy.host,
                port=decoy.port,
                user=USER,
                password=TOKEN,
                database="app",
                ssl=ssl_setting,
                timeout=5,
            )
        )
    assert decoy.passwords == [TOKEN]


def test_plain_asyncpg_with_a_context_refuses_a_server_without_tls(kit: Kit) -> None:
    # With an SSLContext asyncpg requires TLS (no plaintext fallback): the adapter relies on it.
    decoy = kit.decoy("pg", "plaintext")
    context = _verifying_context(kit.pki.trusted_ca_path)
    with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
        run(
            asyncpg.connect(
                host=decoy.host, port=decoy.port, user=USER, password=TOKEN, ssl=context
            )
        )
    assert_no_leak(decoy)
    assert decoy.startups == []
