"""Real logins with the asyncio drivers against the emulator, over verified TLS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trustme
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth import Connector
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey, ServerInfo

from .async_drivers import ASYNC_PROFILES, AsyncProfile, close, whoami

pytestmark = pytest.mark.integration


@pytest.fixture(params=sorted(ASYNC_PROFILES))
def profile(request: pytest.FixtureRequest) -> AsyncProfile:
    return ASYNC_PROFILES[request.param]


def _connector(info: ServerInfo, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    return Connector(
        credentials=key.botocore_credentials(), region=info.region, ca=info.ca_path, **kwargs
    )


async def _open(connector: Connector, p: AsyncProfile, info: ServerInfo, **kwargs: Any) -> Any:
    return await connector.connect_async(
        info.host, info.user, driver=p.driver, port=info.port, **{p.db_key: info.database}, **kwargs
    )


@pytest.mark.parametrize("key", [LONG_TERM, TEMPORARY], ids=["long-term", "session-token"])
def test_connect_async_logs_in_over_tls(
    profile: AsyncProfile, emulator: Emulator, key: FakeKey
) -> None:
    info = profile.server(emulator)
    before = len(emulator.verifier_log(profile.engine))

    async def main() -> tuple[str, bool]:
        with _connector(info, key) as connector:
            conn = await _open(connector, profile, info)
            try:
                return await whoami(conn, profile.driver)
            finally:
                await close(conn, profile.driver)

    assert asyncio.run(main()) == (info.user, True)  # TLS as the server sees it
    verdicts = emulator.verifier_log(profile.engine)[before:]
    assert verdicts == [f"ACCEPTED user={info.user!r} key={key.access_key}"]


def test_module_connect_async_and_kwargs(profile: AsyncProfile, emulator: Emulator) -> None:
    info = profile.server(emulator)

    async def main() -> None:
        with _connector(info) as connector:
            kwargs = await connector.connect_kwargs_async(
                info.host, info.user, driver=profile.driver, port=info.port
            )
            token = await connector.token_async(info.host, info.port, info.user)
            assert kwargs["password"] == token.value
            assert token.value not in repr(kwargs)
            assert connector.stats.signings == 1

    asyncio.run(main())


def test_wrong_ca_fails_before_the_token_is_sent(
    profile: AsyncProfile, emulator: Emulator, tmp_path: Any
) -> None:
    info = profile.server(emulator)
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    before = len(emulator.verifier_log(profile.engine))
    connector = Connector(
        credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=str(other_ca)
    )
    with pytest.raises(Exception) as excinfo:  # noqa: PT011 - each driver wraps it its own way
        asyncio.run(_open(connector, profile, info))
    assert connector.stats.retries == 0
    assert "certificate verify failed" in _chain_text(excinfo.value)
    assert emulator.verifier_log(profile.engine)[before:] == []  # PAM never ran


def test_wrong_name_fails_before_the_token_is_sent(
    profile: AsyncProfile, emulator: Emulator
) -> None:
    # Signed for, and verified against, an RDS name the server's certificate does not carry.
    info = profile.server(emulator)
    host = "mydb.abc123xyz.us-east-1.rds.amazonaws.com"
    before = len(emulator.verifier_log(profile.engine))

    async def main() -> None:
        with _connector(info) as connector:
            await connector.connect_async(
                host,
                info.user,
                driver=profile.driver,
                port=info.port,
                address=f"127.0.0.1:{info.port}",
            )

    with pytest.raises(Exception) as excinfo:  # noqa: PT011
        asyncio.run(main())
    text = _chain_text(excinfo.value)
    assert any(
        words in text for words in ("certificate verify failed", "doesn't match", "does not match")
    ), text
    assert emulator.verifier_log(profile.engine)[before:] == []


def test_refused_token_is_dropped_and_retried_once(
    profile: AsyncProfile, emulator: Emulator
) -> None:
    # The cached token was signed with a key since rotated out: dropped, re-signed, logged in.
    info = profile.server(emulator)
    creds = Credentials("AKIAROTATEDOUTKEY000", "rotated/secret/key/0000000000000000000000")

    async def main() -> tuple[str, bool]:
        with Connector(credentials=creds, region=info.region, ca=info.ca_path) as connector:
            await connector.token_async(info.host, info.port, info.user)
            creds.access_key, creds.secret_key = LONG_TERM.access_key, LONG_TERM.secret_key
            conn = await _open(connector, profile, info)
            try:
                found = await whoami(conn, profile.driver)
            finally:
                await close(conn, profile.driver)
            assert (connector.stats.retries, connector.stats.signings) == (1, 2)
            return found

    before = len(emulator.verifier_log(profile.engine))
    assert asyncio.run(main()) == (info.user, True)
    verdicts = emulator.verifier_log(profile.engine)[before:]
    assert [v.split()[0] for v in verdicts] == ["REFUSED", "ACCEPTED"]


def test_second_refusal_raises_the_drivers_error_with_notes(
    profile: AsyncProfile, emulator: Emulator
) -> None:
    info = profile.server(emulator)
    creds = Credentials("AKIAUNKNOWNKEY000000", "x" * 40)
    connector = Connector(credentials=creds, region=info.region, ca=info.ca_path)
    with pytest.raises(profile.refused_class()) as excinfo:
        asyncio.run(_open(connector, profile, info))
    assert profile.refused(excinfo.value)
    assert connector.stats.retries == 1
    notes = "\n".join(getattr(excinfo.value, "__notes__", []))
    assert "refused the IAM token twice" in notes
    assert "AKIAUNKNOWNKEY000000" in notes  # the key id, never the token


def test_async_creator_feeds_a_sqlalchemy_async_engine(
    profile: AsyncProfile, emulator: Emulator
) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    urls = {
        "asyncpg": "postgresql+asyncpg://",
        "psycopg": "postgresql+psycopg_async://",
        "aiomysql": "mysql+aiomysql://",
        "asyncmy": "mysql+asyncmy://",
    }
    info = profile.server(emulator)
    connector = _connector(info)
    creator = connector.async_creator(
        info.host,
        info.user,
        driver=profile.driver,
        port=info.port,
        **{profile.db_key: info.database},
    )

    async def main() -> list[str]:
        engine = create_async_engine(
            urls[profile.driver], async_creator=creator, pool_size=2, max_overflow=2
        )
        try:
            users = []
            for _ in range(5):
                async with engine.connect() as conn:
                    query = (
                        "select current_user"
                        if profile.engine == "postgres"
                        else ("select current_user()")
                    )
                    users.append(str((await conn.execute(text(query))).scalar()))
            await engine.dispose()  # new connections after this: each one logs in again
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            return users
        finally:
            await engine.dispose()

    users = asyncio.run(main())
    assert {u.split("@")[0] for u in users} == {info.user}
    assert connector.stats.signings == 1


def test_asyncpg_pool_with_connect_callable(emulator: Emulator) -> None:
    import asyncpg

    info = emulator.pg
    connector = _connector(info)
    before = len(emulator.verifier_log("postgres"))

    async def main() -> list[str]:
        # asyncpg >= 0.30: the pool calls connect(*args, loop=, connection_class=,
        # record_class=, **kwargs) for each new connection; the loop is the running one.
        async def connect(*_args: Any, loop: Any = None, **pool_kwargs: Any) -> Any:
            return await connector.connect_async(
                info.host,
                info.user,
                driver="asyncpg",
                port=info.port,
                database=info.database,
                **pool_kwargs,
            )

        async with asyncpg.create_pool(connect=connect, min_size=3, max_size=3) as pool:
            return [await pool.fetchval("select current_user") for _ in range(6)]

    assert asyncio.run(main()) == [info.user] * 6
    assert len(emulator.verifier_log("postgres")[before:]) == 3
    assert connector.stats.signings == 1


def test_module_level_connect_async(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    info = emulator.pg
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LONG_TERM.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LONG_TERM.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", info.region)
    monkeypatch.setenv("RDS_IAM_AUTH_CA_BUNDLE", info.ca_path)
    monkeypatch.setattr("rds_iam_auth._default._default_connector", None)

    async def main() -> tuple[str, bool]:
        conn = await rds_iam_auth.connect_async(
            info.host, info.user, driver="asyncpg", port=info.port, database=info.database
        )
        try:
            return await whoami(conn, "asyncpg")
        finally:
            await conn.close()

    assert asyncio.run(main()) == (info.user, True)


def _chain_text(exc: BaseException | None) -> str:
    parts = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts).lower()


@pytest.fixture(autouse=True)
def _collect_garbage() -> Any:
    # A transport a driver forgot to close is reported when the garbage collector finds it:
    # collect after each test, so the report names the test that leaked it.
    yield
    import gc

    gc.collect()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_address_dials_elsewhere_and_verifies_the_endpoint_name(
    profile: AsyncProfile, emulator: Emulator, loop: str
) -> None:
    # Signed for and verified as "localhost" (a name in the server's certificate) while the
    # socket goes to 127.0.0.1, whose name the driver passes as server_hostname: the context's
    # wrap_bio pins the endpoint's name, under asyncio's and uvloop's TLS alike.
    import uvloop

    info = profile.server(emulator)
    before = len(emulator.verifier_log(profile.engine))

    async def main() -> tuple[str, bool]:
        with _connector(info) as connector:
            conn = await connector.connect_async(
                "localhost",
                info.user,
                driver=profile.driver,
                port=info.port,
                address=f"127.0.0.1:{info.port}",
                **{profile.db_key: info.database},
            )
            try:
                return await whoami(conn, profile.driver)
            finally:
                await close(conn, profile.driver)

    run = uvloop.run if loop == "uvloop" else asyncio.run
    assert run(main()) == (info.user, True)
    assert emulator.verifier_log(profile.engine)[before:][0].startswith("ACCEPTED")
