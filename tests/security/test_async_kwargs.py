"""No keyword of an asyncio driver gets the token to a decoy or writes TLS session keys.

asyncpg takes ``ssl`` as a mode string (``"prefer"`` falls back to plaintext, ``"require"``
checks nothing), a bool or any context, a ``dsn`` or ``service`` that can name another host
and TLS mode, and ``server_settings`` it writes into the startup packet. aiomysql and asyncmy
take PyMySQL's ``ssl`` forms, option files (``read_default_file``; asyncmy reads
``/etc/my.cnf`` for a bare ``read_default_group``), a ready socket (``sock``), a password
callback and an auth plugin. psycopg's ``AsyncConnection`` gets the sync attacks. Each keyword
the connector owns is refused before anything is dialled; each it passes on must stay harmless.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rds_iam_auth import ConfigurationError

from ._async_common import MYSQL_DRIVERS, assert_async_refused, async_connect_to
from ._common import Kit, assert_empty, unverified_context
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy
from .test_psycopg_kwargs import ATTACKS as PSYCOPG_ATTACKS
from .test_psycopg_kwargs import KEYLOG_ATTACKS as PSYCOPG_KEYLOG_ATTACKS

Build = Callable[[Kit, Decoy], dict[str, Any]]


def _context(ca: str | None, *, check_hostname: bool = True, keylog: Path | None = None) -> Any:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is None:
        context.load_default_certs()
    else:
        context.load_verify_locations(ca)
    context.check_hostname = check_hostname
    if keylog is not None:
        context.keylog_filename = str(keylog)
    return context


def _p(build: Build, id: str) -> Any:
    return pytest.param(build, id=id)


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return _p(lambda _kit, _decoy: kwargs, id)


def _dsn(query: str) -> Build:
    return lambda _k, d: {"dsn": f"postgresql://app@127.0.0.1:{d.port}/app?{query}"}


def _service_file(kit: Kit, decoy: Decoy) -> str:
    path = kit.tmp_path / "pg_service.conf"
    path.write_text(f"[decoy]\nhost=127.0.0.1\nport={decoy.port}\nsslmode=disable\n")
    return str(path)


def _my_cnf(kit: Kit, decoy: Decoy) -> str:
    path = kit.tmp_path / "my.cnf"
    path.write_text(
        f"[client]\nhost=127.0.0.1\nport={decoy.port}\nssl-ca={kit.rogue_ca}\npassword=x\n"
    )
    return str(path)


_CONTEXTS = [
    _p(lambda _k, _d: {"ssl": unverified_context()}, "ssl=CERT_NONE-context"),
    _p(lambda k, _d: {"ssl": _context(k.rogue_ca)}, "ssl=rogue-CA-context"),
    _p(lambda k, _d: {"ssl": _context(k.pki.trusted_ca_path, check_hostname=False)}, "no-name"),
    _p(lambda _k, _d: {"ssl": _context(None)}, "ssl=system-trust-context"),
    _p(lambda _k, _d: {"ssl ": unverified_context()}, "'ssl '"),
    *(_fixed({"ssl": v}, f"ssl={v!r}") for v in (True, False, None)),
]

ASYNCPG_OWNED = [
    *_CONTEXTS,
    *(_fixed({"ssl": v}, f"ssl={v}") for v in ("disable", "allow", "prefer", "require")),
    _fixed({"sslmode": "disable"}, "sslmode"),
    _p(lambda k, _d: {"sslrootcert": k.rogue_ca}, "sslrootcert"),
    _p(_dsn("sslmode=disable"), "dsn-sslmode"),
    _p(_dsn("sslmode=verify-full&sslrootcert=/nonexistent"), "dsn-rootcert"),
    _p(_dsn("service=decoy"), "dsn-service"),
    _fixed({"service": "decoy"}, "service"),
    _p(lambda k, d: {"servicefile": _service_file(k, d), "service": "decoy"}, "servicefile"),
    _p(lambda k, _d: {"passfile": str(k.tmp_path / "pgpass")}, "passfile"),
    _fixed({"direct_tls": True}, "direct_tls=True"),
    _fixed({"direct_tls": "yes"}, "direct_tls=yes"),
    _fixed({"krbsrvname": "postgres"}, "krbsrvname"),
    _fixed({"gsslib": "gssapi"}, "gsslib"),
    _fixed({"loop": None}, "loop"),
    _fixed({"hostaddr": "127.0.0.1"}, "hostaddr"),
    _fixed({"host ": "127.0.0.1"}, "'host '"),
    _fixed({"password": "not-the-token"}, "password"),
    _fixed({"server_settings": {"user": "postgres"}}, "server_settings-user"),
    _fixed({"server_settings": {"database": "postgres"}}, "server_settings-database"),
    _fixed({"server_settings": {"_pq_.x": "1"}}, "server_settings-_pq_"),
    _fixed({"server_settings": {"replication": "database"}}, "server_settings-replication"),
    _fixed({"server_settings": {"a": "x\x00user\x00postgres"}}, "server_settings-NUL"),
    _fixed({"database": "app\x00user\x00postgres"}, "database-NUL"),
    _fixed({"sslcert": 5}, "sslcert=fd"),
]
"""Refused before anything is dialled."""

ASYNCPG_ALLOWED = [
    _fixed({"server_settings": {"sslmode": "disable", "options": "-c ssl=off"}}, "settings"),
    _fixed({"target_session_attrs": "prefer-standby"}, "target_session_attrs"),
    _fixed({"direct_tls": False, "timeout": 5, "database": "app"}, "direct_tls=False"),
    _fixed({"statement_cache_size": 0, "command_timeout": 1}, "statements"),
]
"""Passed to asyncpg: they must change nothing about TLS."""

MYSQL_OWNED = [
    *_CONTEXTS,
    _fixed({"ssl_disabled": True}, "ssl_disabled"),
    _fixed({"ssl_verify_cert": False}, "ssl_verify_cert=False"),
    _fixed({"ssl_verify_identity": False}, "ssl_verify_identity=False"),
    _p(lambda k, _d: {"ssl_ca": k.rogue_ca}, "ssl_ca"),
    _p(lambda k, _d: {"ssl": {"ca": k.rogue_ca}}, "ssl-dict"),
    _fixed({"ssl": {}}, "ssl={}"),
    _p(lambda k, d: {"read_default_file": _my_cnf(k, d)}, "read_default_file"),
    _fixed({"read_default_group": "client"}, "read_default_group-reads-/etc/my.cnf"),
    _fixed({"unix_socket": "/nonexistent/decoy.sock"}, "unix_socket"),
    _fixed({"passwd": "not-the-token"}, "passwd"),
    _fixed({"password_creator": lambda: "not-the-token"}, "password_creator"),
    _fixed({"auth_plugin": "mysql_clear_password"}, "auth_plugin"),
    _fixed({"auth_plugin_map": {}}, "auth_plugin_map"),
    _fixed({"server_public_key": b"x"}, "server_public_key"),
    _fixed({"defer_connect": True}, "defer_connect"),
    _fixed({"loop": None}, "loop"),
    _fixed({"port ": 1, "user ": "root"}, "'port '"),
    _fixed({"ssl_disabled ": True}, "'ssl_disabled '"),
    _fixed({"ssl_cert": 5}, "ssl_cert=fd"),
    _fixed({"client_flag": "0"}, "client_flag=str"),
    _fixed({"init_command": "SET x=1\x00"}, "init_command-NUL"),
]

MYSQL_ALLOWED = [
    _fixed({"local_infile": True, "client_flag": 0}, "local_infile,client_flag=0"),
    _fixed({"connect_timeout": 5, "charset": "utf8mb4", "autocommit": True}, "options"),
    _fixed({"program_name": "svc", "init_command": "SET x=1"}, "program_name,init_command"),
    _fixed({"database": "app"}, "database"),
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ASYNCPG_OWNED)
def test_asyncpg_owned_keyword_is_refused_before_dialling(
    kit: Kit, build: Build, mode: str
) -> None:
    decoy = kit.decoy("pg", mode)
    attempt = async_connect_to(kit.connector, decoy, "asyncpg", **build(kit, decoy))
    assert isinstance(assert_async_refused(attempt, decoy), ConfigurationError)
    assert decoy.connections == 0


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ASYNCPG_ALLOWED)
def test_asyncpg_allowed_keyword_never_leaks(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    attempt = async_connect_to(kit.connector, decoy, "asyncpg", **build(kit, decoy))
    assert not isinstance(assert_async_refused(attempt, decoy), ConfigurationError)
    assert decoy.connections >= 1  # it was asyncpg that refused the decoy


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", MYSQL_OWNED)
@pytest.mark.parametrize("driver", MYSQL_DRIVERS)
def test_mysql_owned_keyword_is_refused_before_dialling(
    kit: Kit, driver: str, build: Build, mode: str
) -> None:
    decoy = kit.decoy("mysql", mode)
    attempt = async_connect_to(kit.connector, decoy, driver, **build(kit, decoy))
    assert isinstance(assert_async_refused(attempt, decoy), ConfigurationError)
    assert decoy.connections == 0


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", MYSQL_ALLOWED)
@pytest.mark.parametrize("driver", MYSQL_DRIVERS)
def test_mysql_allowed_keyword_never_leaks(kit: Kit, driver: str, build: Build, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    attempt = async_connect_to(kit.connector, decoy, driver, **build(kit, decoy))
    assert not isinstance(assert_async_refused(attempt, decoy), ConfigurationError)
    assert decoy.connections >= 1


@pytest.mark.parametrize("driver", MYSQL_DRIVERS)
def test_sock_cannot_move_the_connection(kit: Kit, driver: str) -> None:
    target = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", "plaintext", unix=True)
    assert unix.unix_path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(unix.unix_path)  # what a caller's sock= would be: open, unverified
        attempt = async_connect_to(kit.connector, target, driver, sock=sock)
        error = assert_async_refused(attempt)
    assert isinstance(error, ConfigurationError)
    assert "address=" in str(error)
    assert unix.passwords == []
    assert target.connections == 0


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("driver", ["asyncpg", *MYSQL_DRIVERS])
def test_a_keylog_context_is_refused(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy("pg" if driver == "asyncpg" else "mysql", mode)
    context = _context(kit.pki.trusted_ca_path, keylog=kit.keylog)
    attempt = async_connect_to(kit.connector, decoy, driver, ssl=context)
    assert isinstance(assert_async_refused(attempt, decoy), ConfigurationError)
    assert_empty(kit.keylog)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", PSYCOPG_ATTACKS)
def test_psycopg_async_keyword_never_leaks(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    attempt = async_connect_to(kit.connector, decoy, "psycopg", **build(kit, decoy))
    assert_async_refused(attempt, decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("build", PSYCOPG_KEYLOG_ATTACKS)
def test_psycopg_async_keyword_never_writes_tls_keys(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    attempt = async_connect_to(kit.connector, decoy, "psycopg", **build(kit, decoy))
    assert_async_refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)
