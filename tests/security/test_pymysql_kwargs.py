"""No PyMySQL keyword, option file or SSL context gets the token to a decoy or logs its keys.

PyMySQL turns ``ssl_*`` keywords and ``ssl`` dicts into contexts that often verify nothing
(``ssl_ca`` alone means CERT_NONE), reads ``host``/``port``/``socket`` and ``ssl-*`` from an
option file (``read_default_file``), and uses whatever ``ssl=`` context it is given as is. Each
case must be refused (``ConfigurationError``) or stay harmless (the decoy gets nothing).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ._common import USER, Kit, assert_attempt_refused, assert_empty, connect_to, unverified_context
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

Build = Callable[[Kit, Decoy], dict[str, Any]]


def _context(ca: str, *, check_hostname: bool = True, keylog: Path | None = None) -> Any:
    """A verifying client context (``ca="system"``: the OS trust store)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca == "system":
        context.load_default_certs()
    else:
        context.load_verify_locations(ca)
    context.check_hostname = check_hostname
    if keylog is not None:
        context.keylog_filename = str(keylog)
    return context


def _my_cnf(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    path = kit.tmp_path / "my.cnf"
    path.write_text(
        "[client]\n"
        "host=127.0.0.1\n"
        f"port={decoy.port}\n"
        f"ssl-ca={kit.rogue_ca}\n"
        "ssl-verify-server-cert=0\n"
        "ssl-disabled=1\n"
        "password=not-the-token\n"
    )
    return {"read_default_file": str(path), "read_default_group": "client"}


def _plain_cnf(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    path = kit.tmp_path / "plain.cnf"
    path.write_text(f"[client]\nhost=127.0.0.1\nport={decoy.port}\nssl-disabled=1\n")
    return {"read_default_file": str(path)}


def _p(build: Build, id: str) -> Any:
    return pytest.param(build, id=id)


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return _p(lambda _kit, _decoy: kwargs, id)


ATTACKS = [
    _fixed({"ssl_disabled": True}, "ssl_disabled"),
    _fixed({"ssl_verify_cert": False}, "ssl_verify_cert=False"),
    _fixed({"ssl_verify_identity": False}, "ssl_verify_identity=False"),
    _p(lambda k, _d: {"ssl_ca": k.rogue_ca}, "ssl_ca=rogue"),
    _p(lambda k, _d: {"ssl_ca": k.pki.trusted_ca_path}, "ssl_ca=trusted-alone-is-CERT_NONE"),
    _p(lambda k, _d: {"ssl_capath": str(k.tmp_path)}, "ssl_capath"),
    _p(lambda k, _d: {"ssl": {"ca": k.rogue_ca}}, "ssl-dict-rogue"),
    _p(lambda k, _d: {"ssl": {"ca": k.pki.trusted_ca_path, "check_hostname": False}}, "ssl-dict"),
    _fixed({"ssl": {}}, "ssl={}"),
    _fixed({"ssl": True}, "ssl=True"),
    _fixed({"ssl": False}, "ssl=False"),
    _p(lambda _k, _d: {"ssl": unverified_context()}, "ssl=CERT_NONE-context"),
    _p(lambda k, _d: {"ssl": _context(k.rogue_ca)}, "ssl=verifying-rogue-context"),
    _p(
        lambda k, _d: {"ssl": _context(k.pki.trusted_ca_path, check_hostname=False)},
        "ssl=no-hostname-check-context",
    ),
    _p(lambda _k, _d: {"ssl": _context("system")}, "ssl=system-trust-context"),
    _p(_my_cnf, "read_default_file"),
    _p(_plain_cnf, "read_default_file-no-group"),
    _fixed({"unix_socket": "/nonexistent/decoy.sock"}, "unix_socket"),
    _fixed({"passwd": "not-the-token"}, "passwd"),
    _fixed({"bind_address": "127.0.0.1"}, "bind_address"),
    _fixed({"local_infile": True}, "local_infile"),
    _fixed({"client_flag": 0}, "client_flag=0"),
    _p(lambda _k, _d: {"ssl ": unverified_context()}, "'ssl '"),
    _fixed({"ssl_disabled ": True}, "'ssl_disabled '"),
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS)
def test_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    attempt = connect_to(kit.connector, decoy, "pymysql", **build(kit, decoy))
    assert_attempt_refused(attempt, decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_keylog_context_never_writes_tls_keys(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    context = _context(kit.pki.trusted_ca_path, keylog=kit.keylog)
    attempt = connect_to(kit.connector, decoy, "pymysql", ssl=context)
    assert_attempt_refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)


@pytest.mark.parametrize("unix_mode", ["plaintext", "good"])
def test_option_file_cannot_move_the_connection_to_a_unix_socket(kit: Kit, unix_mode: str) -> None:
    # PyMySQL takes socket= from the option file when unix_socket= was not passed, and then
    # never dials host:port. A good decoy there even passes TLS verification for 127.0.0.1.
    target = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", unix_mode, unix=True)
    cnf = kit.tmp_path / "socket.cnf"
    cnf.write_text(f"[client]\nsocket={unix.unix_path}\n")
    attempt = connect_to(kit.connector, target, "pymysql", read_default_file=str(cnf))
    assert_attempt_refused(attempt, unix)
    assert unix.connections == 0, "the option file moved the connection"


@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_defer_connect_then_connect_never_leaks(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)

    def attempt() -> Any:
        conn = kit.connector.connect(
            decoy.host, USER, driver="pymysql", port=decoy.port, defer_connect=True
        )
        conn.connect()  # PyMySQL closes its socket itself when this fails
        return conn

    assert_attempt_refused(attempt, decoy)
