"""install() and the URL plugin against the emulator: one signing per refresh window, a refused
token retried once with a fresh one (sync and async), an engine configured by its URL alone,
and a tunnel named in the URL."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.credentials import Credentials
from sqlalchemy.ext.asyncio import create_async_engine

from rds_iam_auth import Connector
from rds_iam_auth.integrations.sqlalchemy import install
from tests.emulator import LONG_TERM, Emulator, ServerInfo

from .async_drivers import ASYNC_PROFILES
from .conftest import Target
from .drivers import PROFILES
from .forwarder import forwarding
from .test_sqlalchemy_lifetimes import ASYNC_URLS
from .token_lifetimes import LIFETIME_S, Logins, lifetimes

# Refused logins and killed connections leave driver sockets to the garbage collector, which
# reports "unclosed" wherever it runs: ignored in this module and collected at each test's
# teardown, so no later test inherits it (as in test_sqlalchemy_lifetimes.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning"),
    # pg8000's socket file flushes at garbage collection and raises SSLError ("underlying
    # socket connection gone") for a connection the server killed (Python 3.13).
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(autouse=True)
def _collect_dropped_sockets() -> Iterator[None]:
    yield
    gc.collect()  # under this module's warning filters, not in a later test


_WHO = {
    "postgres": "SELECT current_user",
    "mariadb": "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
}


def _url(prefix: str, info: ServerInfo, host: str | None = None, query: str = "") -> str:
    return f"{prefix}{info.user}@{host or info.host}:{info.port}/{info.database}{query}"


def _who(conn: Any, engine: str) -> str:
    value = conn.execute(sa.text(_WHO[engine])).scalar_one()
    return value.decode() if isinstance(value, bytes) else str(value)


def test_refresh_window_signs_once(target: Target, emulator: Emulator) -> None:
    info = target.info
    with lifetimes(emulator) as lt:
        connector = lt.connector(info)
        engine = sa.create_engine(_url(target.profile.sqlalchemy_url, info), max_overflow=3)
        install(engine, connector)
        try:
            with engine.connect() as first:
                assert _who(first, target.engine) == info.user
            lt.advance(LIFETIME_S - 250)  # inside the last 300 s: due for refresh, still valid
            logins = Logins(emulator, target.engine)
            with engine.connect() as a, engine.connect() as b, engine.connect() as c:
                assert {_who(conn, target.engine) for conn in (a, b, c)} == {info.user}
            assert logins.accepted() == 2  # the pooled one stays; two new ones log in
        finally:
            engine.dispose()
    stats = connector.stats
    assert (stats.signings, stats.refreshes, stats.retries) == (2, 1, 0)


def _rotated_key() -> Credentials:
    # Signed with a key that is then rotated out: the server knows only LONG_TERM.
    return Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")


def _rotate(creds: Credentials) -> None:
    creds.access_key = LONG_TERM.access_key
    creds.secret_key = LONG_TERM.secret_key


def test_refused_token_is_retried_with_a_fresh_one(target: Target, emulator: Emulator) -> None:
    info = target.info
    creds = _rotated_key()
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as connector:
        engine = sa.create_engine(_url(target.profile.sqlalchemy_url, info))
        install(engine, connector)
        connector.token(info.host, info.port, info.user)  # cached, about to be refused
        _rotate(creds)
        logins = Logins(emulator, target.engine)
        try:
            with engine.connect() as conn:
                assert _who(conn, target.engine) == info.user
        finally:
            engine.dispose()
        stats = connector.stats
    assert (stats.signings, stats.retries) == (2, 1)
    assert [v.split()[0] for v in logins.verdicts()] == ["REFUSED", "ACCEPTED"]


@pytest.mark.parametrize("driver", sorted(ASYNC_PROFILES))
def test_async_refused_token_is_retried_with_a_fresh_one(driver: str, emulator: Emulator) -> None:
    profile = ASYNC_PROFILES[driver]
    info = profile.server(emulator)
    creds = _rotated_key()

    async def main(connector: Connector) -> str:
        engine = create_async_engine(_url(ASYNC_URLS[driver], info))
        install(engine, connector)
        await connector.token_async(info.host, info.port, info.user)
        _rotate(creds)
        try:
            async with engine.connect() as conn:
                value = (await conn.execute(sa.text(_WHO[profile.engine]))).scalar_one()
        finally:
            await engine.dispose()
        return value.decode() if isinstance(value, bytes) else str(value)

    logins = Logins(emulator, profile.engine)
    with Connector(credentials=creds, region=info.region, ca=info.ca_path) as connector:
        assert asyncio.run(main(connector)) == info.user
        stats = connector.stats
    assert (stats.signings, stats.retries) == (2, 1)
    assert [v.split()[0] for v in logins.verdicts()] == ["REFUSED", "ACCEPTED"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The long-term key in the environment, as a tool configured by a URL would find it."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RDS_IAM_AUTH_CA_BUNDLE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LONG_TERM.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LONG_TERM.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_plugin_configured_by_the_url_alone(driver: str, emulator: Emulator) -> None:
    profile = PROFILES[driver]
    info = emulator.pg if profile.engine == "postgres" else emulator.mysql
    query = f"?plugin=rds_iam&rds_iam_region={info.region}&rds_iam_ca={info.ca_path}"
    query += "&rds_iam_tls=verify-full&connect_timeout=10"
    logins = Logins(emulator, profile.engine)
    engine = sa.create_engine(_url(profile.sqlalchemy_url, info, query=query))
    try:
        assert dict(engine.url.query) == {"connect_timeout": "10"}  # ours removed
        with engine.connect() as conn:
            assert _who(conn, profile.engine) == info.user
    finally:
        engine.dispose()
    assert logins.verdicts() == [f"ACCEPTED user={info.user!r} key={LONG_TERM.access_key}"]


@pytest.mark.parametrize("driver", ["psycopg", "pymysql", "pg8000", "mysql.connector"])
def test_plugin_tunnel_keeps_verify_full(driver: str, emulator: Emulator) -> None:
    profile = PROFILES[driver]
    info = emulator.pg if profile.engine == "postgres" else emulator.mysql
    with (
        forwarding(("127.0.0.1", info.port)) as tunnel,
        Connector(
            credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=info.ca_path
        ) as connector,
    ):
        # "localhost" plays the RDS endpoint (on the certificate, accepted by the verifier).
        query = f"?plugin=rds_iam&rds_iam_address={tunnel.address}"
        url = _url(profile.sqlalchemy_url, info, host="localhost", query=query)
        engine = sa.create_engine(url, rds_iam_connector=connector)
        try:
            with engine.connect() as conn:
                assert _who(conn, profile.engine) == info.user
        finally:
            engine.dispose()
        assert tunnel.connections == 1
        signed_for = connector.token("localhost", info.port, info.user).value
    assert signed_for.startswith(f"localhost:{info.port}/?Action=connect&")
