"""No pg8000 keyword, environment variable or context gets the token to a decoy or logs its keys.

pg8000's own defaults are the attack: ``ssl_context=None`` is unverified TLS that falls back
to plaintext, ``True`` is unverified TLS, ``False`` plaintext, and any context the caller
passes is used as is; ``sock=`` and ``unix_sock=`` put the connection anywhere. pg8000 reads
no environment variable (the libpq ``PG*`` set included) and no file: that is tested here
rather than assumed. The resolver's own variables (glibc's ``HOSTALIASES``, ``RES_OPTIONS``)
sit below every driver; TLS still checks the endpoint's name wherever DNS points.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pg8000.dbapi
import pg8000.exceptions
import pytest

from rds_iam_auth import ConfigurationError

from ._common import TOKEN, USER, Kit, assert_empty, assert_no_leak, connect_to
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

ROOT = Path(__file__).resolve().parents[2]
DRIVER = "pg8000"
ENDPOINT = "db.example.com"
UNRESOLVABLE = "db.decoy.invalid"
"""In the good certificate, never in DNS: a decoy that sees a connection for it proves that
something redirected the socket."""
REFUSALS: tuple[type[BaseException], ...] = (
    ConfigurationError,  # ours, before dialling
    pg8000.exceptions.Error,  # "Server refuses SSL", or the decoy's FATAL 28P01
    ssl.SSLError,  # certificate verification failed
)

Attempt = Callable[[], Any]
Build = Callable[[Kit, Decoy], dict[str, Any]]


def refused(attempt: Attempt, *decoys: Decoy) -> BaseException:
    """``attempt`` raises one of :data:`REFUSALS` and none of ``decoys`` got the token."""
    with pytest.raises(REFUSALS) as info:
        attempt().close()  # never reached: a decoy refuses every login
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value


def _context(ca: str | None, *, check_hostname: bool = True, keylog: Path | None = None) -> Any:
    """A client context of the caller's (``ca=None``: the system trust store)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is None:
        context.load_default_certs()
    else:
        context.load_verify_locations(ca)
    context.check_hostname = check_hostname
    if keylog is not None:
        context.keylog_filename = str(keylog)
    return context


def _unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _p(build: Build, id: str) -> Any:
    return pytest.param(build, id=id)


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return _p(lambda _kit, _decoy: kwargs, id)


OWNED_ATTACKS = [
    _fixed({"ssl_context": None}, "ssl_context=None"),
    _fixed({"ssl_context": True}, "ssl_context=True"),
    _fixed({"ssl_context": False}, "ssl_context=False"),
    _p(lambda _k, _d: {"ssl_context": _unverified()}, "ssl_context=CERT_NONE"),
    _p(lambda k, _d: {"ssl_context": _context(k.rogue_ca)}, "ssl_context=rogue-CA"),
    _p(
        lambda k, _d: {"ssl_context": _context(k.pki.trusted_ca_path, check_hostname=False)},
        "ssl_context=no-name-check",
    ),
    _p(lambda _k, _d: {"ssl_context": _context(None)}, "ssl_context=system-trust"),
    _p(
        lambda k, _d: {"ssl_context": _context(k.pki.trusted_ca_path, keylog=k.keylog)},
        "ssl_context=keylog",
    ),
    _fixed({"password": "not-the-token"}, "password"),
    _fixed({"unix_sock": "/nonexistent/.s.PGSQL.5432"}, "unix_sock"),
    _fixed({"ssl_context ": None}, "'ssl_context '"),
    _fixed({"sslmode": "disable"}, "sslmode"),
    _fixed({"ssl": False}, "ssl"),
    _fixed({"startup_params": {"user": "postgres"}}, "startup_params-user"),
    _fixed({"startup_params": {"_pq_.x": "1"}}, "startup_params-_pq_"),
    _fixed({"database": "appdb\x00user\x00postgres"}, "database-NUL"),
]
"""Refused before anything is dialled."""

ALLOWED_ATTACKS = [
    _fixed({"startup_params": {"sslmode": "disable", "options": "-c ssl=off"}}, "startup-ssl"),
    _fixed({"replication": "database", "application_name": "x"}, "replication"),
    _fixed({"tcp_keepalive": False, "timeout": 5}, "keepalive,timeout"),
    _fixed({"source_address": ("127.0.0.1", 0)}, "source_address"),
    _fixed({"database": "postgres"}, "database"),
]
"""Passed to pg8000: they must change nothing about TLS."""


@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_default_connect_never_leaks_the_token(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    refused(connect_to(kit.connector, decoy, DRIVER), decoy)
    assert decoy.connections >= 1
    if mode == "plaintext":
        assert decoy.startups == []  # not even the user name went out in the clear


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", OWNED_ATTACKS)
def test_owned_keyword_is_refused_before_dialling(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    error = refused(connect_to(kit.connector, decoy, DRIVER, **build(kit, decoy)), decoy)
    assert isinstance(error, ConfigurationError)
    assert decoy.connections == 0
    assert_empty(kit.keylog)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ALLOWED_ATTACKS)
def test_allowed_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    error = refused(connect_to(kit.connector, decoy, DRIVER, **build(kit, decoy)), decoy)
    assert not isinstance(error, ConfigurationError)
    assert decoy.connections >= 1  # it was pg8000 that refused the decoy


@pytest.mark.parametrize("unix_mode", ["plaintext", "good"])
def test_sock_and_unix_sock_cannot_move_the_connection(kit: Kit, unix_mode: str) -> None:
    target = kit.decoy("pg", "good")
    unix = kit.decoy("pg", unix_mode, unix=True)
    assert unix.unix_path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(unix.unix_path)  # what a caller's sock= would be: open, unverified
        for kwargs in ({"unix_sock": unix.unix_path}, {"sock": sock}):
            with pytest.raises(ConfigurationError, match="address="):
                connect_to(kit.connector, target, DRIVER, **kwargs)()
    # Read the decoys only now: the open socket above keeps the Unix decoy's session busy.
    assert_no_leak(unix)
    assert_no_leak(target)
    assert target.connections == 0
    assert unix.passwords == []
    assert unix.startups == []


# --- environment ---------------------------------------------------------------------------

ENV_ATTACKS = [
    {"PGHOST": "127.0.0.1", "PGHOSTADDR": "127.0.0.1", "PGPORT": "{port}"},
    {"PGSSLMODE": "disable", "PGREQUIRESSL": "0", "PGGSSENCMODE": "prefer"},
    {"PGSSLROOTCERT": "{rogue}", "SSL_CERT_FILE": "{rogue}", "SSL_CERT_DIR": "{rogue_dir}"},
    {"PGSSLNEGOTIATION": "direct", "PGSSLSNI": "0", "PGSSLMINPROTOCOLVERSION": "TLSv1"},
    {"PGPASSWORD": "not-the-token", "PGUSER": "postgres", "PGDATABASE": "postgres"},
    {"PGSERVICE": "decoy", "PGSERVICEFILE": "{service}", "PGSYSCONFDIR": "{tmp}"},
    {"PGOPTIONS": "-c ssl=off", "PGAPPNAME": "x", "PGPASSFILE": "{tmp}/pgpass"},
    {"SSLKEYLOGFILE": "{keylog}"},
]


def _set_env(kit: Kit, decoy: Decoy, env: dict[str, str]) -> None:
    service = kit.tmp_path / "pg_service.conf"
    service.write_text(
        f"[decoy]\nhost=127.0.0.1\nport={decoy.port}\nsslmode=disable\nsslkeylogfile={kit.keylog}\n"
    )
    (kit.tmp_path / "pgpass").write_text("*:*:*:*:not-the-token\n")
    values = {
        "port": str(decoy.port),
        "rogue": kit.rogue_ca,
        "rogue_dir": str(Path(kit.rogue_ca).parent),
        "service": str(service),
        "tmp": str(kit.tmp_path),
        "keylog": str(kit.keylog),
    }
    for name, value in env.items():
        kit.monkeypatch.setenv(name, value.format(**values))


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("env", ENV_ATTACKS, ids=",".join)
def test_environment_never_leaks_the_token(kit: Kit, env: dict[str, str], mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    _set_env(kit, decoy, env)
    # A CA file of this test's own: a context built now, with the variables set.
    connector = kit.new_connector(kit.private_ca())
    refused(connect_to(connector, decoy, DRIVER), decoy)
    assert_empty(kit.keylog)


@pytest.mark.parametrize("env", ENV_ATTACKS[:1] + ENV_ATTACKS[5:6], ids=["PGHOST", "PGSERVICE"])
def test_environment_cannot_redirect_the_socket(kit: Kit, env: dict[str, str]) -> None:
    # The good decoy's certificate is valid for the name: only where the socket goes would be
    # wrong. Without address=, it goes where DNS says (nowhere, for this name).
    decoy = kit.decoy("pg", "good")
    _set_env(kit, decoy, env)
    with pytest.raises(pg8000.exceptions.InterfaceError, match="Can't create a connection"):
        kit.connector.connect(UNRESOLVABLE, USER, driver=DRIVER, port=decoy.port)
    assert decoy.connections == 0, "the environment moved the connection to 127.0.0.1"


class _RecordingEnviron(dict[str, str]):
    """``os.environ`` stand-in that records every variable looked up."""

    def __init__(self, base: Any) -> None:
        super().__init__(base)
        self.looked_up: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.looked_up.append(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.looked_up.append(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.looked_up.append(str(key))
        return super().__contains__(key)


def _driver_lookups(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith(("PG", "SSL"))]


def test_a_login_looks_up_no_environment_variable(kit: Kit) -> None:
    decoy = kit.decoy("pg", "good")
    connector = kit.new_connector(kit.private_ca())
    environ = _RecordingEnviron(os.environ)
    kit.monkeypatch.setattr(os, "environ", environ)
    # The recorder sees what ssl.create_default_context() looks up (it reads SSLKEYLOGFILE):
    # what pg8000 would build without our context.
    ssl.create_default_context()
    assert _driver_lookups(environ.looked_up) == ["SSLKEYLOGFILE"]
    environ.looked_up.clear()
    with pytest.raises(pg8000.exceptions.DatabaseError, match="28P01"):
        connector.connect(decoy.host, USER, driver=DRIVER, port=decoy.port, database="x")
    assert decoy.passwords == [TOKEN]  # a whole TLS login ran under the recorder
    assert _driver_lookups(environ.looked_up) == []


def test_importing_pg8000_looks_up_no_environment_variable() -> None:
    code = (
        "import json, os\n"
        "class R(dict):\n"
        "    seen = []\n"
        "    def __getitem__(self, k):\n"
        "        R.seen.append(k)\n"
        "        return super().__getitem__(k)\n"
        "    def get(self, k, d=None):\n"
        "        R.seen.append(k)\n"
        "        return super().get(k, d)\n"
        "os.environ = R(os.environ)\n"
        "import pg8000, pg8000.dbapi, pg8000.native\n"
        "import rds_iam_auth.drivers.pg8000\n"
        "print(json.dumps([k for k in R.seen if k.startswith(('PG', 'SSL'))]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PGHOST="127.0.0.1", PGSSLMODE="disable")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_sslkeylogfile_is_not_honoured(kit: Kit, mode: str) -> None:
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy("pg", mode)
    connector = kit.new_connector(kit.private_ca())
    refused(connect_to(connector, decoy, DRIVER), *([] if mode == "good" else [decoy]))
    if mode == "good":
        assert decoy.tls_handshakes_completed == 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)


# --- address= ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [*ATTACK_MODES, "ip-only"])
def test_address_to_a_decoy_never_leaks(kit: Kit, mode: str) -> None:
    # ip-only is trusted and valid for 127.0.0.1, the address dialled, but not for ENDPOINT.
    decoy = kit.decoy("pg", mode)
    with pytest.raises(REFUSALS[1:]):
        kit.connector.connect(
            ENDPOINT, USER, driver=DRIVER, port=5432, address=f"127.0.0.1:{decoy.port}"
        ).close()
    assert decoy.connections >= 1, "address= did not dial the decoy"
    assert_no_leak(decoy)


def test_address_to_the_good_server_signs_for_the_endpoint(kit: Kit) -> None:
    decoy = kit.decoy("pg", "good")
    with pytest.raises(pg8000.exceptions.DatabaseError, match="28P01"):
        kit.connector.connect(
            ENDPOINT, USER, driver=DRIVER, port=5432, address=f"127.0.0.1:{decoy.port}"
        ).close()
    assert decoy.passwords == [TOKEN]
    assert decoy.tls_handshakes_completed == 1
    endpoint, user, _now = kit.signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (ENDPOINT, 5432, USER)


# --- the decoys catch pg8000's own defaults ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "ssl_context"),
    [("plaintext", None), ("wrong-name", None), ("untrusted", True), ("wrong-name", "lax")],
)
def test_pg8000_on_its_own_hands_the_decoys_the_token(
    kit: Kit, mode: str, ssl_context: Any
) -> None:
    # Why ssl_context is the connector's: pg8000's default falls back to plaintext and
    # verifies nothing, and a context without a name check accepts any trusted certificate.
    decoy = kit.decoy("pg", mode)
    if ssl_context == "lax":
        ssl_context = _context(kit.pki.trusted_ca_path, check_hostname=False)
    with pytest.raises(pg8000.exceptions.DatabaseError, match="28P01"):
        pg8000.dbapi.connect(
            user=USER,
            host=decoy.host,
            port=decoy.port,
            password=TOKEN,
            ssl_context=ssl_context,
            timeout=5,
        )
    assert decoy.passwords == [TOKEN]


# pg8000 (1.31.6) leaves its socket to the garbage collector on this path.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_a_garbled_answer_to_the_ssl_request_is_a_connection_failure(kit: Kit) -> None:
    # pg8000 decodes the one-byte answer as ASCII; without the adapter's translation the
    # UnicodeDecodeError surfaced as our "cannot encode the host, user or a keyword value".
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5)
                received.append(conn.recv(64))
                conn.sendall(b"\xff")
                received.append(conn.recv(64))  # b"" once the client gives up

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        port = server.getsockname()[1]
        with pytest.raises(pg8000.exceptions.InterfaceError, match="PostgreSQL protocol") as info:
            kit.connector.connect("127.0.0.1", USER, driver=DRIVER, port=port)
        thread.join(5)
    assert info.value.__context__ is None
    assert received == [struct.pack("!ii", 8, 80877103), b""]  # an SSLRequest, then nothing
