"""No mysql.connector keyword, environment variable or option file gets the token to a decoy.

mysql.connector's pure-Python implementation builds its own TLS context per connection with
``ssl.create_default_context()`` + ``load_default_certs()``: it trusts ``SSL_CERT_FILE`` and the
system store besides ``ssl_ca``, and writes ``SSLKEYLOGFILE``; its C extension (libmysqlclient)
falls back to plaintext unless ``ssl_verify_identity`` is set; it reads option files
(``option_files``), follows ``failover`` lists and DNS SRV records, and keeps connections with
their password in module-level pools. The raw-driver tests at the end show the first two
are real; every other test shows the connector keeps the token away from each decoy anyway,
with every implementation that loads here (the C extension only where it does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import mysql.connector
import pytest
from mysql.connector import errors

from rds_iam_auth import ConfigurationError, Connector

from ._common import TOKEN, USER, Kit, assert_empty, assert_no_leak
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

DRIVER = "mysql.connector"
IMPLEMENTATIONS = [
    pytest.param(True, id="pure"),
    *([pytest.param(False, id="c-extension")] if mysql.connector.HAVE_CEXT else []),
]
REFUSED = (ConfigurationError, errors.Error)
UNRESOLVABLE = "db.decoy.invalid"  # on the good certificate, never in DNS
ENDPOINT = "db.example.com"

Build = Callable[[Kit, Decoy], dict[str, Any]]


def _attempt(kit: Kit, decoy: Decoy, use_pure: bool, host: str = "", **kwargs: Any) -> Any:
    def attempt() -> Any:
        return kit.connector.connect(
            host or decoy.host, USER, driver=DRIVER, port=decoy.port, use_pure=use_pure, **kwargs
        )

    return attempt


def _refused(attempt: Callable[[], Any], *decoys: Decoy) -> BaseException:
    with pytest.raises(REFUSED) as info:
        attempt().close()  # every decoy refuses the login, so close() is never reached
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value


def _option_file(kit: Kit, decoy: Decoy) -> str:
    path = kit.tmp_path / "my.cnf"
    path.write_text(
        "[client]\n"
        "host=127.0.0.1\n"
        f"port={decoy.port}\n"
        "ssl-disabled=True\n"
        "ssl-verify-cert=False\n"
        f"ssl-ca={kit.rogue_ca}\n"
        "[connector_python]\n"
        "ssl_disabled=True\n"
    )
    return str(path)


def _p(build: Build, id: str) -> Any:
    return pytest.param(build, id=id)


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return _p(lambda _kit, _decoy: kwargs, id)


ATTACKS = [
    # Owned: refused by name, before dialling.
    _fixed({"ssl_disabled": True}, "ssl_disabled"),
    _fixed({"ssl_verify_cert": False}, "ssl_verify_cert=False"),
    _fixed({"ssl_verify_identity": False}, "ssl_verify_identity=False"),
    _p(lambda k, _d: {"ssl_ca": k.rogue_ca}, "ssl_ca=rogue"),
    _fixed({"ssl_cipher": "NULL"}, "ssl_cipher"),
    _fixed({"tls_versions": ["TLSv1.2"]}, "tls_versions"),
    _fixed({"tls_ciphersuites": ["TLS_AES_128_GCM_SHA256"]}, "tls_ciphersuites"),
    _fixed({"auth_plugin": "mysql_native_password"}, "auth_plugin"),
    _fixed({"password": "not-the-token"}, "password"),
    _fixed({"passwd": "not-the-token"}, "passwd"),
    _fixed({"password1": "not-the-token"}, "password1"),
    _fixed({"username": "root"}, "username"),
    _fixed({"host": "127.0.0.1"}, "host"),
    _fixed({"unix_socket": "/nonexistent/decoy.sock"}, "unix_socket"),
    _p(lambda k, d: {"option_files": _option_file(k, d)}, "option_files"),
    _p(lambda k, d: {"option_files": _option_file(k, d), "option_groups": "client"}, "groups"),
    _p(lambda k, d: {"read_default_file": _option_file(k, d)}, "read_default_file"),
    _fixed({"option_groups": ["client"]}, "option_groups-alone"),
    _fixed({"dsn": "mysql://app@127.0.0.1/db"}, "dsn"),
    _p(lambda _k, d: {"failover": [{"host": "127.0.0.1", "port": d.port}]}, "failover"),
    _fixed({"dns_srv": True}, "dns_srv"),
    _fixed({"pool_name": "decoy"}, "pool_name"),
    _fixed({"pool_size": 2}, "pool_size"),
    _fixed({"pool_reset_session": False}, "pool_reset_session"),
    _p(lambda k, _d: {"openid_token_file": k.rogue_ca}, "openid_token_file"),
    _p(lambda k, _d: {"oci_config_file": k.rogue_ca}, "oci_config_file"),
    _fixed({"oci_config_profile": "DEFAULT"}, "oci_config_profile"),
    _fixed({"krb_service_principal": "mysql/decoy@EXAMPLE"}, "krb_service_principal"),
    _fixed({"kerberos_auth_mode": "GSSAPI"}, "kerberos_auth_mode"),
    _fixed({"webauthn_callback": print}, "webauthn_callback"),
    _fixed({"ssl_disabled ": True}, "'ssl_disabled '"),
    _fixed({"SSL_DISABLED": True}, "SSL_DISABLED"),
    _fixed({"ssl_mode": "DISABLED"}, "ssl_mode"),
    # Allowed: harmless, so the decoy's TLS still fails the connection.
    _fixed({"allow_local_infile": True}, "allow_local_infile"),
    _fixed({"client_flags": 0}, "client_flags=0"),
    _fixed({"compress": True}, "compress"),
    _fixed({"conn_attrs": {"program_name": "decoy"}}, "conn_attrs"),
    _fixed({"init_command": "SELECT 1"}, "init_command"),
    _fixed({"force_ipv6": False}, "force_ipv6"),
]


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS)
def test_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str, use_pure: bool) -> None:
    decoy = kit.decoy("mysql", mode)
    _refused(_attempt(kit, decoy, use_pure, **build(kit, decoy)), decoy)


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_default_path_refuses_every_decoy_after_dialling_it(
    kit: Kit, mode: str, use_pure: bool
) -> None:
    decoy = kit.decoy("mysql", mode)
    _refused(_attempt(kit, decoy, use_pure), decoy)
    assert decoy.connections >= 1  # the refusal is TLS, not a typo before dialling


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
def test_positive_path_reaches_the_good_decoy(kit: Kit, use_pure: bool) -> None:
    decoy = kit.decoy("mysql", "good")
    exc = _refused(_attempt(kit, decoy, use_pure))
    assert isinstance(exc, errors.ProgrammingError)
    assert exc.errno == 1045
    assert set(decoy.passwords) == {TOKEN}
    assert decoy.startups[0] == {"user": USER, "plugin": "mysql_clear_password"}
    assert decoy.tls_handshakes_completed == 2  # refused, retried once


def test_client_certificate_keeps_verification(kit: Kit) -> None:
    cert = kit.tmp_path / "client.pem"
    kit.pki.rogue.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(
        str(cert)
    )
    for mode in ATTACK_MODES:
        decoy = kit.decoy("mysql", mode)
        _refused(_attempt(kit, decoy, True, ssl_cert=str(cert), ssl_key=str(cert)), decoy)


# --- the environment ----------------------------------------------------------------------------


def _hostile_environment(kit: Kit, decoy: Decoy, unix_path: str = "") -> None:
    """Point every variable libmysqlclient or Python's ssl module reads at the decoy."""
    cnf = _option_file(kit, decoy)
    home = kit.tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".my.cnf").write_text(Path(cnf).read_text())
    (home / ".mylogin.cnf").write_text(Path(cnf).read_text())
    env = {
        "SSL_CERT_FILE": kit.rogue_ca,  # Python's load_default_certs() and OpenSSL read it
        "MYSQL_HOST": "127.0.0.1",
        "MYSQL_TCP_PORT": str(decoy.port),
        "MYSQL_UNIX_PORT": unix_path or "/nonexistent/decoy.sock",
        "MYSQL_PWD": "not-the-token",
        "MYSQL_HOME": str(home),
        "MYSQL_TEST_LOGIN_FILE": str(home / ".mylogin.cnf"),
        "MYSQL_GROUP_SUFFIX": "_decoy",
        "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN": "1",
        "HOME": str(home),
    }
    for name, value in env.items():
        kit.monkeypatch.setenv(name, value)


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
@pytest.mark.parametrize("mode", ATTACK_MODES)
def test_environment_never_leaks_the_token(kit: Kit, mode: str, use_pure: bool) -> None:
    decoy = kit.decoy("mysql", mode)
    _hostile_environment(kit, decoy)
    # A CA file nobody used before, so no context cached earlier can hide what the env does.
    kit._connector = kit.new_connector(kit.private_ca())
    _refused(_attempt(kit, decoy, use_pure), decoy)


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
def test_environment_cannot_redirect_the_socket(kit: Kit, use_pure: bool) -> None:
    # The good decoy's certificate is valid for the name asked for: only where the socket goes
    # would be wrong. Without address=, it must go where DNS says (nowhere, for this name).
    decoy = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", "good", unix=True)
    _hostile_environment(kit, decoy, unix.unix_path or "")
    _refused(_attempt(kit, decoy, use_pure, host=UNRESOLVABLE), decoy, unix)
    assert decoy.connections == 0, "the environment moved the connection to 127.0.0.1"
    assert unix.connections == 0, "the environment moved the connection to a Unix socket"


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
def test_localhost_is_tcp_not_the_unix_socket(kit: Kit, use_pure: bool) -> None:
    # libmysqlclient's classic rule: "localhost" means the Unix socket (MYSQL_UNIX_PORT).
    target = kit.decoy("mysql", "good")
    unix = kit.decoy("mysql", "plaintext", unix=True)
    kit.monkeypatch.setenv("MYSQL_UNIX_PORT", unix.unix_path or "")
    _refused(_attempt(kit, target, use_pure, host="localhost"), unix)
    assert unix.connections == 0
    assert set(target.passwords) == {TOKEN}  # it went to the TCP server, verified


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
@pytest.mark.parametrize("mode", LOOPBACK_MODES)
def test_sslkeylogfile_is_not_honoured(kit: Kit, mode: str, use_pure: bool) -> None:
    kit.monkeypatch.setenv("SSLKEYLOGFILE", str(kit.keylog))
    decoy = kit.decoy("mysql", mode)
    kit._connector = kit.new_connector(kit.private_ca())
    _refused(_attempt(kit, decoy, use_pure), *([] if mode == "good" else [decoy]))
    if mode == "good":
        assert decoy.tls_handshakes_completed >= 1  # a session whose keys could have leaked
    assert_empty(kit.keylog)


# --- tls="verify-ca" and address= ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plaintext", "untrusted"])
def test_verify_ca_still_requires_tls_and_the_chain(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    with Connector(
        signer=kit.signer, ca=kit.pki.trusted_ca_path, region="us-east-1", tls="verify-ca"
    ) as verify_ca:
        with pytest.raises(errors.InterfaceError):
            verify_ca.connect(decoy.host, USER, driver=DRIVER, port=decoy.port).close()
        assert decoy.connections >= 1
        assert_no_leak(decoy)
        # libmysqlclient would have sent it in clear (raw-driver test below): refused up front.
        before = decoy.connections
        with pytest.raises(ConfigurationError, match="verify-ca"):
            verify_ca.connect(decoy.host, USER, driver=DRIVER, port=decoy.port, use_pure=False)
        assert decoy.connections == before


IMPOSTORS = (*ATTACK_MODES, "ip-only")
"""``ip-only`` is trusted and valid for 127.0.0.1, the dialled address, but not the endpoint."""


@pytest.mark.parametrize("mode", IMPOSTORS)
def test_address_to_a_decoy_never_leaks(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("mysql", mode)
    address = f"127.0.0.1:{decoy.port}"
    with pytest.raises(errors.InterfaceError):
        kit.connector.connect(ENDPOINT, USER, driver=DRIVER, port=3306, address=address)
    assert decoy.connections >= 1, "address= did not dial the decoy"
    assert_no_leak(decoy)
    before = decoy.connections
    with pytest.raises(ConfigurationError, match="address="):
        kit.connector.connect(
            ENDPOINT, USER, driver=DRIVER, port=3306, address=address, use_pure=False
        )
    assert decoy.connections == before


def test_address_to_the_good_server_signs_for_the_endpoint(kit: Kit) -> None:
    decoy = kit.decoy("mysql", "good")
    with pytest.raises(errors.ProgrammingError):  # the decoy refuses every login
        kit.connector.connect(
            ENDPOINT, USER, driver=DRIVER, port=3306, address=f"127.0.0.1:{decoy.port}"
        )
    assert set(decoy.passwords) == {TOKEN}
    endpoint, user, _now = kit.signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (ENDPOINT, 3306, USER)


# --- why: what the raw driver does with the obvious keywords -------------------------------------


def _raw(decoy: Decoy, ca: str, **kwargs: Any) -> Any:
    return mysql.connector.connect(
        host=decoy.host,
        port=decoy.port,
        user=USER,
        password=TOKEN,
        auth_plugin="mysql_clear_password",
        ssl_ca=ca,
        ssl_verify_cert=True,
        **kwargs,
    )


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
def test_raw_driver_and_ssl_cert_file(kit: Kit, use_pure: bool) -> None:
    # Why the pure-Python connection uses our context: the driver's own also loads the default
    # verify paths, which SSL_CERT_FILE can point at any CA. libmysqlclient does not.
    decoy = kit.decoy("mysql", "untrusted")
    kit.monkeypatch.setenv("SSL_CERT_FILE", kit.rogue_ca)
    with pytest.raises(errors.ProgrammingError if use_pure else errors.InterfaceError):
        _raw(decoy, kit.pki.trusted_ca_path, ssl_verify_identity=True, use_pure=use_pure)
    assert (TOKEN in decoy.passwords) is use_pure


@pytest.mark.parametrize("use_pure", IMPLEMENTATIONS)
def test_raw_driver_without_verify_identity_and_a_plaintext_server(
    kit: Kit, use_pure: bool
) -> None:
    # Why tls="verify-ca" is refused with use_pure=False: libmysqlclient then stays at
    # SSL_MODE_PREFERRED and sends the cleartext password unencrypted. Pure Python refuses.
    decoy = kit.decoy("mysql", "plaintext")
    with pytest.raises(errors.InterfaceError if use_pure else errors.ProgrammingError):
        _raw(decoy, kit.pki.trusted_ca_path, ssl_verify_identity=False, use_pure=use_pure)
    assert (TOKEN in decoy.passwords) is not use_pure
