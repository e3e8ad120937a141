"""The decoys are real: a client that does not verify TLS hands each of them the token.

Every other test in this directory asserts that a decoy received nothing; these tests are why
that means something. Each mode also passes exactly the check it claims to fail (a wrong-name
decoy passes a chain-only check, an untrusted decoy passes a check against the rogue CA), and
the library's own positive path reaches the ``good`` decoys.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ._common import (
    REFUSALS,
    TOKEN,
    USER,
    Kit,
    assert_no_leak,
    psycopg,
    pymysql,
    unverified_context,
)
from .decoys import ATTACK_MODES, MODES, Decoy

TLS_MODES = [m for m in MODES if m != "plaintext"]
PG_UNVERIFIED = [
    ("plaintext", {"sslmode": "prefer"}),
    ("plaintext", {"sslmode": "allow"}),
    ("plaintext", {"sslmode": "disable"}),
    *[(m, {"sslmode": "prefer"}) for m in TLS_MODES],
    *[(m, {"sslmode": "require"}) for m in TLS_MODES],
    *[(m, {"sslmode": "require", "sslnegotiation": "direct"}) for m in TLS_MODES],
]
CLAIMS = [
    # (mode, CA the client trusts, check the host name?, does the decoy get the token?)
    ("wrong-name", "trusted", False, True),  # the chain is fine: only the name is wrong
    ("wrong-name", "trusted", True, False),
    ("untrusted", "rogue", True, True),  # the name is fine: only the issuer is wrong
    ("untrusted", "trusted", True, False),
    ("untrusted", "trusted", False, False),
    ("good", "trusted", True, True),
]


def _raw_pg(decoy: Decoy, **kwargs: Any) -> Any:
    return psycopg.connect(
        host=decoy.host,
        port=decoy.port,
        user=USER,
        password=TOKEN,
        gssencmode="disable",
        connect_timeout=5,
        **kwargs,
    )


def _raw_mysql(decoy: Decoy, **kwargs: Any) -> Any:
    return pymysql.connect(host=decoy.host, port=decoy.port, user=USER, password=TOKEN, **kwargs)


def _refused_by_the_decoy(protocol: str, attempt: Callable[[], Any]) -> None:
    """The attempt got as far as the password: the decoy's own login refusal came back."""
    if protocol == "pg":
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            attempt()
    else:
        with pytest.raises(pymysql.err.OperationalError) as info:
            attempt()
        assert info.value.args[0] == 1045


def _verifying(ca_path: str, *, check_hostname: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca_path)
    context.check_hostname = check_hostname
    return context


@pytest.mark.parametrize(("mode", "options"), PG_UNVERIFIED)
def test_pg_decoy_takes_the_token_from_an_unverified_client(
    kit: Kit, mode: str, options: dict[str, str]
) -> None:
    decoy = kit.decoy("pg", mode)
    _refused_by_the_decoy("pg", lambda: _raw_pg(decoy, **options))
    assert TOKEN in decoy.passwords
    assert decoy.startups[0]["user"] == USER
    assert (decoy.tls_handshakes_completed >= 1) == (mode != "plaintext")


@pytest.mark.parametrize("mode", MODES)
def test_mysql_decoy_takes_the_token_from_an_unverified_client(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    # Plaintext: no ssl argument at all (PyMySQL then uses TLS only if the server offers it).
    options = {} if mode == "plaintext" else {"ssl": unverified_context()}
    _refused_by_the_decoy("mysql", lambda: _raw_mysql(decoy, **options))
    assert decoy.passwords == [TOKEN]
    assert len(decoy.auth_responses[0]) == 20  # the native-password scramble came first
    assert decoy.tls_handshakes_completed == (0 if mode == "plaintext" else 1)


def test_mysql_decoy_on_a_unix_socket(kit: Kit) -> None:
    decoy = kit.decoy("mysql", "plaintext", unix=True)
    _refused_by_the_decoy(
        "mysql", lambda: pymysql.connect(unix_socket=decoy.unix_path, user=USER, password=TOKEN)
    )
    assert decoy.passwords == [TOKEN]


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2] and 'name'}")
@pytest.mark.parametrize("protocol", ["pg", "mysql"])
def test_each_mode_fails_exactly_the_check_it_claims(
    kit: Kit, protocol: str, claim: tuple[str, str, bool, bool]
) -> None:
    mode, trust, check_hostname, leaks = claim
    decoy = kit.decoy(protocol, mode)
    ca = kit.pki.trusted_ca_path if trust == "trusted" else kit.rogue_ca
    if protocol == "pg":
        sslmode = "verify-full" if check_hostname else "verify-ca"
        attempt: Any = lambda: _raw_pg(decoy, sslmode=sslmode, sslrootcert=ca)  # noqa: E731
    else:
        context = _verifying(ca, check_hostname=check_hostname)
        attempt = lambda: _raw_mysql(decoy, ssl=context)  # noqa: E731
    if leaks:
        _refused_by_the_decoy(protocol, attempt)
        assert TOKEN in decoy.passwords
    else:
        with pytest.raises(REFUSALS):
            attempt()
        assert decoy.connections >= 1
        assert_no_leak(decoy)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_library_positive_path_reaches_the_good_decoy(kit: Kit, driver: str) -> None:
    decoy = kit.decoy("pg" if driver == "psycopg" else "mysql", "good")
    with pytest.raises(REFUSALS):
        kit.connector.connect(decoy.host, USER, driver=driver, port=decoy.port)
    # PyMySQL's 1045 makes the connector retry once, with the same (static) token.
    assert decoy.passwords
    assert set(decoy.passwords) == {TOKEN}
    assert decoy.tls_handshakes_completed == len(decoy.passwords)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_library_default_path_refuses_every_decoy(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy("pg" if driver == "psycopg" else "mysql", mode)
    with pytest.raises(REFUSALS):
        kit.connector.connect(decoy.host, USER, driver=driver, port=decoy.port)
    assert decoy.connections >= 1  # it did dial the decoy: the refusal is TLS, not a typo
    assert_no_leak(decoy)


def test_decoy_bounds_connections_and_joins_its_threads(kit: Kit) -> None:
    before = threading.active_count()
    decoy = kit.decoy("pg", "plaintext", max_connections=2)
    idle = [socket.create_connection((decoy.host, decoy.port), timeout=5) for _ in range(3)]
    try:
        assert idle[2].recv(1) == b""  # the third is closed unanswered
        decoy.close()  # interrupts the two handlers still waiting for a startup packet
    finally:
        for sock in idle:
            sock.close()
    assert decoy.connections == 3
    assert threading.active_count() == before
