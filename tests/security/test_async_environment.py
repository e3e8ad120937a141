"""No environment variable, service file or option file moves the async login or weakens it.

asyncpg reads ``PG*`` variables (``PGHOST``, ``PGPORT``, ``PGSSLMODE``, ``PGSSLNEGOTIATION``,
``PGSSLROOTCERT``, ...), ``~/.postgresql/`` files and, with a DSN, a service file (found
through ``PGSERVICE``/``PGSERVICEFILE``) for every option it was not given; psycopg's
``AsyncConnection`` resolves the host in Python (``PGHOST``, ``PGHOSTADDR``, ...) before libpq
reads the rest. aiomysql and asyncmy read no variable at all (checked here rather than assumed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ._async_common import (
    ASYNC_DRIVERS,
    MYSQL_DRIVERS,
    PG_DRIVERS,
    assert_async_refused,
    async_connect_to,
    run,
)
from ._common import TOKEN, USER, Kit, assert_empty
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy
from .test_environment import ENV_ATTACKS, UNRESOLVABLE, _use_service

_SSL_REQUEST = bytes.fromhex("0000000804d2162f")
ASYNCPG_ENV_ATTACKS = [
    {"PGSSLCERT": "{rogue}", "PGSSLKEY": "{rogue}", "PGSSLCRL": "{rogue}"},
    {"PGSSLMAXPROTOCOLVERSION": "TLSv1", "PGKRBSRVNAME": "x", "PGGSSLIB": "gssapi"},
    {"PGSERVICE": "decoy", "PGSERVICEFILE": "{service}", "PGPASSFILE": "{pgpass}"},
    {"HOME": "{home}"},  # ~/.postgresql/root.crt is the rogue CA
]
MYSQL_ENV_ATTACKS = [
    {"MYSQL_HOST": "127.0.0.1", "MYSQL_TCP_PORT": "{port}", "MYSQL_PWD": "not-the-token"},
    {"MYSQL_UNIX_PORT": "/nonexistent/mysql.sock", "HOME": "{home}"},  # ~/.my.cnf: ssl off
    {"SSL_CERT_FILE": "{rogue}", "SSL_CERT_DIR": "{rogue_dir}"},
]
ASYNCPG_LOOKUPS = {"PGDATABASE", "PGGSSLIB", "PGKRBSRVNAME", "PGSERVICE", "PGTARGETSESSIONATTRS"}
"""What asyncpg 0.32 still reads during our logins: the database name (a default), GSSAPI
settings (used only if the verified server asks for Kerberos), the service name (read only
with a DSN, which is refused) and the target-session check (one host)."""


def _set(kit: Kit, decoy: Decoy, env: dict[str, str]) -> None:
    home = kit.tmp_path / "home"
    (home / ".postgresql").mkdir(parents=True, exist_ok=True)
    (home / ".postgresql" / "root.crt").write_text(Path(kit.rogue_ca).read_text())
    (home / ".my.cnf").write_text(f"[client]\nhost=127.0.0.1\nport={decoy.port}\nssl=0\n")
    service = kit.tmp_path / "pg_service.conf"
    service.write_text(f"[decoy]\nhost=127.0.0.1\nport={decoy.port}\nsslmode=disable\n")
    pgpass = kit.tmp_path / "pgpass"
    pgpass.write_text("*:*:*:*:not-the-token\n")
    pgpass.chmod(0o600)
    values = {
        "port": str(decoy.port),
        "rogue": kit.rogue_ca,
        "rogue_dir": str(Path(kit.rogue_ca).parent),
        "service": str(service),
        "pgpass": str(pgpass),
        "home": str(home),
    }
    for name, value in env.items():
        kit.monkeypatch.setenv(name, value.format(**values))


def _ids(env: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in env.items())


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("env", ENV_ATTACKS + ASYNCPG_ENV_ATTACKS, ids=_ids)
@pytest.mark.parametrize("driver", PG_DRIVERS)
def test_pg_environment_never_leaks_the_token(
    kit: Kit, driver: str, env: dict[str, str], mode: str
) -> None:
    decoy = kit.decoy("pg", mode)
    _set(kit, decoy, env)
    # A CA file of this test's own: the context is built now, under these variables.
    connector = kit.new_connector(kit.private_ca())
    assert_async_refused(async_connect_to(connector, decoy, driver), decoy)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("env", MYSQL_ENV_ATTACKS, ids=_ids)
@pytest.mark.parametrize("driver", MYSQL_DRIVERS)
def test_mysql_environment_never_leaks_the_token(
    kit: Kit, driver: str, env: dict[str, str], mode: str
) -> None:
    decoy = kit.decoy("mysql", mode)
    _set(kit, decoy, env)
    connector = kit.new_connector(kit.private_ca())
    assert_async_refused(async_connect_to(connector, decoy, driver), decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("how", ["PGSERVICE", "PGSYSCONFDIR"])
@pytest.mark.parametrize("driver", PG_DRIVERS)
def test_a_service_file_never_leaks_the_token_or_keys(
    kit: Kit, driver: str, how: str, mode: str
) -> None:
    decoy = kit.decoy("pg", mode)
    assert _use_service(kit, decoy, how) == {}  # set through the environment only
    attempt = async_connect_to(kit.connector, decoy, driver)
    assert_async_refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)


@pytest.mark.parametrize("how", ["PGHOST", "PGHOSTADDR", "PGSERVICE", "MYSQL_HOST"])
@pytest.mark.parametrize("driver", sorted(ASYNC_DRIVERS))
def test_the_environment_cannot_redirect_the_socket(kit: Kit, driver: str, how: str) -> None:
    # The good decoy's certificate is valid for the name asked for: only where the socket goes
    # would be wrong. Without address=, it must go where DNS says (nowhere, for this name).
    decoy = kit.decoy(ASYNC_DRIVERS[driver], "good")
    if how == "PGSERVICE":
        _use_service(kit, decoy, how)
    else:
        kit.monkeypatch.setenv(how, "127.0.0.1")
        kit.monkeypatch.setenv("PGPORT" if how.startswith("PG") else "MYSQL_TCP_PORT", "1")

    async def attempt() -> Any:
        return await kit.connector.connect_async(UNRESOLVABLE, USER, driver=driver, port=decoy.port)

    with pytest.raises(Exception, match=r"resolve|Name or service not known|Can.t connect"):
        run(attempt())
    assert decoy.connections == 0, "the environment moved the connection to 127.0.0.1"


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("driver", sorted(ASYNC_DRIVERS))
def test_sslkeylogfile_is_not_honoured(kit: Kit, driver: str, mode: str) -> None:
    # ssl.create_default_context() (and asyncpg's own contexts) honour SSLKEYLOGFILE; a context
    # built now, for a CA file nobody used before, is what this can catch.
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy(ASYNC_DRIVERS[driver], mode)
    connector = kit.new_connector(kit.private_ca())
    attempt = async_connect_to(connector, decoy, driver)
    assert_async_refused(attempt, *([] if mode == "good" else [decoy]))
    if mode == "good":
        assert decoy.tls_handshakes_completed >= 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)


def test_asyncpg_ignores_pgsslnegotiation(kit: Kit) -> None:
    # Left to itself asyncpg would do direct TLS (without the ALPN PostgreSQL 17 requires);
    # the adapter always asks with SSLRequest.
    kit.monkeypatch.setenv("PGSSLNEGOTIATION", "direct")
    decoy = kit.decoy("pg", "good")
    assert_async_refused(async_connect_to(kit.connector, decoy, "asyncpg"))
    assert decoy.passwords == [TOKEN]
    assert decoy.received.startswith(_SSL_REQUEST)


class _RecordingEnviron(dict[str, str]):
    """``os.environ`` stand-in that records every variable looked up."""

    def __init__(self, base: Any) -> None:
        super().__init__(base)
        self.looked_up: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.looked_up.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_up.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.looked_up.add(str(key))
        return super().__contains__(key)


@pytest.mark.parametrize("driver", ["asyncpg", *MYSQL_DRIVERS])
def test_a_login_looks_up_only_harmless_variables(kit: Kit, driver: str) -> None:
    # Fails closed: a driver release that starts reading another variable fails this test
    # until someone checks what the variable can do.
    decoy = kit.decoy(ASYNC_DRIVERS[driver], "good")
    connector = kit.new_connector(kit.private_ca())
    environ = _RecordingEnviron(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", environ)
        assert_async_refused(async_connect_to(connector, decoy, driver))
    assert TOKEN in decoy.passwords  # a whole TLS login ran under the recorder
    seen = {n for n in environ.looked_up if n.startswith(("PG", "MYSQL", "SSL", "HOME"))}
    assert seen == (ASYNCPG_LOOKUPS if driver == "asyncpg" else set())
