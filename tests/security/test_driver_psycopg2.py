"""psycopg2: no keyword, environment variable or service file gets the token to a decoy,
writes TLS session keys, or prints the token.

psycopg2 turns its keywords into one DSN string whose names it does not quote, then libpq fills
every option left unset from ``PG*`` variables and service files; psycopg2 itself reads
``PSYCOPG_DEBUG`` when imported, and then prints each DSN, password included, to stderr. Each
test points the real driver at a decoy (see decoys.py) and asks the decoy what it received.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rds_iam_auth import ConfigurationError
from rds_iam_auth.drivers import psycopg2 as adapter

from ._common import SIGNATURE, TOKEN, USER, Kit, assert_empty, assert_no_leak, connect_to
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

psycopg2 = pytest.importorskip("psycopg2")
extras = pytest.importorskip("psycopg2.extras")

DRIVER = "psycopg2"
REFUSALS = (ConfigurationError, psycopg2.Error)
"""Ours before dialling, or psycopg2's (libpq refused an option, or the connection failed)."""
ROOT = Path(__file__).resolve().parents[2]
Build = Callable[[Kit, Decoy], dict[str, Any]]


def refused(attempt: Callable[[], Any], *decoys: Decoy) -> BaseException:
    """``attempt`` raises one of :data:`REFUSALS`, mentions no token, and leaks nothing."""
    with pytest.raises(REFUSALS) as info:
        attempt().close()  # every decoy refuses the login: close() is never reached
    chain: BaseException | None = info.value
    while chain is not None:  # nor anything it was raised from or during
        assert SIGNATURE not in str(chain)
        chain = chain.__cause__ or chain.__context__
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return pytest.param(lambda _kit, _decoy: kwargs, id=id)


def _passfile(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    path = kit.tmp_path / "pgpass"
    path.write_text(f"*:*:*:*:not-the-token\n127.0.0.1:{decoy.port}:*:*:other\n")
    path.chmod(0o600)
    return {"passfile": str(path)}


def _rewriting_factory(_kit: Kit, _decoy: Decoy) -> dict[str, Any]:
    def factory(dsn: str) -> Any:  # a function that would rewrite the DSN: not accepted
        return psycopg2.extensions.connection(dsn + " sslmode=disable")

    return {"connection_factory": factory}


ATTACKS = [
    *(_fixed({"sslmode": v}, f"sslmode={v}") for v in ("disable", "allow", "prefer", "require")),
    *(_fixed({"requiressl": v}, f"requiressl={v}") for v in ("0", "1")),
    _fixed({"sslmode ": "disable"}, "'sslmode '"),
    _fixed({"\tsslmode\n": "disable"}, "'<tab>sslmode<nl>'"),
    _fixed({"SSLMODE": "disable"}, "SSLMODE"),
    _fixed({"application_name=x sslmode": "disable"}, "name-injection"),
    _fixed({"database=x sslmode": "disable"}, "database-name-injection"),
    pytest.param(lambda k, _d: {"sslrootcert": k.rogue_ca}, id="sslrootcert=rogue"),
    _fixed({"sslrootcert": "system"}, "sslrootcert=system"),
    pytest.param(
        lambda k, _d: {"application_name=x sslrootcert": k.rogue_ca}, id="rootcert-name-injection"
    ),
    _fixed({"dbname": "x sslmode=disable"}, "dbname-value-injection"),
    _fixed({"database": "x' sslmode='disable"}, "database-quote-injection"),
    _fixed({"options": "-c x=1' sslmode='disable"}, "options-quote-injection"),
    _fixed({"application_name": "a\\' sslmode=disable"}, "backslash-quote-injection"),
    _fixed({"dbname": "x\x00"}, "dbname-NUL"),
    _fixed({"dbname": "x\udcff"}, "dbname-lone-surrogate"),
    _fixed({"dsn": "host=127.0.0.1 sslmode=disable"}, "dsn-sslmode"),
    pytest.param(lambda k, _d: {"dsn": f"sslrootcert={k.rogue_ca}"}, id="dsn-rootcert"),
    pytest.param(lambda _k, d: {"dsn": f"hostaddr=127.0.0.1 port={d.port}"}, id="dsn-hostaddr"),
    _fixed({"async": True}, "async"),
    _fixed({"async_": 1}, "async_"),
    pytest.param(_rewriting_factory, id="connection_factory-function"),
    _fixed({"connection_factory": "psycopg2.extensions.connection"}, "connection_factory-str"),
    _fixed({"sslnegotiation": "direct"}, "sslnegotiation"),
    _fixed({"sslsni": "0"}, "sslsni=0"),
    _fixed({"gssencmode": "prefer"}, "gssencmode=prefer"),
    _fixed({"ssl_min_protocol_version": "TLSv1"}, "ssl_min_protocol_version"),
    _fixed({"sslcertmode": "disable"}, "sslcertmode=disable"),
    _fixed({"hostaddr": "127.0.0.1"}, "hostaddr"),
    _fixed({"service": "decoy"}, "service"),
    pytest.param(_passfile, id="passfile"),
    _fixed({"password ": "other"}, "'password '"),
    _fixed({"load_balance_hosts": "random"}, "load_balance_hosts"),
    _fixed({"require_auth": "password"}, "require_auth"),
    _fixed({"channel_binding": "disable"}, "channel_binding"),
    _fixed({"krbsrvname": "x"}, "krbsrvname"),
    _fixed({"sslcrl": "/dev/null"}, "sslcrl"),
    _fixed({"sslcompression": "1"}, "sslcompression"),
    _fixed({"requirepeer": "postgres"}, "requirepeer"),
    _fixed({"min_protocol_version": "3.0"}, "min_protocol_version(libpq 18)"),
]
ACCEPTED = {
    "RealDictConnection": {"connection_factory": extras.RealDictConnection},
    "replication-factory": {"connection_factory": extras.LogicalReplicationConnection},
    "RealDictCursor": {"cursor_factory": extras.RealDictCursor},
    "replication": {"replication": "database", "target_session_attrs": "any"},
    "plain": {"database": "app", "connect_timeout": 5, "sslmode": "verify-full"},
}
"""Keywords passed on to psycopg2: they must not change where the token may go."""


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS)
def test_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    refused(connect_to(kit.connector, decoy, DRIVER, **build(kit, decoy)), decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_keywords_keep_verification(kit: Kit, case: str, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    refused(connect_to(kit.connector, decoy, DRIVER, **ACCEPTED[case]))
    assert decoy.connections >= 1  # it dialled: the refusal is the TLS check, not a typo
    if mode == "good":
        assert decoy.passwords == [TOKEN]
    else:
        assert_no_leak(decoy)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS[:8])
def test_creator_refuses_like_connect(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    kwargs = build(kit, decoy)

    def attempt() -> Any:
        return kit.connector.creator(decoy.host, USER, driver=DRIVER, port=decoy.port, **kwargs)()

    refused(attempt, decoy)


KEYLOG_ATTACKS = [
    pytest.param(lambda k, _d: {"sslkeylogfile": str(k.keylog)}, id="sslkeylogfile"),
    pytest.param(lambda k, _d: {"sslkeylogfile ": str(k.keylog)}, id="'sslkeylogfile '"),
    pytest.param(lambda k, _d: {"application_name=x sslkeylogfile": str(k.keylog)}, id="split"),
    pytest.param(lambda k, _d: {"dsn": f"sslkeylogfile={k.keylog}"}, id="dsn"),
    pytest.param(lambda k, _d: {"dbname": f"x sslkeylogfile={k.keylog}"}, id="value-injection"),
]


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("build", KEYLOG_ATTACKS)
def test_keyword_never_writes_tls_keys(kit: Kit, build: Build, mode: str) -> None:
    # The good decoy is included: keys of a *verified* session are what a key log exposes.
    decoy = kit.decoy("pg", mode)
    attempt = connect_to(kit.connector, decoy, DRIVER, **build(kit, decoy))
    refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize(
    "host", ["127.0.0.1,127.0.0.1", "127.0.0.1 sslmode=disable", "127.0.0.1\x00", " 127.0.0.1"]
)
def test_host_argument_cannot_carry_options(kit: Kit, host: str, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    refused(lambda: kit.connector.connect(host, USER, driver=DRIVER, port=decoy.port), decoy)


# --- the environment and service files ---------------------------------------------------------

ENV_ATTACKS = [
    {"PGSSLMODE": "disable"},
    {"PGSSLMODE": "prefer"},
    {"PGREQUIRESSL": "0"},
    {"PGSSLROOTCERT": "{rogue}"},
    {"PGGSSENCMODE": "prefer"},
    {"PGSSLNEGOTIATION": "direct"},
    {"PGSSLSNI": "0"},
    {"PGSSLMINPROTOCOLVERSION": "TLSv1"},
    {"PGSSLCERTMODE": "disable"},
    {"PGREQUIREAUTH": "password"},
    {"PGCHANNELBINDING": "disable"},
    {"PGPASSWORD": "not-the-token"},
    {"PGPASSFILE": "/dev/null"},
    {"PGHOSTADDR": "127.0.0.1"},
    {"PGHOST": "127.0.0.1"},
    {"PGOPTIONS": "-c x=1"},
    {"PGDATABASE": "x sslmode=disable"},
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize(
    "env", ENV_ATTACKS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items())
)
def test_environment_never_leaks_the_token(kit: Kit, env: dict[str, str], mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    for name, value in env.items():
        kit.monkeypatch.setenv(name, value.format(rogue=kit.rogue_ca))
    refused(connect_to(kit.connector, decoy, DRIVER), decoy)


def _service(kit: Kit, decoy: Decoy, how: str, *, keylog: bool) -> dict[str, Any]:
    """Point libpq at a ``[decoy]`` service the way ``how`` says; return kwargs to add.

    libpq 17 refuses a service file naming an option it does not have (``sslkeylogfile``,
    libpq 18), so the keylog variant tests that refusal and the other one every other line.
    """
    lines = [
        "[decoy]",
        "sslmode=disable",
        "hostaddr=127.0.0.1",
        f"port={decoy.port}",
        f"sslrootcert={kit.rogue_ca}",
        "gssencmode=prefer",
        "sslnegotiation=direct",
        "ssl_min_protocol_version=TLSv1",
    ]
    if keylog:
        lines.append(f"sslkeylogfile={kit.keylog}")
    path = kit.tmp_path / "pg_service.conf"
    path.write_text("\n".join(lines) + "\n")
    if how == "PGSYSCONFDIR":
        kit.monkeypatch.setenv("PGSYSCONFDIR", str(path.parent))
        kit.monkeypatch.setenv("PGSERVICE", "decoy")
        return {}
    kit.monkeypatch.setenv("PGSERVICEFILE", str(path))
    if how == "PGSERVICE":
        kit.monkeypatch.setenv("PGSERVICE", "decoy")
        return {}
    return {"service": "decoy"}


@pytest.mark.parametrize("keylog", [False, True], ids=["libpq17-options", "with-sslkeylogfile"])
@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("how", ["PGSERVICE", "service=", "PGSYSCONFDIR"])
def test_service_file_never_leaks_the_token_or_keys(
    kit: Kit, how: str, mode: str, keylog: bool
) -> None:
    decoy = kit.decoy("pg", mode)
    kwargs = _service(kit, decoy, how, keylog=keylog)
    refused(
        connect_to(kit.connector, decoy, DRIVER, **kwargs), *([] if mode == "good" else [decoy])
    )
    assert_empty(kit.keylog)
    if mode == "good" and how != "service=":
        # libpq read the file (it refuses one naming an option it lacks, as libpq 17 does
        # sslkeylogfile) and our settings won over every line of it.
        assert decoy.passwords == ([] if keylog else [TOKEN])


@pytest.mark.parametrize("how", ["PGHOSTADDR", "PGSERVICE"])
def test_environment_cannot_redirect_the_socket(kit: Kit, how: str) -> None:
    # The good decoy's certificate names db.decoy.invalid, which never resolves: a decoy that
    # sees a connection proves the environment moved the socket to 127.0.0.1.
    decoy = kit.decoy("pg", "good")
    if how == "PGHOSTADDR":
        kit.monkeypatch.setenv("PGHOSTADDR", "127.0.0.1")
    else:
        _service(kit, decoy, how, keylog=False)
    refused(
        lambda: kit.connector.connect("db.decoy.invalid", USER, driver=DRIVER, port=decoy.port),
        decoy,
    )
    assert decoy.connections == 0


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_sslkeylogfile_variable_is_not_honoured(kit: Kit, mode: str) -> None:
    # OpenSSL 3.5 can be built to read SSLKEYLOGFILE; the libssl psycopg2-binary bundles is not.
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy("pg", mode)
    connector = kit.new_connector(kit.private_ca())
    refused(connect_to(connector, decoy, DRIVER), *([] if mode == "good" else [decoy]))
    if mode == "good":
        assert decoy.tls_handshakes_completed >= 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)


# --- address= --------------------------------------------------------------------------------

ENDPOINT = "db.example.com"


@pytest.mark.parametrize("mode", [*ATTACK_MODES, "ip-only"])
def test_address_to_a_decoy_never_leaks(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    with pytest.raises(psycopg2.OperationalError):
        kit.connector.connect(ENDPOINT, USER, driver=DRIVER, address=f"127.0.0.1:{decoy.port}")
    assert decoy.connections >= 1, "address= did not dial the decoy"
    assert_no_leak(decoy)


def test_address_to_the_good_server_signs_for_the_endpoint(kit: Kit) -> None:
    decoy = kit.decoy("pg", "good")
    with pytest.raises(psycopg2.OperationalError):  # the decoy refuses every login
        kit.connector.connect(ENDPOINT, USER, driver=DRIVER, address=f"127.0.0.1:{decoy.port}")
    assert decoy.passwords == [TOKEN]  # 28P01 is not an IAM refusal: no retry
    assert decoy.tls_handshakes_completed == 1
    endpoint, user, _now = kit.signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (ENDPOINT, 5432, USER)


def test_default_path_reaches_only_the_good_decoy(kit: Kit) -> None:
    decoy = kit.decoy("pg", "good")
    error = refused(connect_to(kit.connector, decoy, DRIVER))
    assert "password authentication failed" in str(error)
    assert decoy.passwords == [TOKEN]
    assert decoy.startups[0]["user"] == USER


# --- PSYCOPG_DEBUG -----------------------------------------------------------------------------

_PROGRAM = """
import sys
token, port, ca, how = sys.argv[1:]
if how == "raw":  # what the AWS guide's recipe does
    import psycopg2
    try:
        psycopg2.connect(host="127.0.0.1", port=int(port), user="app", password=token,
                         sslmode="verify-full", sslrootcert=ca, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        print("driver refused:", type(exc).__name__)
    sys.exit(0)
if how == "imported-first":
    import psycopg2  # the application imported it before using the connector
from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.testing import StaticSigner
with Connector(signer=StaticSigner(token), ca=ca, region="us-east-1") as connector:
    for call in (connector.creator, connector.connect):
        try:
            call("127.0.0.1", "app", driver="psycopg2", port=int(port))
        except ConfigurationError as exc:
            print("refused:", exc)
"""


def _run_with_debug(kit: Kit, decoy: Decoy, how: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "AWS_"))}
    env.update(PSYCOPG_DEBUG="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", _PROGRAM, TOKEN, str(decoy.port), decoy.ca_path, how],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=kit.tmp_path,
    )


def test_psycopg_debug_prints_the_password_of_a_raw_connect(kit: Kit) -> None:
    # Why the connector refuses PSYCOPG_DEBUG: without it, psycopg2-binary prints the token.
    decoy = kit.decoy("pg", "good")
    result = _run_with_debug(kit, decoy, "raw")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "driver refused" in result.stdout
    assert f"password={TOKEN}" in result.stderr


@pytest.mark.parametrize("how", ["connector-only", "imported-first"])
def test_psycopg_debug_is_refused_before_anything_is_printed_or_sent(kit: Kit, how: str) -> None:
    decoy = kit.decoy("pg", "good")
    result = _run_with_debug(kit, decoy, how)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("refused:") == 2
    assert adapter.DEBUG_VARIABLE in result.stdout
    for piece in (SIGNATURE[:12], SIGNATURE[-12:]):
        assert piece not in result.stdout + result.stderr
    assert decoy.connections == 0
