"""mysql.connector against the emulator's MariaDB, with each implementation that loads here.

mysql-connector-python 26.x's C extension needs OpenSSL >= 3.2, so on Debian 12 only the
pure-Python implementation runs; 9.7.0's C extension loads there (nox session
``tests_mysql_connector_cext``, which sets ``RDS_IAM_AUTH_REQUIRE_MYSQL_CEXT=1`` so that a C
extension that stopped loading fails instead of quietly testing pure Python twice).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import mysql.connector
import pytest
import trustme
from mysql.connector import errors

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.drivers import mysql_connector as adapter
from rds_iam_auth.tls import TlsSettings, context_for
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey, ServerInfo

from .drivers import whoami
from .forwarder import forwarding

pytestmark = pytest.mark.integration

DRIVER = "mysql.connector"
IMPLEMENTATIONS = ["pure", *(["c-extension"] if mysql.connector.HAVE_CEXT else [])]
REQUIRE_CEXT = "RDS_IAM_AUTH_REQUIRE_MYSQL_CEXT"


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def connector_for(info: ServerInfo, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    return Connector(
        credentials=key.botocore_credentials(), region=info.region, ca=info.ca_path, **kwargs
    )


def open_with(connector: Connector, info: ServerInfo, impl: str, **kwargs: Any) -> Any:
    return connector.connect(
        info.host,
        info.user,
        driver=DRIVER,
        port=info.port,
        database=info.database,
        use_pure=impl == "pure",
        **kwargs,
    )


def test_parametrized_over_the_implementations_that_load() -> None:
    try:
        import _mysql_connector  # noqa: F401 - the C extension itself
    except ImportError:
        loads = False
    else:
        loads = True
    assert mysql.connector.HAVE_CEXT is loads
    loading = ["pure", "c-extension"] if loads else ["pure"]
    assert loading == IMPLEMENTATIONS
    if os.environ.get(REQUIRE_CEXT) == "1":
        assert loads, (
            f"{REQUIRE_CEXT}=1 but mysql-connector-python {mysql.connector.__version__} has no "
            "C extension that loads here"
        )


def test_which_implementation_ran(mysql_endpoint: ServerInfo, impl: str) -> None:
    info = mysql_endpoint
    with connector_for(info) as c:
        conn = open_with(c, info, impl)
    try:
        if impl == "pure":
            assert type(conn) is adapter._connection_class()
            # The socket's TLS layer is our shared read-only context, not one the driver built.
            tls = TlsSettings("verify-full", info.ca_path)
            assert conn._socket.sock.context is context_for(tls, info.host)
        else:
            from mysql.connector.connection_cext import CMySQLConnection

            assert type(conn) is CMySQLConnection
            assert conn._cmysql.get_ssl_cipher()
        assert conn.is_connected()
    finally:
        conn.close()


@pytest.mark.parametrize("key", [LONG_TERM, TEMPORARY], ids=["long-term", "session-token"])
def test_login_over_verified_tls_without_any_environment_variable(
    emulator: Emulator, impl: str, key: FakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The AWS guide sets LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN; auth_plugin= makes it unnecessary.
    monkeypatch.delenv("LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN", raising=False)
    info = emulator.mysql
    before = len(emulator.verifier_log("mariadb"))
    with connector_for(info, key) as c:
        conn = open_with(c, info, impl)
        try:
            user, cipher = whoami(conn, "mariadb")
            cur = conn.cursor()
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            _, version = cur.fetchone()
        finally:
            conn.close()
        token = c.token(info.host, info.port, info.user).value
        assert c.stats.signings == 1
    assert (user, version) in ((info.user, "TLSv1.2"), (info.user, "TLSv1.3"))
    assert cipher
    if key is TEMPORARY:
        assert len(token) > 255  # what mysql-connector-python <= 9.0 refused
    assert emulator.verifier_log("mariadb")[before:] == [
        f"ACCEPTED user='{info.user}' key={key.access_key}"
    ]


def test_the_token_stays_out_of_the_drivers_debug_log(
    mysql_endpoint: ServerInfo, impl: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Without auth_plugin= the server switches the pure-Python client to the cleartext plugin,
    # whose auth_switch_response logs the password at DEBUG.
    info = mysql_endpoint
    caplog.set_level(logging.DEBUG, logger="mysql.connector")
    with connector_for(info) as c:
        open_with(c, info, impl).close()
        token = c.token(info.host, info.port, info.user).value
    signature = token.rsplit("X-Amz-Signature=", 1)[1]
    assert signature not in caplog.text
    if impl == "pure":
        assert "mysql_clear_password" in caplog.text  # the driver did log, at DEBUG


# verify-ca with the C extension is refused before dialling (see the verify-ca test below).
WRONG_CA_CASES = [(i, "verify-full") for i in IMPLEMENTATIONS] + [("pure", "verify-ca")]


@pytest.mark.parametrize(("impl", "tls"), WRONG_CA_CASES)
def test_wrong_ca_is_refused_before_the_token_is_sent(
    emulator: Emulator, impl: str, tls: str, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    info = emulator.mysql
    before = len(emulator.verifier_log("mariadb"))
    with Connector(
        credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=str(other_ca), tls=tls
    ) as c:
        with pytest.raises(errors.InterfaceError, match=r"(?i)certificate verify failed"):
            open_with(c, info, impl)
        assert c.stats.retries == 0
    assert emulator.verifier_log("mariadb")[before:] == []


def test_certificate_for_another_name_is_refused_before_the_token_is_sent(
    emulator: Emulator, impl: str
) -> None:
    # 127.0.0.2 is loopback too, but not on the server's certificate (localhost, 127.0.0.1, ::1).
    info = emulator.mysql
    before = len(emulator.verifier_log("mariadb"))
    with forwarding(("127.0.0.1", info.port), "127.0.0.2") as other, connector_for(info) as c:
        with pytest.raises(errors.InterfaceError) as excinfo:
            c.connect(
                "127.0.0.2", info.user, driver=DRIVER, port=other.port, use_pure=impl == "pure"
            )
        assert other.connections >= 1
    message = str(excinfo.value).lower()
    assert "certificate" in message or "hostname" in message
    assert emulator.verifier_log("mariadb")[before:] == []


def test_verify_ca_logs_in_with_pure_python_and_is_refused_for_the_c_extension(
    mysql_endpoint: ServerInfo,
) -> None:
    info = mysql_endpoint
    with connector_for(info, tls="verify-ca") as c:
        conn = open_with(c, info, "pure")
        try:
            assert whoami(conn, "mariadb")[0] == info.user
        finally:
            conn.close()
        with pytest.raises(ConfigurationError, match="plaintext"):
            open_with(c, info, "c-extension")


def test_stale_cached_token_is_retried_once(emulator: Emulator, impl: str) -> None:
    from botocore.credentials import Credentials

    info = emulator.mysql
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as c:
        c.token(info.host, info.port, info.user)  # cached, signed with a key the server drops
        creds.access_key, creds.secret_key = LONG_TERM.access_key, LONG_TERM.secret_key
        before = len(emulator.verifier_log("mariadb"))
        conn = open_with(c, info, impl)
        try:
            assert whoami(conn, "mariadb")[0] == info.user
        finally:
            conn.close()
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    verdicts = emulator.verifier_log("mariadb")[before:]
    assert [v.split()[0] for v in verdicts] == ["REFUSED", "ACCEPTED"]


def test_twice_refused_raises_the_drivers_error_with_notes(emulator: Emulator, impl: str) -> None:
    info = emulator.mysql
    before = len(emulator.verifier_log("mariadb"))
    with connector_for(info) as c:
        with pytest.raises(errors.ProgrammingError) as excinfo:
            open_with(c, info, impl, region="eu-west-1")
        assert c.stats.retries == 1
    exc = excinfo.value
    assert (exc.errno, exc.sqlstate) == (1045, "28000")
    notes = "\n".join(exc.__notes__)
    assert "refused the IAM token twice" in notes
    assert "region eu-west-1 (from region=)" in notes
    assert "X-Amz-Signature" not in notes + str(exc)
    verdicts = emulator.verifier_log("mariadb")[before:]
    assert len(verdicts) == 2
    assert all("eu-west-1" in v for v in verdicts), verdicts


def test_creator_reused_fifty_times_signs_once(mysql_endpoint: ServerInfo, impl: str) -> None:
    info = mysql_endpoint
    with connector_for(info) as c:
        create = c.creator(
            info.host,
            info.user,
            driver=DRIVER,
            port=info.port,
            database=info.database,
            use_pure=impl == "pure",
        )
        for _ in range(50):
            conn = create()
            try:
                assert whoami(conn, "mariadb")[0] == info.user
            finally:
                conn.close()
        assert (c.stats.signings, c.stats.cache_hits, c.stats.retries) == (1, 49, 0)


def test_address_through_a_tunnel_needs_pure_python(emulator: Emulator) -> None:
    info = emulator.mysql
    before = len(emulator.verifier_log("mariadb"))
    with forwarding(("127.0.0.1", info.port)) as tunnel, connector_for(info) as c:
        # "localhost" plays the RDS endpoint (on the certificate, accepted in a token).
        conn = c.connect(
            "localhost", info.user, driver=DRIVER, port=info.port, address=tunnel.address
        )
        try:
            assert whoami(conn, "mariadb")[0] == info.user
        finally:
            conn.close()
        with pytest.raises(ConfigurationError, match="address= needs the pure-Python"):
            c.connect(
                "localhost",
                info.user,
                driver=DRIVER,
                port=info.port,
                address=tunnel.address,
                use_pure=False,
            )
        assert tunnel.connections == 1
    assert [v.split()[0] for v in emulator.verifier_log("mariadb")[before:]] == ["ACCEPTED"]
