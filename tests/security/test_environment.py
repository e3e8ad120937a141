"""No environment variable or libpq service file gets the token to a decoy or logs its keys.

libpq fills every option the caller did not give from ``PG*`` variables and from a service file
(``PGSERVICE`` / ``service=``, found through ``PGSERVICEFILE`` or ``PGSYSCONFDIR``), so whatever
the connector does not set explicitly is the environment's to choose: ``hostaddr`` (where the
socket really goes) and ``sslkeylogfile`` (where the session keys go) included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ._common import USER, Kit, assert_attempt_refused, assert_empty, connect_to
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

UNRESOLVABLE = "db.decoy.invalid"
"""In the good certificate, never in DNS: dialling it by name fails without reaching any
server, so a decoy seeing the connection proves something redirected the socket."""


def _service_file(directory: Path, decoy: Decoy, keylog: Path) -> Path:
    path = directory / "pg_service.conf"
    path.write_text(
        "[decoy]\n"
        "sslmode=disable\n"
        "hostaddr=127.0.0.1\n"
        f"port={decoy.port}\n"
        f"sslkeylogfile={keylog}\n"
        "gssencmode=prefer\n"
        "sslnegotiation=direct\n"
    )
    return path


def _use_service(kit: Kit, decoy: Decoy, how: str) -> dict[str, Any]:
    """Point libpq at a ``[decoy]`` service the way ``how`` says; return kwargs to add."""
    path = _service_file(kit.tmp_path, decoy, kit.keylog)
    if how == "PGSYSCONFDIR":  # libpq's system-wide file: $PGSYSCONFDIR/pg_service.conf
        kit.monkeypatch.setenv("PGSYSCONFDIR", str(path.parent))
        kit.monkeypatch.setenv("PGSERVICE", "decoy")
        return {}
    kit.monkeypatch.setenv("PGSERVICEFILE", str(path))
    if how == "PGSERVICE":
        kit.monkeypatch.setenv("PGSERVICE", "decoy")
        return {}
    return {"service": "decoy"}


ENV_ATTACKS = [
    {"PGSSLMODE": "disable"},
    {"PGSSLMODE": "prefer"},
    {"PGREQUIRESSL": "0"},
    {"PGREQUIRESSL": "1"},
    {"PGSSLROOTCERT": "{rogue}"},
    {"PGGSSENCMODE": "prefer"},
    {"PGSSLNEGOTIATION": "direct"},
    {"PGSSLSNI": "0"},
    {"PGSSLMINPROTOCOLVERSION": "TLSv1"},
    {"PGSSLCERTMODE": "disable"},
    {"PGTARGETSESSIONATTRS": "any"},
    {"PGPASSWORD": "not-the-token"},
    {"PGHOSTADDR": "127.0.0.1"},
    {"PGHOST": "127.0.0.1"},
    {"PGOPTIONS": "-c x=1"},
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize(
    "env", ENV_ATTACKS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items())
)
def test_environment_never_leaks_the_token(kit: Kit, env: dict[str, str], mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    for name, value in env.items():
        kit.monkeypatch.setenv(name, value.format(rogue=kit.rogue_ca))
    assert_attempt_refused(connect_to(kit.connector, decoy, "psycopg"), decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("how", ["PGSERVICE", "service=", "PGSYSCONFDIR"])
def test_service_file_never_leaks_the_token_or_keys(kit: Kit, how: str, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    kwargs = _use_service(kit, decoy, how)
    attempt = connect_to(kit.connector, decoy, "psycopg", **kwargs)
    assert_attempt_refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)


@pytest.mark.parametrize("how", ["PGHOSTADDR", "PGSERVICE", "service="])
def test_environment_cannot_redirect_the_socket(kit: Kit, how: str) -> None:
    # The good decoy's certificate is valid for the name asked for: only where the socket goes
    # would be wrong. Without address=, it must go where DNS says (nowhere, for this name).
    decoy = kit.decoy("pg", "good")
    if how == "PGHOSTADDR":
        kit.monkeypatch.setenv("PGHOSTADDR", "127.0.0.1")
        kwargs: dict[str, Any] = {}
    else:
        kwargs = _use_service(kit, decoy, how)

    def attempt() -> Any:
        return kit.connector.connect(
            UNRESOLVABLE, USER, driver="psycopg", port=decoy.port, **kwargs
        )

    assert_attempt_refused(attempt, decoy)
    assert decoy.connections == 0, "the environment moved the connection to 127.0.0.1"
    assert_empty(kit.keylog)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_sslkeylogfile_variable_is_not_honoured(kit: Kit, driver: str, mode: str) -> None:
    # ssl.create_default_context() reads SSLKEYLOGFILE when it builds a context, so a context
    # built for a CA file nobody used before (private_ca) is what this can catch; libpq 18
    # itself does not read the variable.
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy("pg" if driver == "psycopg" else "mysql", mode)
    connector = kit.new_connector(kit.private_ca())
    assert_attempt_refused(
        connect_to(connector, decoy, driver), *([] if mode == "good" else [decoy])
    )
    if mode == "good":
        assert decoy.tls_handshakes_completed >= 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)
