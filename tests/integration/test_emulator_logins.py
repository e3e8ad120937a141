"""Real logins against the local RDS IAM emulator: PostgreSQL and MariaDB over verified TLS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import trustme
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth import Connector, generate_auth_token
from rds_iam_auth.testing import FakeClock, StaticSigner
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey, ServerInfo

from .conftest import Target
from .drivers import PROFILES, whoami

pytestmark = pytest.mark.integration


def connector_for(target: Target, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    return Connector(
        credentials=key.botocore_credentials(),
        region=target.info.region,
        ca=target.info.ca_path,
        **kwargs,
    )


def open_with(connector: Connector, target: Target) -> Any:
    return connector.connect(
        target.info.host,
        target.info.user,
        driver=target.driver,
        port=target.info.port,
        **target.db_kwargs,
    )


def driver_error(target: Target) -> tuple[type[BaseException], ...]:
    """What a refused login or failed handshake raises with this driver."""
    return target.profile.connection_errors()


def assert_refused(exc: BaseException, target: Target) -> None:
    """The driver's own 'login refused' error, not ours."""
    assert isinstance(exc, target.profile.refused_class()), type(exc)
    assert target.profile.refused(exc), exc


# --- accepted logins ---------------------------------------------------------------------


@pytest.mark.parametrize("key", [LONG_TERM, TEMPORARY], ids=["long-term", "session-token"])
def test_connector_connect_logs_in_as_iam_user_over_tls(target: Target, key: FakeKey) -> None:
    with connector_for(target, key) as connector:
        conn = open_with(connector, target)
        try:
            user, tls = whoami(conn, target.engine)
        finally:
            conn.close()
        assert user == target.info.user
        assert tls.startswith(("TLSv1.", "TLS_"))
        assert connector.stats.signings == 1
        assert connector.stats.retries == 0


def test_module_connect_uses_default_chain_and_env(
    target: Target, temporary_key: FakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", temporary_key.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", temporary_key.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", temporary_key.token or "")
    monkeypatch.setenv("AWS_REGION", target.info.region)
    monkeypatch.setenv("RDS_IAM_AUTH_CA_BUNDLE", target.info.ca_path)
    monkeypatch.setattr("rds_iam_auth._default._default_connector", None)
    conn = rds_iam_auth.connect(
        target.info.host,
        target.info.user,
        driver=target.driver,
        port=target.info.port,
        **target.db_kwargs,
    )
    try:
        assert whoami(conn, target.engine)[0] == target.info.user
    finally:
        conn.close()


def test_token_matches_what_boto3_would_send(target: Target) -> None:
    """The seed recipe's token (boto3) and ours are the same bytes and both log in."""
    import boto3

    info = target.info
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ours = generate_auth_token(
        info.host,
        info.port,
        info.user,
        region=info.region,
        credentials=LONG_TERM.botocore_credentials(),
        now=now,
    )
    client = boto3.client(
        "rds",
        region_name=info.region,
        aws_access_key_id=LONG_TERM.access_key,
        aws_secret_access_key=LONG_TERM.secret_key,
    )
    from unittest import mock

    with mock.patch("botocore.auth.get_current_datetime", return_value=now.replace(tzinfo=None)):
        theirs = client.generate_db_auth_token(info.host, info.port, info.user, info.region)
    assert ours == theirs
    with Connector(signer=StaticSigner(theirs), region=info.region, ca=info.ca_path) as c:
        conn = open_with(c, target)
        conn.close()


def test_creator_signs_once_for_fifty_connections(target: Target) -> None:
    with connector_for(target) as connector:
        create = connector.creator(
            target.info.host,
            target.info.user,
            driver=target.driver,
            port=target.info.port,
            **target.db_kwargs,
        )
        for _ in range(50):
            conn = create()
            assert whoami(conn, target.engine)[0] == target.info.user
            conn.close()
        stats = connector.stats
    assert stats.signings == 1
    assert stats.cache_hits == 49
    assert stats.retries == 0


def test_sqlalchemy_engine_with_creator(target: Target) -> None:
    import sqlalchemy

    url = target.profile.sqlalchemy_url
    with connector_for(target) as connector:
        engine = sqlalchemy.create_engine(
            url,
            creator=connector.creator(
                target.info.host,
                target.info.user,
                driver=target.driver,
                port=target.info.port,
                **target.db_kwargs,
            ),
            pool_size=2,
        )
        try:
            for _ in range(5):
                with engine.connect() as conn:
                    assert conn.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()
        assert connector.stats.signings == 1


# --- refused logins ----------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token(target: Target, **overrides: Any) -> str:
    info = target.info
    args: dict[str, Any] = {
        "host": info.host,
        "port": info.port,
        "user": info.user,
        "region": info.region,
        "credentials": LONG_TERM.botocore_credentials(),
        "now": _now(),
    }
    args.update(overrides)
    return generate_auth_token(args.pop("host"), args.pop("port"), args.pop("user"), **args)


def _tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("0" if last != "0" else "1")


BAD_TOKENS = {
    "other-host": (lambda t: _token(t, host="db.example.com"), "signed for endpoint"),
    "other-port": (lambda t: _token(t, port=t.info.port + 1), "signed for endpoint"),
    "other-user": (lambda t: _token(t, user="bob"), "is not the login user"),
    "other-region": (lambda t: _token(t, region="eu-west-1"), "signed for region"),
    "expired": (lambda t: _token(t, now=_now() - timedelta(seconds=901)), "expired"),
    "future": (lambda t: _token(t, now=_now() + timedelta(seconds=360)), "in the future"),
    "tampered": (lambda t: _tampered(_token(t)), "signature does not match"),
    "unknown-key": (
        lambda t: _token(t, credentials=Credentials("AKIAUNKNOWNKEY000000", "x" * 40)),
        "unknown access key",
    ),
    "missing-session-token": (
        lambda t: _token(
            t, credentials=Credentials(TEMPORARY.access_key, TEMPORARY.secret_key, None)
        ),
        "without its session token",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_server_refuses_bad_token(target: Target, emulator: Emulator, case: str) -> None:
    make, reason = BAD_TOKENS[case]
    token = make(target)
    before = len(emulator.verifier_log(target.engine))
    with Connector(
        signer=StaticSigner(token), region=target.info.region, ca=target.info.ca_path
    ) as connector:
        with pytest.raises(driver_error(target)) as excinfo:
            open_with(connector, target)
        # Refused, retried once with a "fresh" token (the same bad one here), refused again.
        assert connector.stats.retries == 1
    assert_refused(excinfo.value, target)
    assert token not in str(excinfo.value)
    verdicts = emulator.verifier_log(target.engine)[before:]
    assert len(verdicts) == 2
    assert all(v.startswith("REFUSED") and reason in v for v in verdicts), verdicts


@pytest.mark.parametrize(
    ("case", "offset_s", "reason"),
    [("expired", -1000, "expired"), ("future", 400, "in the future")],
)
def test_injected_clock_signs_tokens_the_server_refuses(
    target: Target, emulator: Emulator, case: str, offset_s: int, reason: str
) -> None:
    clock = FakeClock(_now() + timedelta(seconds=offset_s))
    before = len(emulator.verifier_log(target.engine))
    with connector_for(target, clock=clock) as connector:
        with pytest.raises(driver_error(target)) as excinfo:
            open_with(connector, target)
        assert connector.stats.signings == 2
        assert connector.stats.retries == 1
    assert_refused(excinfo.value, target)
    verdicts = emulator.verifier_log(target.engine)[before:]
    assert verdicts
    assert all(reason in v for v in verdicts), verdicts


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_plaintext_connection_is_refused_by_server(emulator: Emulator, driver: str) -> None:
    # About the servers, not the drivers: one raw driver per engine is enough.
    profile = PROFILES[driver]
    target = Target(emulator.pg if profile.engine == "postgres" else emulator.mysql, profile)
    token = _token(target)
    info = target.info
    before = len(emulator.verifier_log(target.engine))
    if target.driver == "psycopg":
        import psycopg

        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(
                host=info.host,
                port=info.port,
                user=info.user,
                password=token,
                dbname=info.database,
                sslmode="disable",
            )
    else:
        import pymysql

        with pytest.raises(pymysql.err.OperationalError) as excinfo:
            pymysql.connect(
                host=info.host,
                port=info.port,
                user=info.user,
                password=token,
                database=info.database,
                # PyMySQL >= 1.2 opportunistically encrypts (unverified) unless told not to.
                ssl_disabled=True,
            )
        # The user REQUIRE SSL: MariaDB refuses the login. It checks that only after PAM has
        # seen the password, so the token did cross the wire in the clear: which is why the
        # library never lets ssl_disabled through (test_library_refuses_to_disable_tls).
        assert excinfo.value.args[0] == 1045
        return
    # PostgreSQL refuses in pg_hba.conf before asking for a password: PAM never ran.
    assert emulator.verifier_log(target.engine)[before:] == []


def test_library_refuses_to_disable_tls(target: Target) -> None:
    bad = target.profile.weakening
    with (
        connector_for(target) as connector,
        pytest.raises(rds_iam_auth.ConfigurationError, match="tls="),
    ):
        connector.connect(
            target.info.host, target.info.user, driver=target.driver, port=target.info.port, **bad
        )


def test_wrong_ca_fails_before_password_is_sent(
    target: Target, emulator: Emulator, tmp_path: Any
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    before = len(emulator.verifier_log(target.engine))
    with Connector(
        credentials=LONG_TERM.botocore_credentials(),
        region=target.info.region,
        ca=str(other_ca),
    ) as connector:
        with pytest.raises(driver_error(target)) as excinfo:
            open_with(connector, target)
        assert connector.stats.retries == 0
    message = str(excinfo.value).lower()
    # OpenSSL's words as each driver passes them on (MariaDB Connector/C: "local issuer").
    assert "certificate verify failed" in message or "unable to get local issuer" in message
    # The server never saw a password: PAM did not run.
    assert emulator.verifier_log(target.engine)[before:] == []


# --- retry -------------------------------------------------------------------------------


def test_stale_cached_token_is_retried_once_with_a_fresh_one(
    target: Target, emulator: Emulator
) -> None:
    # The cached token was signed with a key that has since been rotated out (the server no
    # longer knows it); the connector drops it, signs again with the current key, logs in.
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")
    with Connector(
        credentials=creds, region=target.info.region, ca=target.info.ca_path
    ) as connector:
        connector.token(target.info.host, target.info.port, target.info.user)
        creds.access_key = LONG_TERM.access_key
        creds.secret_key = LONG_TERM.secret_key
        before = len(emulator.verifier_log(target.engine))
        conn = open_with(connector, target)
        try:
            assert whoami(conn, target.engine)[0] == target.info.user
        finally:
            conn.close()
        stats = connector.stats
    assert stats.retries == 1
    assert stats.signings == 2
    verdicts = emulator.verifier_log(target.engine)[before:]
    assert [v.split()[0] for v in verdicts] == ["REFUSED", "ACCEPTED"]


def test_psycopg_pool_with_callable_kwargs(pg_endpoint: ServerInfo, long_term_key: FakeKey) -> None:
    """psycopg_pool >= 3.3 evaluates a callable ``kwargs`` for each new connection."""
    import psycopg_pool

    target = Target(pg_endpoint, PROFILES["psycopg"])
    info = target.info
    with connector_for(target, long_term_key) as connector:

        def kwargs() -> dict[str, Any]:
            return connector.connect_kwargs(
                info.host, info.user, driver="psycopg", port=info.port, dbname=info.database
            )

        with psycopg_pool.ConnectionPool(kwargs=kwargs, min_size=3, max_size=3, open=True) as pool:
            pool.wait(timeout=30)
            for _ in range(5):
                with pool.connection() as conn:
                    assert whoami(conn, "postgres")[0] == info.user
        assert connector.stats.signings == 1
