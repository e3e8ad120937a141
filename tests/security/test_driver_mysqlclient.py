"""No mysqlclient keyword, environment variable or option file gets the token to a decoy.

mysqlclient (MySQLdb over MariaDB Connector/C) sends the token in clear to a plaintext server
when given ``ssl={"ca": ...}`` without ``ssl_mode`` (shown below, on the raw driver), reads
option files that override every keyword when asked to (``read_default_file`` /
``read_default_group``), dials a Unix socket for ``host="localhost"``, and Connector/C reads
``MYSQL_TCP_PORT``, ``MYSQL_UNIX_PORT``, ``MYSQL_PWD``, ``MYSQL_HOME`` / ``MARIADB_HOME`` and
``HOME`` (option files). Each attack must be refused (``ConfigurationError``) or stay harmless:
the decoy receives nothing, and a decoy somewhere else is not even dialled.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.drivers.mysqlclient import DISABLE_VERIFICATION_ENV

from ._common import TOKEN, USER, Kit, assert_empty, assert_no_leak
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy, Pki

MySQLdb = pytest.importorskip("MySQLdb")

DRIVER = "mysqlclient"
REFUSED = (ConfigurationError, MySQLdb.Error)
"""Ours before dialling, or MySQLdb's when the connection fails (TLS, DNS, a refused login)."""
UNRESOLVABLE = "db.decoy.invalid"
"""In the good certificate, never in DNS: a decoy seeing a connection proves a redirect."""
CLIENT_SSL = 0x800

Build = Callable[[Kit, Decoy], dict[str, Any]]


def attempt_refused(attempt: Callable[[], Any], *decoys: Decoy) -> BaseException:
    """``attempt`` must raise one of :data:`REFUSED` and leak nothing to ``decoys``."""
    with pytest.raises(REFUSED) as info:
        attempt().close()  # every decoy refuses every login: never reached
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value


def connect_to(connector: Connector, decoy: Decoy, **kwargs: Any) -> Callable[[], Any]:
    def attempt() -> Any:
        return connector.connect(
            decoy.host, USER, driver=DRIVER, port=decoy.port, connect_timeout=5, **kwargs
        )

    return attempt


def hostile_cnf(path: Path, kit: Kit, decoy: Decoy, socket_path: str = "") -> Path:
    """An option file that, if Connector/C applied it, would send the token in clear."""
    body = (
        "host=127.0.0.1\n"
        f"port={decoy.port}\n"
        f"ssl-ca={kit.rogue_ca}\n"
        "ssl-verify-server-cert=0\n"
        "ssl-enforce=0\n"
        "skip-ssl\n"
        "password=not-the-token\n"
    )
    if socket_path:
        body += f"socket={socket_path}\n"
    path.write_text("".join(f"[{group}]\n{body}" for group in ("client", "client-mariadb")))
    return path


def _p(build: Build, id: str) -> Any:
    return pytest.param(build, id=id)


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return _p(lambda _kit, _decoy: kwargs, id)


def _cnf_file(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    return {"read_default_file": str(hostile_cnf(kit.tmp_path / "my.cnf", kit, decoy))}


def _cnf_group(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    kit.monkeypatch.setenv("HOME", str(kit.tmp_path))
    hostile_cnf(kit.tmp_path / ".my.cnf", kit, decoy)
    return {"read_default_group": "client"}


def _client_cert(kit: Kit, _decoy: Decoy) -> dict[str, Any]:
    path = kit.tmp_path / "client.pem"
    kit.pki.trusted.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(
        str(path)
    )
    return {"ssl": {"cert": str(path), "key": str(path)}}


ATTACKS = [
    _fixed({"ssl_mode": "DISABLED"}, "ssl_mode=DISABLED"),
    _fixed({"ssl_mode": "PREFERRED"}, "ssl_mode=PREFERRED"),
    _fixed({"ssl_mode": "REQUIRED"}, "ssl_mode=REQUIRED"),
    _fixed({"ssl_mode": "VERIFY_CA"}, "ssl_mode=VERIFY_CA"),
    _fixed({"ssl_mode": "verify_identity"}, "ssl_mode=lower-case"),
    _fixed({"ssl_mode ": "DISABLED"}, "'ssl_mode '"),
    _p(lambda k, _d: {"ssl": {"ca": k.rogue_ca}}, "ssl-ca=rogue"),
    _p(lambda k, _d: {"ssl": {"ca": k.pki.trusted_ca_path}}, "ssl-ca=trusted-alone"),
    _p(lambda k, _d: {"ssl": {"capath": str(k.tmp_path)}}, "ssl-capath"),
    _fixed({"ssl": {"cipher": "aNULL:eNULL"}}, "ssl-cipher"),
    _p(_client_cert, "ssl-cert-key"),
    _fixed({"ssl": {}}, "ssl={}"),
    _fixed({"ssl": True}, "ssl=True"),
    _fixed({"ssl": False}, "ssl=False"),
    _fixed({"ssl ": False}, "'ssl '"),
    _p(_cnf_file, "read_default_file"),
    _p(_cnf_group, "read_default_group"),
    _fixed({"unix_socket": "/nonexistent/decoy.sock"}, "unix_socket"),
    _fixed({"named_pipe": True}, "named_pipe"),
    _fixed({"auth_plugin": "mysql_clear_password"}, "auth_plugin"),
    _fixed({"passwd": "not-the-token"}, "passwd"),
    _fixed({"server_public_key_path": "/nonexistent.pem"}, "server_public_key_path"),
    _fixed({"tls_versions": ["TLSv1"]}, "tls_versions"),
    # Allowed, and harmless: what they change happens inside the verified session.
    _fixed({"client_flag": 0}, "client_flag=0"),
    _fixed({"client_flag": 0x7FFFFFFF & ~CLIENT_SSL}, "client_flag-without-CLIENT_SSL"),
    _fixed({"compress": True}, "compress"),
    _fixed({"local_infile": True}, "local_infile"),
    _fixed({"init_command": "SELECT 1"}, "init_command"),
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS)
def test_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    attempt_refused(connect_to(kit.connector, decoy, **build(kit, decoy)), decoy)


@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_verify_ca_never_leaks_the_token(kit: Kit, mode: str) -> None:
    # Connector/C checks the host name under VERIFY_CA too: even the wrong-name decoy fails.
    connector = Connector(signer=kit.signer, ca=kit.pki.trusted_ca_path, tls="verify-ca")
    try:
        decoy = kit.decoy("mysql", mode)
        attempt_refused(connect_to(connector, decoy), decoy)
    finally:
        connector.close()


# Read per connection (option-file directories only when option files are read at all);
# MYSQL_TCP_PORT / MYSQL_UNIX_PORT are read once, at import: see the subprocess test below.
ENV_ATTACKS: list[dict[str, str]] = [
    {"MYSQL_HOST": "127.0.0.1"},
    {"MYSQL_PWD": "not-the-token"},
    {"LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN": "1"},
    {"HOME": "{cnf_dir}"},
    {"MYSQL_HOME": "{cnf_dir}"},
    {"MARIADB_HOME": "{cnf_dir}"},
    {"SSL_CERT_FILE": "{rogue}", "SSL_CERT_DIR": "{cnf_dir}"},
]


def _set_env(kit: Kit, env: dict[str, str], decoy: Decoy) -> None:
    cnf_dir = kit.tmp_path / "cnf"
    cnf_dir.mkdir(exist_ok=True)
    for name in (".my.cnf", "my.cnf"):
        hostile_cnf(cnf_dir / name, kit, decoy)
    for name, value in env.items():
        kit.monkeypatch.setenv(
            name, value.format(port=decoy.port, cnf_dir=cnf_dir, rogue=kit.rogue_ca)
        )


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize(
    "env", ENV_ATTACKS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items())
)
def test_environment_never_leaks_the_token(kit: Kit, env: dict[str, str], mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    _set_env(kit, env, decoy)
    attempt_refused(connect_to(kit.connector, decoy), decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_disable_peer_verification_variable_is_refused_before_dialling(kit: Kit, mode: str) -> None:
    # Connector/C 3.4+ skips certificate verification while this variable exists (3.3 ignores
    # it): the connector refuses to hand the token to a library in that state.
    kit.monkeypatch.setenv(DISABLE_VERIFICATION_ENV, "1")
    decoy = kit.decoy("mysql", mode)
    error = attempt_refused(connect_to(kit.connector, decoy), decoy)
    assert isinstance(error, ConfigurationError)
    assert DISABLE_VERIFICATION_ENV in str(error)
    assert decoy.connections == 0


@pytest.mark.parametrize("how", ["MYSQL_HOST", "HOME", "MYSQL_HOME", "MARIADB_HOME"])
def test_environment_cannot_redirect_the_socket(kit: Kit, how: str) -> None:
    # The good decoy would pass verification for the name asked for: only where the socket goes
    # would be wrong. Without a redirect, the connection goes where DNS says: nowhere.
    decoy = kit.decoy("mysql", "good")
    _set_env(kit, {how: "127.0.0.1" if how == "MYSQL_HOST" else "{cnf_dir}"}, decoy)

    def attempt() -> Any:
        return kit.connector.connect(UNRESOLVABLE, USER, driver=DRIVER, port=decoy.port)

    error = attempt_refused(attempt, decoy)
    assert isinstance(error, MySQLdb.OperationalError)
    assert error.args[0] == 2005  # unknown server host
    assert decoy.connections == 0, "the environment moved the connection to the decoy"


@pytest.mark.parametrize("unix_mode", ["plaintext", "good"])
def test_option_file_socket_is_not_read(kit: Kit, unix_mode: str) -> None:
    target = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", unix_mode, unix=True)
    assert unix.unix_path is not None
    kit.monkeypatch.setenv("HOME", str(kit.tmp_path))
    hostile_cnf(kit.tmp_path / ".my.cnf", kit, target, unix.unix_path)
    attempt_refused(connect_to(kit.connector, target), unix)
    assert unix.connections == 0, "the connection went to the Unix socket"
    assert set(target.passwords) == {TOKEN}  # the good TCP decoy, verified, got it


_CHILD = """
import sys
from rds_iam_auth import Connector
from rds_iam_auth.testing import StaticSigner

token, ca, host, port = sys.argv[1:]
with Connector(signer=StaticSigner(token), ca=ca, region="us-east-1") as c:
    try:
        c.connect(host, "app", driver="mysqlclient", port=int(port), connect_timeout=5).close()
    except Exception as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else ""
        print(type(exc).__name__, code)
    else:
        print("connected")
"""


_RAW_CHILD = """
import sys
import MySQLdb

token, ca, host = sys.argv[1:4]
try:
    MySQLdb.connect(host=host, user="app", password=token, ssl={"ca": ca}, connect_timeout=5)
except MySQLdb.Error as exc:
    print(exc.args[0])
"""


@dataclass
class _Redirects:
    """Good decoys on TCP and on a Unix socket, and an environment that points at both."""

    tcp: Decoy
    unix: Decoy
    env: dict[str, str]

    def run(self, script: str, *args: str) -> str:
        child = subprocess.run(
            [sys.executable, "-c", script, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        return child.stdout.strip()


@pytest.fixture
def redirects(kit: Kit) -> _Redirects:
    tcp = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", "good", unix=True)
    assert unix.unix_path is not None
    cnf_dir = kit.tmp_path / "cnf"
    cnf_dir.mkdir()
    for name in (".my.cnf", "my.cnf"):
        hostile_cnf(cnf_dir / name, kit, tcp, unix.unix_path)
    env = {
        **os.environ,
        "MYSQL_TCP_PORT": str(tcp.port),
        "MYSQL_UNIX_PORT": unix.unix_path,
        "MARIADB_UNIX_PORT": unix.unix_path,
        "MYSQL_HOST": "127.0.0.1",
        "MYSQL_PWD": "not-the-token",
        "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN": "1",
        "HOME": str(cnf_dir),
        "MYSQL_HOME": str(cnf_dir),
        "MARIADB_HOME": str(cnf_dir),
    }
    env.pop(DISABLE_VERIFICATION_ENV, None)
    return _Redirects(tcp, unix, env)


@pytest.mark.parametrize("dial", ["unresolvable", "localhost", *ATTACK_MODES])
def test_variables_read_at_import_never_redirect_or_leak(
    kit: Kit, redirects: _Redirects, dial: str
) -> None:
    # Connector/C reads MYSQL_TCP_PORT and MYSQL_UNIX_PORT once, when MySQLdb is imported, so
    # a fresh interpreter gets them (and every other variable it reads) from the start. They
    # point at good decoys, which a redirected client would hand the token after verifying.
    tcp, unix = redirects.tcp, redirects.unix
    target = None if dial in ("unresolvable", "localhost") else kit.decoy("mysql", dial)
    host = {"unresolvable": UNRESOLVABLE, "localhost": "localhost"}.get(dial, "127.0.0.1")
    port = tcp.port if target is None else target.port
    outcome = redirects.run(_CHILD, TOKEN, kit.pki.trusted_ca_path, host, str(port))
    expected = {"unresolvable": "OperationalError 2005", "localhost": "ConfigurationError"}
    assert outcome == expected.get(dial, "OperationalError 2026")
    assert (tcp.connections, unix.connections) == (0, 0), "the environment moved the connection"
    for decoy in (tcp, unix, *([target] if target else [])):
        assert_no_leak(decoy)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_the_child_does_read_those_variables(kit: Kit, redirects: _Redirects, host: str) -> None:
    # The control for the test above: the raw driver, without port= (and with localhost), is
    # redirected to the Unix socket or to MYSQL_TCP_PORT by that same environment.
    outcome = redirects.run(_RAW_CHILD, TOKEN, kit.pki.trusted_ca_path, host)
    assert outcome == "1045"  # the good decoy's refusal: it got there, and got the token
    reached = redirects.unix if host == "localhost" else redirects.tcp
    assert reached.passwords == [TOKEN]


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_sslkeylogfile_is_not_honoured(kit: Kit, mode: str) -> None:
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy("mysql", mode)
    attempt_refused(connect_to(kit.connector, decoy), *([] if mode == "good" else [decoy]))
    if mode == "good":
        assert decoy.tls_handshakes_completed >= 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)


@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_mutating_connect_kwargs_weakens_no_later_connection(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    kwargs = kit.connector.connect_kwargs(decoy.host, USER, driver=DRIVER, port=decoy.port)
    kwargs["ssl"]["ca"] = kit.rogue_ca
    kwargs["ssl_mode"] = "DISABLED"
    attempt_refused(connect_to(kit.connector, decoy), decoy)


class _OneTlsVersion:
    """Stands in for :class:`Pki` with server contexts that speak only ``version``."""

    def __init__(self, pki: Pki, version: ssl.TLSVersion) -> None:
        self.pki, self.version = pki, version
        self.trusted_ca_path = pki.trusted_ca_path

    def server_context(self, mode: str, protocol: str) -> ssl.SSLContext | None:
        context = self.pki.server_context(mode, protocol)
        assert context is not None
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the server offer what OpenSSL 3 won't
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 / TLSv1_1 are deprecated
            context.minimum_version = context.maximum_version = self.version
        return context


@contextmanager
def _decoy_speaking(pki: Pki, version: ssl.TLSVersion) -> Iterator[Decoy]:
    with Decoy("mysql", "good", _OneTlsVersion(pki, version)) as decoy:  # type: ignore[arg-type]
        yield decoy


@pytest.mark.parametrize(
    ("version", "gets_token"),
    [
        (ssl.TLSVersion.TLSv1, False),
        (ssl.TLSVersion.TLSv1_1, False),
        (ssl.TLSVersion.TLSv1_2, True),  # the control: the same decoy at TLS 1.2 is accepted
    ],
    ids=["TLSv1.0", "TLSv1.1", "TLSv1.2"],
)
def test_legacy_tls_servers_get_nothing(
    kit: Kit, pki: Pki, version: ssl.TLSVersion, gets_token: bool
) -> None:
    # MySQLdb has no TLS-version keyword: the floor is OpenSSL 3's default security level.
    with _decoy_speaking(pki, version) as decoy:
        attempt_refused(connect_to(kit.connector, decoy), *([] if gets_token else [decoy]))
        assert decoy.connections >= 1
        assert (set(decoy.passwords) == {TOKEN}) is gets_token


# --- the decoys are real for this driver ------------------------------------------------------


def test_the_library_reaches_the_good_decoy_over_tls(kit: Kit) -> None:
    decoy = kit.decoy("mysql", "good")
    error = attempt_refused(connect_to(kit.connector, decoy))
    assert isinstance(error, MySQLdb.OperationalError)
    assert error.args[0] == 1045
    assert decoy.passwords == [TOKEN, TOKEN]  # refused, retried once
    assert decoy.tls_handshakes_completed == 2
    assert kit.connector.stats.retries == 1


@pytest.mark.parametrize("mode", ["plaintext", "wrong-name"])
def test_raw_driver_with_ca_but_no_ssl_mode_leaks(kit: Kit, mode: str) -> None:
    # Why the adapter always sets ssl_mode: the CA alone verifies no name and allows plaintext.
    decoy = kit.decoy("mysql", mode)
    with pytest.raises(MySQLdb.OperationalError):
        MySQLdb.connect(
            host=decoy.host,
            port=decoy.port,
            user=USER,
            password=TOKEN,
            ssl={"ca": kit.pki.trusted_ca_path},
            connect_timeout=5,
        )
    assert decoy.passwords == [TOKEN]
