"""mysqlclient (MySQLdb on MariaDB Connector/C) against the emulator's MariaDB, for real.

What these measure beyond the shared per-driver tests: the library's own error codes and texts
for a TLS failure (2026) and a refused token (1045), that Connector/C checks the host name even
under ``tls="verify-ca"``, that the cleartext plugin needs no environment variable, and that
``address=`` is refused before anything is dialled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme
from botocore.credentials import Credentials

from rds_iam_auth import ConfigurationError, Connector
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey, ServerInfo

from .forwarder import forwarding

MySQLdb = pytest.importorskip("MySQLdb")

pytestmark = pytest.mark.integration

DRIVER = "mysqlclient"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # MySQL's libmysqlclient needs this for mysql_clear_password; Connector/C must not.
    monkeypatch.delenv("LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN", raising=False)


def connector(info: ServerInfo, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    options: dict[str, Any] = {"region": info.region, "ca": info.ca_path, **kwargs}
    return Connector(credentials=key.botocore_credentials(), **options)


def session(conn: Any) -> tuple[str, str, str]:
    """(current user, TLS version, cipher) as the server sees this connection."""
    cur = conn.cursor()
    cur.execute("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)")
    (user,) = cur.fetchone()
    cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
    status = dict(cur.fetchall())
    return user, status.get("Ssl_version", ""), status.get("Ssl_cipher", "")


def open_conn(c: Connector, info: ServerInfo, **kwargs: Any) -> Any:
    return c.connect(
        info.host, info.user, driver=DRIVER, port=info.port, database=info.database, **kwargs
    )


def new_verdicts(emulator: Emulator, before: int) -> list[str]:
    return emulator.verifier_log("mariadb")[before:]


@pytest.mark.parametrize("key", [LONG_TERM, TEMPORARY], ids=["long-term", "session-token"])
@pytest.mark.parametrize("tls", ["verify-full", "verify-ca"])
def test_logs_in_over_verified_tls(
    mysql_endpoint: ServerInfo, emulator: Emulator, key: FakeKey, tls: str
) -> None:
    before = len(emulator.verifier_log("mariadb"))
    with connector(mysql_endpoint, key, tls=tls) as c:
        conn = open_conn(c, mysql_endpoint)
        try:
            assert isinstance(conn, MySQLdb.connections.Connection)
            user, version, cipher = session(conn)
        finally:
            conn.close()
        assert (c.stats.signings, c.stats.retries) == (1, 0)
    assert user == mysql_endpoint.user
    assert version in ("TLSv1.2", "TLSv1.3")
    assert cipher
    assert [v.split()[0] for v in new_verdicts(emulator, before)] == ["ACCEPTED"]


def test_wrong_ca_fails_before_the_token_is_sent(
    mysql_endpoint: ServerInfo, emulator: Emulator, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    before = len(emulator.verifier_log("mariadb"))
    with connector(mysql_endpoint, ca=str(other_ca)) as c:
        with pytest.raises(MySQLdb.OperationalError) as info:
            open_conn(c, mysql_endpoint)
        assert c.stats.retries == 0
    assert info.value.args == (2026, "TLS/SSL error: unable to get local issuer certificate")
    assert new_verdicts(emulator, before) == []  # PAM never ran: no token reached the server


@pytest.mark.parametrize("tls", ["verify-full", "verify-ca"])
def test_certificate_for_another_name_fails_before_the_token_is_sent(
    mysql_endpoint: ServerInfo, emulator: Emulator, tls: str
) -> None:
    # 127.0.0.2 is loopback but not on the server's certificate (localhost, 127.0.0.1, ::1).
    # Connector/C checks the name under ssl_mode VERIFY_CA too, so tls="verify-ca" fails alike.
    info = mysql_endpoint
    before = len(emulator.verifier_log("mariadb"))
    with forwarding(("127.0.0.1", info.port), "127.0.0.2") as tunnel, connector(info, tls=tls) as c:
        with pytest.raises(MySQLdb.OperationalError) as excinfo:
            c.connect("127.0.0.2", info.user, driver=DRIVER, port=tunnel.port)
        assert tunnel.connections == 1
    assert excinfo.value.args == (
        2026,
        "TLS/SSL error: Validation of SSL server certificate failed",
    )
    assert new_verdicts(emulator, before) == []


def test_stale_cached_token_is_retried_exactly_once(
    mysql_endpoint: ServerInfo, emulator: Emulator
) -> None:
    info = mysql_endpoint
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as c:
        c.token(info.host, info.port, info.user)  # cached, signed with a key the server rejects
        creds.access_key, creds.secret_key = LONG_TERM.access_key, LONG_TERM.secret_key
        before = len(emulator.verifier_log("mariadb"))
        conn = open_conn(c, info)
        try:
            assert session(conn)[0] == info.user
        finally:
            conn.close()
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    assert [v.split()[0] for v in new_verdicts(emulator, before)] == ["REFUSED", "ACCEPTED"]


def test_twice_refused_is_the_drivers_1045_with_notes(
    mysql_endpoint: ServerInfo, emulator: Emulator
) -> None:
    info = mysql_endpoint
    before = len(emulator.verifier_log("mariadb"))
    with connector(info) as c:
        with pytest.raises(MySQLdb.OperationalError) as excinfo:
            open_conn(c, info, region="eu-west-1")  # signed for the wrong region
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    exc = excinfo.value
    # The measured refusal form: errno 1045 (MariaDB's PAM plugin reports "password: NO").
    assert exc.args[0] == 1045
    assert str(exc.args[1]).startswith(f"Access denied for user '{info.user}'@")
    notes = "\n".join(exc.__notes__)
    assert "refused the IAM token twice" in notes
    assert "region eu-west-1 (from region=)" in notes
    assert "X-Amz-Signature" not in notes + str(exc)
    verdicts = new_verdicts(emulator, before)
    assert len(verdicts) == 2
    assert all(v.startswith("REFUSED") and "eu-west-1" in v for v in verdicts), verdicts


def test_creator_reused_fifty_times_signs_once(mysql_endpoint: ServerInfo) -> None:
    info = mysql_endpoint
    with connector(info) as c:
        create = c.creator(info.host, info.user, driver=DRIVER, port=info.port, autocommit=True)
        for _ in range(50):
            conn = create()
            try:
                assert session(conn)[0] == info.user
                assert conn.get_autocommit() is True
            finally:
                conn.close()
        stats = c.stats
    assert (stats.signings, stats.cache_hits, stats.retries) == (1, 49, 0)


def test_address_is_refused_before_dialling(mysql_endpoint: ServerInfo) -> None:
    info = mysql_endpoint
    with forwarding(("127.0.0.1", info.port)) as tunnel, connector(info) as c:
        with pytest.raises(ConfigurationError, match="address= is not possible"):
            c.connect("localhost", info.user, driver=DRIVER, port=info.port, address=tunnel.address)
        assert tunnel.connections == 0
