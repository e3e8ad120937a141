"""pg8000 against the emulator's PostgreSQL: what the shared login tests do not pin down.

The per-driver tests in test_emulator_logins.py and test_address_and_notes.py run for pg8000
too; these add what is particular to it: the DB-API connection class, its keywords reaching the
server, pg8000 resolving an ``address=`` name itself, a ``pg_hba.conf`` rejection that is not
retried, SQLAlchemy's pg8000 dialect on a ``pg8000.dbapi`` connection, and why the adapter
does not use the legacy ``pg8000.connect``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg8000.dbapi
import pg8000.exceptions
import pytest
import trustme
from botocore.credentials import Credentials

from rds_iam_auth import Connector
from rds_iam_auth.testing import StaticSigner
from tests.emulator import Emulator, FakeKey, ServerInfo

from .drivers import whoami
from .forwarder import forwarding

pytestmark = pytest.mark.integration


def connector_for(info: ServerInfo, key: FakeKey, **kwargs: Any) -> Connector:
    return Connector(
        credentials=key.botocore_credentials(), region=info.region, ca=info.ca_path, **kwargs
    )


def attempts(emulator: Emulator, before: int) -> list[str]:
    """The verifier's verdicts since ``before``: one per token that reached PAM."""
    return emulator.verifier_log("postgres")[before:]


@pytest.fixture
def log_mark(emulator: Emulator) -> int:
    return len(emulator.verifier_log("postgres"))


@pytest.fixture
def connector(pg_endpoint: ServerInfo, long_term_key: FakeKey) -> Iterator[Connector]:
    with connector_for(pg_endpoint, long_term_key) as c:
        yield c


# --- logins ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key_fixture", ["long_term_key", "temporary_key"])
def test_login_over_verified_tls(
    pg_endpoint: ServerInfo,
    emulator: Emulator,
    log_mark: int,
    request: pytest.FixtureRequest,
    key_fixture: str,
) -> None:
    key: FakeKey = request.getfixturevalue(key_fixture)
    info = pg_endpoint
    with connector_for(info, key) as c:
        conn = c.connect(
            info.host, info.user, driver="pg8000", port=info.port, database=info.database
        )
        try:
            assert type(conn) is pg8000.dbapi.Connection  # the DB-API connection
            user, tls = whoami(conn, "postgres")
            cur = conn.cursor()
            cur.execute("SELECT current_database(), %s::text", ("bound",))
            assert cur.fetchone() == [info.database, "bound"]
            assert conn.password is None  # the token does not stay on the connection
        finally:
            conn.close()
        assert (c.stats.signings, c.stats.retries) == (1, 0)
    assert user == info.user
    assert tls.startswith("TLSv1.")
    verdicts = attempts(emulator, log_mark)
    assert len(verdicts) == 1
    assert verdicts[0].startswith(f"ACCEPTED user='{info.user}' key={key.access_key}")


def test_keywords_reach_the_server(pg_endpoint: ServerInfo, connector: Connector) -> None:
    info = pg_endpoint
    conn = connector.connect(
        info.host,
        info.user,
        driver="pg8000",
        port=info.port,
        database=info.database,
        application_name="rds-iam-auth-test",
        timeout=30,
        tcp_keepalive=True,
        source_address=("127.0.0.1", 0),
        startup_params={"search_path": "pg_catalog", "statement_timeout": "4321"},
    )
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT current_setting('application_name'), current_setting('search_path'), "
            "current_setting('statement_timeout'), host(inet_client_addr())"
        )
        assert cur.fetchone() == ["rds-iam-auth-test", "pg_catalog", "4321ms", "127.0.0.1"]
    finally:
        conn.close()


def test_creator_reused_fifty_times_signs_once(
    pg_endpoint: ServerInfo, connector: Connector, emulator: Emulator, log_mark: int
) -> None:
    info = pg_endpoint
    create = connector.creator(
        info.host, info.user, driver="pg8000", port=info.port, database=info.database
    )
    for _ in range(50):
        conn = create()
        try:
            assert whoami(conn, "postgres")[0] == info.user
        finally:
            conn.close()
    stats = connector.stats
    assert (stats.signings, stats.cache_hits, stats.retries) == (1, 49, 0)
    assert len(attempts(emulator, log_mark)) == 50  # every login presented the one token


def test_sqlalchemy_pg8000_dialect_on_a_dbapi_connection(
    pg_endpoint: ServerInfo, connector: Connector
) -> None:
    # The dialect imports the top-level (legacy) pg8000 module; the connections are
    # pg8000.dbapi ones: bound parameters, isolation levels and its on_connect hooks must work.
    import sqlalchemy

    info = pg_endpoint
    engine = sqlalchemy.create_engine(
        "postgresql+pg8000://",
        creator=connector.creator(
            info.host, info.user, driver="pg8000", port=info.port, database=info.database
        ),
        json_deserializer=lambda text: ("decoded", text),
        pool_size=2,
    )
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT :x || 'b'"), {"x": "a"}).scalar() == "ab"
            assert conn.execute(sqlalchemy.text("SELECT '[1]'::json")).scalar() == (
                "decoded",
                "[1]",
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert conn.execute(sqlalchemy.text("SHOW transaction_isolation")).scalar()
    finally:
        engine.dispose()
    assert connector.stats.signings == 1


# --- TLS: refused before the token is sent ----------------------------------------------------


def test_wrong_ca_is_refused_before_the_token_is_sent(
    pg_endpoint: ServerInfo,
    long_term_key: FakeKey,
    emulator: Emulator,
    log_mark: int,
    tmp_path: Path,
) -> None:
    info = pg_endpoint
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    with (
        Connector(
            credentials=long_term_key.botocore_credentials(), region=info.region, ca=str(other_ca)
        ) as c,
        pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"),
    ):
        c.connect(info.host, info.user, driver="pg8000", port=info.port, database=info.database)
    assert attempts(emulator, log_mark) == []  # PAM never saw a token


def test_a_certificate_for_another_name_is_refused_before_the_token_is_sent(
    pg_endpoint: ServerInfo, connector: Connector, emulator: Emulator, log_mark: int
) -> None:
    # The server's certificate names localhost, 127.0.0.1 and ::1, not db.example.com: dialled
    # as that endpoint (through address=, so the socket reaches it), verify-full refuses.
    info = pg_endpoint
    with pytest.raises(ssl.SSLCertVerificationError, match=r"not valid for 'db\.example\.com'"):
        connector.connect(
            "db.example.com",
            info.user,
            driver="pg8000",
            port=info.port,
            address=f"127.0.0.1:{info.port}",
            database=info.database,
        )
    assert attempts(emulator, log_mark) == []


def test_verify_ca_skips_only_the_name_check(
    pg_endpoint: ServerInfo, long_term_key: FakeKey, emulator: Emulator, log_mark: int
) -> None:
    # The same wrong name under tls="verify-ca": the chain is trusted, so the token is sent
    # (and refused, being signed for db.example.com). The name check was the only guard above.
    info = pg_endpoint
    with (
        connector_for(info, long_term_key, tls="verify-ca") as c,
        pytest.raises(pg8000.exceptions.DatabaseError) as excinfo,
    ):
        c.connect(
            "db.example.com",
            info.user,
            driver="pg8000",
            port=info.port,
            address=f"127.0.0.1:{info.port}",
            database=info.database,
        )
    assert excinfo.value.args[0]["C"] == "28000"
    verdicts = attempts(emulator, log_mark)
    assert len(verdicts) == 2  # refused, retried once with a fresh token, refused
    assert all("signed for endpoint" in v for v in verdicts), verdicts


# --- refusals and retry ---------------------------------------------------------------------


def test_a_stale_cached_token_is_retried_exactly_once(
    pg_endpoint: ServerInfo, long_term_key: FakeKey, emulator: Emulator, log_mark: int
) -> None:
    info = pg_endpoint
    # Signed with a key the server no longer knows (rotated out), then the current key.
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as c:
        c.token(info.host, info.port, info.user)
        creds.access_key, creds.secret_key = long_term_key.access_key, long_term_key.secret_key
        conn = c.connect(
            info.host, info.user, driver="pg8000", port=info.port, database=info.database
        )
        try:
            assert whoami(conn, "postgres")[0] == info.user
        finally:
            conn.close()
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    assert [v.split()[0] for v in attempts(emulator, log_mark)] == ["REFUSED", "ACCEPTED"]


def test_twice_refused_raises_pg8000s_error_with_notes(
    pg_endpoint: ServerInfo, long_term_key: FakeKey, emulator: Emulator, log_mark: int
) -> None:
    info = pg_endpoint
    with connector_for(info, long_term_key) as c:
        with pytest.raises(pg8000.exceptions.DatabaseError) as excinfo:
            c.connect(
                info.host,
                info.user,
                driver="pg8000",
                port=info.port,
                region="eu-west-1",  # the server's region is us-east-1
                database=info.database,
            )
        assert c.stats.retries == 1
    fields = excinfo.value.args[0]
    # The refusal form the adapter recognises, as this server sends it.
    assert (fields["C"], fields["R"]) == ("28000", "auth_failed")
    assert fields["M"] == f'PAM authentication failed for user "{info.user}"'
    notes = "\n".join(excinfo.value.__notes__)
    assert "refused the IAM token twice" in notes
    assert "region eu-west-1 (from region=)" in notes
    assert "X-Amz-Signature" not in notes + str(excinfo.value)
    verdicts = attempts(emulator, log_mark)
    assert len(verdicts) == 2
    assert all("signed for region" in v for v in verdicts), verdicts


def test_a_pg_hba_rejection_is_not_retried(
    pg_endpoint: ServerInfo, connector: Connector, emulator: Emulator, log_mark: int
) -> None:
    # "nobody" is not in rds_iam: pg_hba.conf has no line for it, so the server refuses before
    # asking for a password. Same SQLSTATE as a refused token; a fresh token cannot help.
    info = pg_endpoint
    with pytest.raises(pg8000.exceptions.DatabaseError) as excinfo:
        connector.connect(
            info.host, "nobody", driver="pg8000", port=info.port, database=info.database
        )
    fields = excinfo.value.args[0]
    assert (fields["C"], fields["R"]) == ("28000", "ClientAuthentication")
    assert (connector.stats.signings, connector.stats.retries) == (1, 0)
    assert not getattr(excinfo.value, "__notes__", None)
    assert attempts(emulator, log_mark) == []


def test_the_legacy_api_would_hide_the_refusal(
    pg_endpoint: ServerInfo, emulator: Emulator, log_mark: int
) -> None:
    # Why the adapter calls pg8000.dbapi.connect: the legacy pg8000.connect turns the same
    # server refusal into InterfaceError, the class pg8000 also uses for "Server refuses SSL".
    import pg8000 as legacy

    info = pg_endpoint
    bad = f"{info.host}:{info.port}/?Action=connect&DBUser={info.user}&X-Amz-Signature=00"
    with Connector(signer=StaticSigner(bad), region=info.region, ca=info.ca_path) as c:
        kwargs = c.connect_kwargs(
            info.host, info.user, driver="pg8000", port=info.port, database=info.database
        )
    with pytest.raises(pg8000.exceptions.InterfaceError) as legacy_error:
        legacy.connect(**kwargs)
    with pytest.raises(pg8000.exceptions.DatabaseError) as dbapi_error:
        pg8000.dbapi.connect(**kwargs)
    assert not isinstance(legacy_error.value, pg8000.exceptions.DatabaseError)
    assert legacy_error.value.args[0]["C"] == dbapi_error.value.args[0]["C"] == "28000"
    assert len(attempts(emulator, log_mark)) == 2


# --- address= ----------------------------------------------------------------------------------


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1", "localhost"])
def test_address_through_a_tunnel(
    pg_endpoint: ServerInfo, connector: Connector, emulator: Emulator, log_mark: int, listen: str
) -> None:
    # address= by IP or by name: pg8000 dials (and resolves) it; the token is signed for, and
    # the certificate checked against, the endpoint name "localhost".
    info = pg_endpoint
    with forwarding(
        ("127.0.0.1", info.port), "127.0.0.1" if listen == "localhost" else listen
    ) as t:
        address = f"localhost:{t.port}" if listen == "localhost" else t.address
        conn = connector.connect(
            "localhost",
            info.user,
            driver="pg8000",
            port=info.port,
            address=address,
            database=info.database,
        )
        try:
            assert whoami(conn, "postgres")[0] == info.user
        finally:
            conn.close()
        assert t.connections == 1
    signed = connector.token("localhost", info.port, info.user).value
    assert signed.startswith(f"localhost:{info.port}/?Action=connect&")
    assert [v.split()[0] for v in attempts(emulator, log_mark)] == ["ACCEPTED"]
