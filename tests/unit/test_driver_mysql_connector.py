"""mysql.connector adapter: exact keywords, the allowlist, address=, both implementations, the
refusal it recognises (with the driver's real exception classes) and the install checks.

No connection is opened here: the driver's connection classes are replaced by recorders where
a test needs to see what ``connect()`` hands them. tests/integration and tests/security log in
for real (emulator) and against decoys.
"""

from __future__ import annotations

import ssl
import sys
import types
from pathlib import Path
from typing import Any

import mysql.connector
import pytest
import trustme
from mysql.connector import errors
from mysql.connector.connection import MySQLConnection
from mysql.connector.constants import CNX_POOL_ARGS, DEFAULT_CONFIGURATION

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import mysql_connector as adapter
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import TlsSettings, context_for

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:3306/?Action=connect&DBUser=app&X-Amz-Signature=abc"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def client_pem(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("client") / "client.pem"
    trustme.CA().issue_cert("client.example.test").private_key_and_cert_chain_pem.write_to_path(
        str(path)
    )
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


@pytest.fixture
def verify_ca(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-ca", ca_file)


def build(tls: TlsSettings, address: Address | None = None, **user_kwargs: Any) -> Any:
    return adapter.build_kwargs(
        host=HOST,
        port=3306,
        user="app",
        password=TOKEN,
        tls=tls,
        address=address,
        user_kwargs=user_kwargs,
    )


def refused(tls: TlsSettings, **user_kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        build(tls, **user_kwargs)
    assert TOKEN not in str(info.value)
    return str(info.value)


def expected(ca_file: str, *, identity: bool = True, use_pure: bool = True) -> dict[str, Any]:
    return {
        "host": HOST,
        "port": 3306,
        "user": "app",
        "password": TOKEN,
        "auth_plugin": "mysql_clear_password",
        "ssl_ca": ca_file,
        "ssl_verify_cert": True,
        "ssl_verify_identity": identity,
        "ssl_disabled": False,
        "use_pure": use_pure,
    }


# --- keywords -----------------------------------------------------------------------------------


def test_registry() -> None:
    assert get_adapter("mysql.connector") is adapter
    assert adapter.DEFAULT_PORT == 3306
    assert adapter.SUPPORTS_ADDRESS is True


def test_exact_kwargs_and_pinned_context(full: TlsSettings, ca_file: str) -> None:
    kwargs = build(full)
    assert kwargs == expected(ca_file)
    assert kwargs.context is context_for(full, HOST)  # the shared read-only one
    assert kwargs.context.verify_mode == ssl.CERT_REQUIRED
    assert kwargs.context.check_hostname is True
    assert kwargs.context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert TOKEN not in repr(kwargs)
    with pytest.raises(AttributeError, match="read-only"):
        kwargs.context.check_hostname = False


def test_verify_ca(verify_ca: TlsSettings, ca_file: str) -> None:
    kwargs = build(verify_ca)
    assert kwargs == expected(ca_file, identity=False)
    assert kwargs.context.check_hostname is False
    assert kwargs.context.verify_mode == ssl.CERT_REQUIRED


def test_user_kwargs_pass_through(full: TlsSettings) -> None:
    class Converter(mysql.connector.conversion.MySQLConverter):
        pass

    given = {
        "database": "app",
        "connection_timeout": 5,
        "autocommit": True,
        "charset": "utf8mb4",
        "init_command": "SET time_zone = '+00:00'",
        "conn_attrs": {"program_name": "svc"},
        "converter_class": Converter,
        "allow_local_infile": False,
        "force_ipv6": False,
    }
    kwargs = build(full, **given)
    assert {k: kwargs[k] for k in given} == given
    assert kwargs["password"] == TOKEN


# Every keyword mysql.connector.connect() reads: each must be either allowed or owned, so an
# option a new release adds fails this test until someone has decided about it.
DRIVER_KEYWORDS = {
    *DEFAULT_CONFIGURATION,
    *CNX_POOL_ARGS,
    "option_files",
    "option_groups",
    "read_default_file",
    "failover",
    "dns_srv",
    "username",
    "kerberos_auth_mode",
    "oci_config_profile",
}


def test_every_driver_keyword_is_classified() -> None:
    unclassified = DRIVER_KEYWORDS - adapter.POLICY.allowed - set(adapter.POLICY.owned)
    assert not unclassified
    # And nothing is allowed that the driver does not know (ssl_key_password: our context).
    assert adapter.POLICY.allowed - DRIVER_KEYWORDS == {"ssl_key_password"}


TLS_OWNED = [
    "ssl_ca",
    "ssl_disabled",
    "ssl_verify_cert",
    "ssl_verify_identity",
    "ssl_cipher",
    "tls_versions",
    "tls_ciphersuites",
]
TARGET_OWNED = ["host", "port", "user", "username", "unix_socket", "dns_srv", "failover"]
OTHER_OWNED = [
    "password",
    "passwd",
    "password1",
    "password2",
    "password3",
    "auth_plugin",
    "krb_service_principal",
    "kerberos_auth_mode",
    "openid_token_file",
    "webauthn_callback",
    "oci_config_file",
    "oci_config_profile",
    "option_files",
    "option_groups",
    "read_default_file",
    "dsn",
    "pool_name",
    "pool_size",
    "pool_reset_session",
]


@pytest.mark.parametrize("name", TLS_OWNED)
def test_tls_keywords_refused_naming_tls(full: TlsSettings, name: str) -> None:
    message = refused(full, **{name: False})
    assert f"do not pass {name}=" in message
    assert "tls=" in message
    assert "ca=" in message


@pytest.mark.parametrize("name", TARGET_OWNED)
def test_target_keywords_refused_naming_address(full: TlsSettings, name: str) -> None:
    assert "address=" in refused(full, **{name: "127.0.0.1"})


@pytest.mark.parametrize("name", OTHER_OWNED)
def test_other_owned_keywords_refused(full: TlsSettings, name: str) -> None:
    assert f"do not pass {name}=" in refused(full, **{name: "x"})


def test_pool_keywords_say_what_to_use(full: TlsSettings) -> None:
    assert "creator()" in refused(full, pool_name="app", pool_size=5)


@pytest.mark.parametrize("name", ["ssl_disabled ", "sslmode", "ssl_mode", "_span", "SSL_CA", ""])
def test_unknown_keywords_refused(full: TlsSettings, name: str) -> None:
    assert "unknown or unsupported keyword" in refused(full, **{name: True})


@pytest.mark.parametrize("value", ["no", 0, None])
def test_use_pure_must_be_a_bool(full: TlsSettings, value: object) -> None:
    assert "use_pure= must be True or False" in refused(full, use_pure=value)


def test_client_certificate_goes_into_our_context(full: TlsSettings, client_pem: str) -> None:
    kwargs = build(full, ssl_cert=client_pem, ssl_key=client_pem)
    assert "ssl_cert" not in kwargs  # the driver never builds a context of its own from them
    assert "ssl_key" not in kwargs
    assert kwargs.context is not context_for(full, HOST)
    assert kwargs.context.verify_mode == ssl.CERT_REQUIRED
    assert kwargs.context.check_hostname is True
    assert "need ssl_cert" in refused(full, ssl_key=client_pem)


# --- address= -----------------------------------------------------------------------------------


def test_address_dials_elsewhere_and_verifies_the_endpoint(full: TlsSettings) -> None:
    kwargs = build(full, Address("::1", 15306))
    assert (kwargs["host"], kwargs["port"]) == ("::1", 15306)
    assert kwargs.context.server_name == HOST
    assert kwargs.context is context_for(full, HOST)


def test_address_through_the_connector(ca_file: str) -> None:
    with Connector(signer=StaticSigner(TOKEN), ca=ca_file) as c:
        kwargs = c.connect_kwargs(HOST, "app", driver="mysql.connector", address="10.0.0.5:13306")
    assert (kwargs["host"], kwargs["port"]) == ("10.0.0.5", 13306)


# --- use_pure=False: the C extension ------------------------------------------------------------


def test_c_extension_kwargs(
    full: TlsSettings, ca_file: str, client_pem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mysql.connector, "HAVE_CEXT", True)
    kwargs = build(full, use_pure=False, database="app", ssl_cert=client_pem, ssl_key=client_pem)
    assert kwargs == {
        **expected(ca_file, use_pure=False),
        "ssl_cert": client_pem,
        "ssl_key": client_pem,
        "database": "app",
    }
    assert getattr(kwargs, "context", None) is None


def test_c_extension_that_does_not_load_is_named(
    full: TlsSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mysql.connector, "HAVE_CEXT", False)
    message = refused(full, use_pure=False)
    assert "HAVE_CEXT is False" in message
    assert "leave use_pure out" in message


@pytest.mark.parametrize("have_cext", [True, False])
def test_c_extension_refuses_what_only_pure_python_can_do(
    full: TlsSettings,
    verify_ca: TlsSettings,
    client_pem: str,
    monkeypatch: pytest.MonkeyPatch,
    have_cext: bool,
) -> None:
    monkeypatch.setattr(mysql.connector, "HAVE_CEXT", have_cext)
    with pytest.raises(ConfigurationError, match=r"address= needs the pure-Python"):
        build(full, Address("127.0.0.1", 13306), use_pure=False)
    # libmysqlclient without VERIFY_IDENTITY is SSL_MODE_PREFERRED: plaintext fallback.
    assert "plaintext" in refused(verify_ca, use_pure=False)
    assert "ssl_key_password" in refused(
        full, use_pure=False, ssl_cert=client_pem, ssl_key=client_pem, ssl_key_password="pw"
    )
    assert "both ssl_cert= and ssl_key=" in refused(full, use_pure=False, ssl_cert=client_pem)


def test_c_extension_address_through_the_connector(ca_file: str) -> None:
    with (
        Connector(signer=StaticSigner(TOKEN), ca=ca_file) as c,
        pytest.raises(ConfigurationError, match="address="),
    ):
        c.creator(HOST, "app", driver="mysql.connector", address="[::1]:1", use_pure=False)


# --- connect(): what the driver's classes receive --------------------------------------------


class Recorder:
    """Stands in for a connection class: records what it was given."""

    made: list[Recorder]
    fail = False

    def __init__(self, **kwargs: Any) -> None:
        self.init_kwargs = kwargs
        self.connect_kwargs: dict[str, Any] | None = None
        self.closed = False
        self._socket: object = "socket"
        self.made.append(self)

    def connect(self, **kwargs: Any) -> None:
        self.connect_kwargs = kwargs
        if self.fail:
            raise errors.InterfaceError("handshake failed")

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[Recorder]:
    cls = type("PureRecorder", (Recorder,), {"made": []})
    monkeypatch.setattr(adapter, "_connection_class", lambda: cls)
    return cls


def test_connect_opens_our_connection_class(
    full: TlsSettings, ca_file: str, recorder: type[Recorder]
) -> None:
    kwargs = build(full, database="app")
    conn = adapter.connect(kwargs)
    assert recorder.made == [conn]
    assert conn.init_kwargs == {}  # configured by connect(), after the context is in place
    assert conn.rds_iam_auth_context is kwargs.context
    sent = dict(expected(ca_file), database="app")
    del sent["use_pure"]  # ours: which class to use
    assert conn.connect_kwargs == sent


def test_connect_with_a_plain_mapping_verifies_the_host_it_dials(
    full: TlsSettings, recorder: type[Recorder]
) -> None:
    plain = dict(build(full, Address("127.0.0.1", 13306)))
    conn = adapter.connect(plain)
    assert conn.rds_iam_auth_context.server_name == "127.0.0.1"
    assert conn.rds_iam_auth_context.check_hostname is True


def test_a_failed_connect_frees_the_socket(full: TlsSettings, recorder: type[Recorder]) -> None:
    recorder.fail = True
    with pytest.raises(errors.InterfaceError):
        adapter.connect(build(full))
    (conn,) = recorder.made
    assert conn.closed
    assert conn._socket is None


def test_connect_with_use_pure_false_uses_the_c_extension(
    full: TlsSettings, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = type("CRecorder", (Recorder,), {"made": []})
    fake = types.ModuleType("mysql.connector.connection_cext")
    fake.CMySQLConnection = cls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mysql.connector.connection_cext", fake)
    monkeypatch.setattr(mysql.connector, "HAVE_CEXT", True)
    conn = adapter.connect(build(full, use_pure=False))
    sent = expected(ca_file, use_pure=False)
    del sent["use_pure"]
    assert conn.init_kwargs == sent


def test_connection_class_is_a_mysql_connection() -> None:
    cls = adapter._connection_class()
    assert issubclass(cls, MySQLConnection)
    assert cls.__name__ == "VerifiedMySQLConnection"


def test_its_socket_uses_our_context(full: TlsSettings) -> None:
    # The hook the driver calls during the TLS upgrade (authentication.setup_ssl); the security
    # suite shows end to end that SSL_CERT_FILE and SSLKEYLOGFILE then have no effect.
    conn = adapter._connection_class()()
    conn.config(host="127.0.0.1", port=13306, connection_timeout=3)
    conn.rds_iam_auth_context = context_for(full, HOST)
    sock = conn._get_connection()
    assert (sock.server_host, sock.server_port) == ("127.0.0.1", 13306)
    assert sock.build_ssl_context(ssl_ca="/elsewhere.pem", ssl_verify_cert=False) is (
        conn.rds_iam_auth_context
    )


# --- refusal recognition ------------------------------------------------------------------------


def test_refused_login_is_programming_error_1045() -> None:
    # How the driver builds the exception from the server's error packet (both implementations).
    exc = errors.get_mysql_exception(1045, "Access denied for user 'app'@'10.0.0.1'", "28000")
    assert type(exc) is errors.ProgrammingError
    assert adapter.is_auth_refused(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        errors.ProgrammingError(msg="Access denied to database", errno=1044),
        errors.DatabaseError(msg="Access denied", errno=1045),
        errors.OperationalError(msg="Access denied", errno=1045),
        errors.InterfaceError(msg="SSL is required", errno=2026),
        errors.ProgrammingError(msg="no errno"),
        Exception(1045),
    ],
    ids=repr,
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


# --- installation -------------------------------------------------------------------------------


def test_missing_driver(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "mysql.connector", None)  # `import` raises ImportError
    with pytest.raises(DriverNotInstalledError, match=r"rds-iam-auth\[mysql-connector\]") as info:
        adapter.connect({})
    assert isinstance(info.value, ImportError)
    assert info.value.__cause__ is None
    assert adapter.is_auth_refused(errors.ProgrammingError(errno=1045)) is False
    with (
        Connector(signer=StaticSigner(TOKEN), ca=ca_file) as c,
        pytest.raises(DriverNotInstalledError, match="mysql-connector-python"),
    ):
        c.creator(HOST, "app", driver="mysql.connector")  # checked when built, not at first use


def test_versions_below_9_1_are_refused(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setattr(mysql.connector, "__version_info__", (9, 0, 0, "", 1))
    with (
        Connector(signer=StaticSigner(TOKEN), ca=ca_file) as c,
        pytest.raises(DriverNotInstalledError, match=r">= 9\.1 \(found 9\.0\.0\).*255"),
    ):
        c.creator(HOST, "app", driver="mysql.connector")


def test_the_declared_floor_is_9_1() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'mysql-connector = ["mysql-connector-python>=9.1"]' in pyproject
    assert adapter.MIN_VERSION == (9, 1)
