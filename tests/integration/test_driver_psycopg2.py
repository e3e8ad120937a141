"""psycopg2 against the emulator: real PostgreSQL verifying real SigV4 tokens over TLS."""

from __future__ import annotations

from typing import Any

import pytest
import trustme
from botocore.credentials import Credentials

from rds_iam_auth import Connector
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey, ServerInfo

from .drivers import whoami
from .forwarder import forwarding

pytestmark = pytest.mark.integration

psycopg2 = pytest.importorskip("psycopg2")
extras = pytest.importorskip("psycopg2.extras")

DRIVER = "psycopg2"


def connector(info: ServerInfo, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    return Connector(
        credentials=key.botocore_credentials(), region=info.region, ca=info.ca_path, **kwargs
    )


def verdicts(emulator: Emulator, since: int) -> list[str]:
    return [v.split()[0] for v in emulator.verifier_log("postgres")[since:]]


@pytest.mark.parametrize("key", [LONG_TERM, TEMPORARY], ids=["long-term", "session-token"])
def test_logs_in_as_the_iam_user_over_tls(
    pg_endpoint: ServerInfo, emulator: Emulator, key: FakeKey
) -> None:
    info = pg_endpoint
    before = len(emulator.verifier_log("postgres"))
    with connector(info, key) as c:
        conn = c.connect(info.host, info.user, driver=DRIVER, port=info.port, dbname=info.database)
        try:
            user, tls = whoami(conn, "postgres")  # server side: pg_stat_ssl of this backend
            params = conn.get_dsn_parameters()
            shown = (repr(conn), conn.dsn, str(params))
        finally:
            conn.close()
        token = c.token(info.host, info.port, info.user).value
        assert c.stats.signings == 1
    assert (user, tls[:6]) == (info.user, "TLSv1.")
    assert (params["sslmode"], params["gssencmode"]) == ("verify-full", "disable")
    assert params["sslrootcert"] == info.ca_path
    # psycopg2 shows the DSN in repr() and .dsn with the password masked.
    assert all(token not in text and "X-Amz-Signature" not in text for text in shown)
    assert "password=xxx" in conn.dsn
    assert verdicts(emulator, before) == ["ACCEPTED"]


def test_psycopg2_keywords_work(pg_endpoint: ServerInfo) -> None:
    info = pg_endpoint
    with connector(info) as c:
        conn = c.connect(
            info.host,
            info.user,
            driver=DRIVER,
            port=info.port,
            database=info.database,  # psycopg2's alias of dbname, as in the AWS guide
            connection_factory=extras.RealDictConnection,
            cursor_factory=extras.NamedTupleCursor,  # wins over the factory's default
            application_name="rds-iam-auth-test",
            connect_timeout=10,
        )
        try:
            assert isinstance(conn, extras.RealDictConnection)
            with conn.cursor() as cur:
                cur.execute("SELECT current_database() AS db, current_setting('application_name')")
                row = cur.fetchone()
        finally:
            conn.close()
    assert (row.db, row.current_setting) == (info.database, "rds-iam-auth-test")


def test_environment_cannot_turn_tls_off(
    pg_endpoint: ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = pg_endpoint
    for name, value in {
        "PGSSLMODE": "disable",
        "PGGSSENCMODE": "prefer",
        "PGSSLMINPROTOCOLVERSION": "TLSv1",
        "PGREQUIRESSL": "0",
    }.items():
        monkeypatch.setenv(name, value)
    with connector(info) as c:
        conn = c.connect(info.host, info.user, driver=DRIVER, port=info.port, dbname=info.database)
        try:
            assert whoami(conn, "postgres")[0] == info.user  # asserts the session is TLS
            assert conn.get_dsn_parameters()["sslmode"] == "verify-full"
        finally:
            conn.close()


def test_wrong_ca_refused_before_the_token_is_sent(
    pg_endpoint: ServerInfo, emulator: Emulator, tmp_path: Any
) -> None:
    info = pg_endpoint
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    before = len(emulator.verifier_log("postgres"))
    with Connector(
        credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=str(other_ca)
    ) as c:
        with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
            c.connect(info.host, info.user, driver=DRIVER, port=info.port, dbname=info.database)
        assert c.stats.retries == 0
    assert verdicts(emulator, before) == []  # PAM never ran: no token reached the server


def test_certificate_for_another_name_refused_before_the_token_is_sent(
    pg_endpoint: ServerInfo, emulator: Emulator
) -> None:
    # The server's certificate names localhost/127.0.0.1/::1, not db.example.com: dialling it
    # (address=) as db.example.com must fail the name check.
    info = pg_endpoint
    before = len(emulator.verifier_log("postgres"))
    with connector(info) as c:
        with pytest.raises(psycopg2.OperationalError) as excinfo:
            c.connect(
                "db.example.com",
                info.user,
                driver=DRIVER,
                port=info.port,
                address=f"127.0.0.1:{info.port}",
                dbname=info.database,
            )
        assert c.stats.retries == 0
    assert 'server certificate for "localhost"' in str(excinfo.value)
    assert 'does not match host name "db.example.com"' in str(excinfo.value)
    assert verdicts(emulator, before) == []


def test_refused_cached_token_is_retried_exactly_once(
    pg_endpoint: ServerInfo, emulator: Emulator
) -> None:
    # The cached token was signed with a key since rotated out; the retry signs with the new one.
    info = pg_endpoint
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as c:
        c.token(info.host, info.port, info.user)
        creds.access_key, creds.secret_key = LONG_TERM.access_key, LONG_TERM.secret_key
        before = len(emulator.verifier_log("postgres"))
        conn = c.connect(info.host, info.user, driver=DRIVER, port=info.port, dbname=info.database)
        try:
            assert whoami(conn, "postgres")[0] == info.user
        finally:
            conn.close()
        assert (c.stats.signings, c.stats.retries) == (2, 1)
    assert verdicts(emulator, before) == ["REFUSED", "ACCEPTED"]


def test_twice_refused_is_psycopg2s_own_error_with_notes(
    pg_endpoint: ServerInfo, emulator: Emulator
) -> None:
    info = pg_endpoint
    before = len(emulator.verifier_log("postgres"))
    with connector(info) as c:
        with pytest.raises(psycopg2.OperationalError) as excinfo:
            c.connect(
                info.host,
                info.user,
                driver=DRIVER,
                port=info.port,
                region="eu-west-1",  # the server expects us-east-1: refused, and so is the retry
                dbname=info.database,
            )
        assert (c.stats.signings, c.stats.retries) == (2, 1)
    exc = excinfo.value
    # The measured form of a refused IAM login (the adapter's is_auth_refused relies on it).
    assert type(exc) is psycopg2.OperationalError
    assert exc.pgcode is None
    assert f'FATAL:  PAM authentication failed for user "{info.user}"' in str(exc)
    notes = "\n".join(exc.__notes__)
    assert "refused the IAM token twice" in notes
    assert "region eu-west-1 (from region=)" in notes
    assert f"key {LONG_TERM.access_key}" in notes
    assert "X-Amz-Signature" not in notes + str(exc)
    assert verdicts(emulator, before) == ["REFUSED", "REFUSED"]


def test_creator_reused_fifty_times_signs_once(pg_endpoint: ServerInfo) -> None:
    info = pg_endpoint
    with connector(info) as c:
        create = c.creator(
            info.host, info.user, driver=DRIVER, port=info.port, dbname=info.database
        )
        for _ in range(50):
            conn = create()
            try:
                assert whoami(conn, "postgres")[0] == info.user
            finally:
                conn.close()
        stats = c.stats
    assert (stats.signings, stats.cache_hits, stats.retries) == (1, 49, 0)


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1"])
def test_address_through_a_tunnel_keeps_verify_full(
    pg_endpoint: ServerInfo, emulator: Emulator, listen: str
) -> None:
    info = pg_endpoint
    before = len(emulator.verifier_log("postgres"))
    with forwarding(("127.0.0.1", info.port), listen) as tunnel, connector(info) as c:
        # "localhost" plays the RDS endpoint name (it is on the certificate and accepted in
        # tokens); the forwarder plays the SSH tunnel.
        conn = c.connect(
            "localhost",
            info.user,
            driver=DRIVER,
            port=info.port,
            address=tunnel.address,
            dbname=info.database,
        )
        try:
            user, _ = whoami(conn, "postgres")
            params = conn.get_dsn_parameters()
        finally:
            conn.close()
        assert tunnel.connections == 1
        signed_for = c.token("localhost", info.port, info.user).value
    assert user == info.user
    assert (params["host"], params["hostaddr"], params["sslmode"]) == (
        "localhost",
        listen,
        "verify-full",
    )
    assert signed_for.startswith(f"localhost:{info.port}/?Action=connect&")
    assert verdicts(emulator, before) == ["ACCEPTED"]
