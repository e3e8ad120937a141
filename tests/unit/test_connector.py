"""Connector with StaticSigner and FakeClock: caching, kwargs, creator, stats, retry-once.

Driver ``connect`` functions are replaced with fakes (monkeypatched on the driver module), so
no database is involved; the refusals are the drivers' real exception classes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pymysql
import pytest

import rds_iam_auth
from rds_iam_auth import (
    ConfigurationError,
    Connector,
    ConnectorClosedError,
    RegionNotFoundError,
    Stats,
    TokenGenerationError,
)
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.testing import FakeClock, StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
START = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
PG_REFUSED = 'connection failed: FATAL:  PAM authentication failed for user "app"'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make(signer: StaticSigner, clock: FakeClock, **kwargs: Any) -> Connector:
    return Connector(signer=signer, clock=clock, ca="certifi", **kwargs)


class FakeDriver:
    """Replaces psycopg.connect / pymysql.connect: raises the queued errors, then connects."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.passwords: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> object:
        self.calls.append(kwargs)
        self.passwords.append(kwargs["password"])
        if self.errors:
            raise self.errors.pop(0)
        return ("connection", kwargs["password"])


@pytest.fixture
def fake_pg(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeDriver]:
    def install(*errors: BaseException) -> FakeDriver:
        fake = FakeDriver(*errors)
        monkeypatch.setattr(psycopg, "connect", fake)
        return fake

    return install


@pytest.fixture
def fake_my(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeDriver]:
    def install(*errors: BaseException) -> FakeDriver:
        fake = FakeDriver(*errors)
        monkeypatch.setattr(pymysql, "connect", fake)
        return fake

    return install


def pg_refused() -> psycopg.OperationalError:
    return psycopg.OperationalError(PG_REFUSED)


def my_refused() -> pymysql.err.OperationalError:
    return pymysql.err.OperationalError(1045, "Access denied for user 'app'@'10.0.0.5'")


# --- tokens and caching ------------------------------------------------------------------------


def test_token_is_cached_until_refresh(clock: FakeClock) -> None:
    signer = StaticSigner(["t1", "t2"])
    c = make(signer, clock)
    first = c.token(HOST, 5432, "app")
    assert first.value == "t1"
    assert (first.host, first.port, first.user, first.region) == (HOST, 5432, "app", "us-east-1")
    clock.advance(599)
    assert c.token(HOST, 5432, "app") is first
    clock.advance(1)  # expires_at - refresh_before_s
    assert c.token(HOST, 5432, "app").value == "t2"
    assert c.stats == Stats(signings=2, cache_hits=1, refreshes=1, retries=0)


def test_cache_key_normalises_host_but_signs_it_as_given(clock: FakeClock) -> None:
    signer = StaticSigner("tok")
    c = make(signer, clock)
    c.token(HOST.upper() + ".", 5432, "app")
    c.token(HOST, 5432, "app")
    assert len(signer.calls) == 1
    assert signer.calls[0][0].host == HOST.upper() + "."
    c.token(HOST, 5433, "app")
    c.token(HOST, 5432, "other")
    c.token(HOST, 5432, "app", region="us-west-2")
    assert len(signer.calls) == 4


def test_signer_gets_the_clock_time(clock: FakeClock) -> None:
    signer = StaticSigner("tok")
    make(signer, clock).token(HOST, 5432, "app")
    endpoint, user, now = signer.calls[0]
    assert now == START
    assert (endpoint.region, user) == ("us-east-1", "app")


def test_region_chain_with_signer(clock: FakeClock) -> None:
    signer = StaticSigner("tok")
    assert make(signer, clock, region="eu-west-1").token("10.0.0.1", 5432, "a").region == (
        "eu-west-1"
    )
    # The host's own region wins over Connector(region=); per-call region wins over both.
    assert make(signer, clock, region="eu-west-1").token(HOST, 5432, "a").region == "us-east-1"
    assert make(signer, clock).token(HOST, 5432, "a", region="ap-east-1").region == "ap-east-1"
    with pytest.raises(RegionNotFoundError, match="region="):
        make(signer, clock).token("10.0.0.1", 5432, "a")


def test_custom_signer_needs_no_aws_configuration(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(self: object, *args: object) -> None:
        raise AssertionError("a Connector with signer= must not resolve AWS credentials")

    monkeypatch.setattr(CredentialSource, "get", forbidden)
    monkeypatch.setattr(CredentialSource, "region", forbidden)
    monkeypatch.setattr(CredentialSource, "__init__", forbidden)
    c = make(StaticSigner("tok"), clock, region="us-east-1")
    assert c.token("db.internal", 5432, "app").value == "tok"
    assert c.connect_kwargs(HOST, "app", driver="psycopg")["password"] == "tok"


def test_signer_cannot_be_combined_with_credentials() -> None:
    with pytest.raises(ConfigurationError, match="signer="):
        Connector(signer=StaticSigner("t"), profile="x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"refresh_before_s": -1},
        {"refresh_before_s": 900},
        {"refresh_before_s": True},
        {"max_cached": 0},
        {"clock": 5},
        {"region": "us_east_1"},
        {"signer": object()},
    ],
)
def test_constructor_validation(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("signer", StaticSigner("t"))
    with pytest.raises(ConfigurationError):
        Connector(**kwargs)


def test_signing_errors_propagate(clock: FakeClock) -> None:
    c = make(StaticSigner(["only"]), clock)
    c.token(HOST, 5432, "a")
    with pytest.raises(TokenGenerationError):
        c.token(HOST, 5432, "b")


def test_max_cached_bounds_tokens(clock: FakeClock) -> None:
    signer = StaticSigner("tok")
    c = make(signer, clock, max_cached=2)
    for user in ("a", "b", "c", "a"):
        c.token(HOST, 5432, user)
    assert len(signer.calls) == 4  # "a" was evicted by "c"
    assert "cached=2" in repr(c)


# --- connect_kwargs / creator / context manager ------------------------------------------------


def test_connect_kwargs_uses_cached_token(clock: FakeClock) -> None:
    signer = StaticSigner(["t1", "t2"])
    c = make(signer, clock)
    a = c.connect_kwargs(HOST, "app", driver="psycopg", dbname="db")
    b = c.connect_kwargs(HOST, "app", driver="psycopg", port=5432, dbname="db")
    assert a == b
    assert a["password"] == "t1"
    assert a["port"] == 5432
    assert len(signer.calls) == 1
    my = c.connect_kwargs(HOST, "app", driver="pymysql", database="db")
    assert my["port"] == 3306
    assert my["password"] == "t2"  # another port, another token


def test_creator_returns_callable_that_reuses_token(
    clock: FakeClock, fake_pg: Callable[..., FakeDriver]
) -> None:
    fake = fake_pg()
    signer = StaticSigner(["t1", "t2"])
    c = make(signer, clock)
    create = c.creator(HOST, "app", driver="psycopg", dbname="db")
    assert callable(create)
    assert signer.calls == []  # nothing signed until a connection is opened
    assert create() == ("connection", "t1")
    assert create() == ("connection", "t1")
    clock.advance(700)
    assert create() == ("connection", "t2")
    assert [call["dbname"] for call in fake.calls] == ["db"] * 3
    assert c.stats.signings == 2


def test_creator_validates_arguments_up_front(clock: FakeClock) -> None:
    c = make(StaticSigner("t"), clock)
    with pytest.raises(ConfigurationError, match="password="):
        c.creator(HOST, "app", driver="psycopg", password="secret")
    with pytest.raises(ConfigurationError, match="user"):
        c.creator(HOST, "", driver="psycopg")
    with pytest.raises(ConfigurationError, match="driver"):
        c.creator(HOST, "app", driver="sqlite")


def test_context_manager_closes(clock: FakeClock) -> None:
    with make(StaticSigner("t"), clock) as c:
        assert isinstance(c, Connector)
        c.token(HOST, 5432, "app")
    with pytest.raises(ConnectorClosedError, match="closed"):
        c.token(HOST, 5432, "app")
    with pytest.raises(ConnectorClosedError, match="closed"):
        c.connect(HOST, "app", driver="psycopg")


def test_repr_and_stats_have_no_token(clock: FakeClock) -> None:
    c = make(StaticSigner("SECRET-TOKEN-VALUE"), clock)
    token = c.token(HOST, 5432, "app")
    for text in (repr(c), repr(c.stats), repr(token), str(token)):
        assert "SECRET-TOKEN-VALUE" not in text
    with pytest.raises(AttributeError):
        c.stats.signings = 0  # type: ignore[misc]


def test_thread_safety_smoke(clock: FakeClock) -> None:
    signer = StaticSigner("tok")
    c = make(signer, clock)
    users = [f"u{i}" for i in range(4)]
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(10)
            for i in range(50):
                assert c.token(HOST, 5432, users[i % 4]).value == "tok"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    stats = c.stats
    assert stats.signings == 4
    assert len(signer.calls) == 4
    assert stats.cache_hits <= 16 * 50 - 4


# --- retry once on a refused login ---------------------------------------------------------------


def test_psycopg_refusal_is_retried_once_with_fresh_token(
    clock: FakeClock, fake_pg: Callable[..., FakeDriver]
) -> None:
    fake = fake_pg(pg_refused())
    c = make(StaticSigner(["t1", "t2"]), clock)
    assert c.connect(HOST, "app", driver="psycopg") == ("connection", "t2")
    assert fake.passwords == ["t1", "t2"]
    assert c.stats.retries == 1
    assert c.stats.signings == 2
    # The fresh token is cached for the next connection.
    assert c.connect(HOST, "app", driver="psycopg") == ("connection", "t2")


def test_pymysql_refusal_is_retried_once_with_fresh_token(
    clock: FakeClock, fake_my: Callable[..., FakeDriver]
) -> None:
    fake = fake_my(my_refused())
    c = make(StaticSigner(["t1", "t2"]), clock)
    assert c.connect(HOST, "app", driver="pymysql", database="db") == ("connection", "t2")
    assert fake.passwords == ["t1", "t2"]
    assert fake.calls[1]["database"] == "db"
    assert c.stats.retries == 1


@pytest.mark.parametrize(("driver", "refused"), [("psycopg", pg_refused), ("pymysql", my_refused)])
def test_second_refusal_propagates_drivers_own_error(
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    driver: str,
    refused: Callable[[], Exception],
) -> None:
    second = refused()
    fake = FakeDriver(refused(), second)
    monkeypatch.setattr(psycopg if driver == "psycopg" else pymysql, "connect", fake)
    c = make(StaticSigner(["t1", "t2", "t3"]), clock)
    with pytest.raises(type(second)) as info:
        c.connect(HOST, "app", driver=driver)
    assert info.value is second
    assert info.value.__context__ is None  # not chained to the first refusal
    assert fake.passwords == ["t1", "t2"]
    assert c.stats.retries == 1


def test_creator_retries_too(clock: FakeClock, fake_my: Callable[..., FakeDriver]) -> None:
    fake_my(my_refused())
    c = make(StaticSigner(["t1", "t2"]), clock)
    assert c.creator(HOST, "app", driver="pymysql")() == ("connection", "t2")
    assert c.stats.retries == 1


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection failed: could not connect to server"),
        psycopg.errors.InvalidPassword(PG_REFUSED),  # has an sqlstate: not the PAM refusal
        psycopg.OperationalError("FATAL:  password authentication failed for user"),
        ValueError("something else"),
    ],
    ids=["network", "sqlstate", "password-auth", "other"],
)
def test_psycopg_other_errors_not_retried(
    clock: FakeClock, fake_pg: Callable[..., FakeDriver], error: Exception
) -> None:
    fake = fake_pg(error)
    c = make(StaticSigner(["t1", "t2"]), clock)
    with pytest.raises(type(error)) as info:
        c.connect(HOST, "app", driver="psycopg")
    assert info.value is error
    assert fake.passwords == ["t1"]
    assert c.stats.retries == 0


@pytest.mark.parametrize(
    "error",
    [
        pymysql.err.OperationalError(2003, "Can't connect to MySQL server"),
        pymysql.err.OperationalError(1044, "Access denied for user to database"),
        pymysql.err.InternalError(1045, "not an OperationalError"),
        pymysql.err.OperationalError(),
    ],
    ids=["2003", "1044", "wrong-class", "no-args"],
)
def test_pymysql_other_errors_not_retried(
    clock: FakeClock, fake_my: Callable[..., FakeDriver], error: Exception
) -> None:
    fake = fake_my(error)
    c = make(StaticSigner(["t1", "t2"]), clock)
    with pytest.raises(type(error)):
        c.connect(HOST, "app", driver="pymysql")
    assert fake.passwords == ["t1"]
    assert c.stats.retries == 0


def test_retry_does_not_reuse_the_refused_token_while_a_refresh_is_in_flight(
    clock: FakeClock, fake_pg: Callable[..., FakeDriver]
) -> None:
    # Fixed bug: Connector._connect calls TokenCache.invalidate(), which does nothing while another
    # thread is refreshing the same key (entry.flight is not None). In the advisory window the retry
    # then gets the *same* refused token back from the cache (old token served while someone else
    # refreshes), so the "retry with a fresh token" sends the refused one again. DESIGN §3: "drops
    # that cache entry and retries once with a fresh token". Fix: let invalidate() drop the entry's
    # token even when a flight is in progress (e.g. set entry.token = None so later callers wait on
    # the flight), or have the retry wait for the in-flight signing / sign unconditionally.
    started, release = threading.Event(), threading.Event()
    tokens = iter(["t1", "t2", "t3"])

    class HeldSigner(StaticSigner):
        def sign(self, endpoint: Any, user: str, *, now: datetime) -> Any:
            token = super().sign(endpoint, user, now=now)
            if token.value == "t2":  # the background refresh
                started.set()
                assert release.wait(10)
            return token

    signer = HeldSigner(list(tokens))
    c = make(signer, clock)
    c.token(HOST, 5432, "app")  # t1 cached
    clock.advance(650)  # advisory window
    refresher = threading.Thread(target=c.token, args=(HOST, 5432, "app"), daemon=True)
    refresher.start()
    assert started.wait(10)
    fake = fake_pg(pg_refused())
    try:
        c.connect(HOST, "app", driver="psycopg")
    except psycopg.OperationalError:
        pass
    finally:
        release.set()
        refresher.join(10)
    assert fake.passwords[0] == "t1"
    assert fake.passwords[1] != "t1", "the retry re-sent the token the server just refused"


def test_module_level_connect_uses_a_lazily_built_default(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, fake_pg: Callable[..., FakeDriver]
) -> None:
    import rds_iam_auth._default as connector_module

    fake_pg()
    default = make(StaticSigner("tok"), clock)
    monkeypatch.setattr(connector_module, "_default_connector", default)
    assert rds_iam_auth.connect(HOST, "app", driver="psycopg") == ("connection", "tok")
    assert default.stats.signings == 1


def test_token_expires_at_follows_the_signer(clock: FakeClock) -> None:
    c = make(StaticSigner("t", expires_in_s=120), clock)
    token = c.token(HOST, 5432, "app")
    assert token.expires_at - token.signed_at == timedelta(seconds=120)


# --- repeated calls reuse validated arguments, and never skip validation of new ones ---------


@pytest.mark.parametrize("bad_port", [True, 5432.0, "5432"])
def test_remembered_arguments_do_not_let_an_equal_bad_port_through(bad_port: Any) -> None:
    connector = Connector(signer=StaticSigner("tok"), ca="certifi")
    assert connector.token(HOST, 1, "app").value == "tok"
    assert connector.token(HOST, 5432, "app").value == "tok"
    with pytest.raises(ConfigurationError, match="port"):
        connector.token(HOST, bad_port, "app")
    with pytest.raises(ConfigurationError, match="port"):
        connector.connect_kwargs(HOST, "app", driver="psycopg", port=bad_port)


def test_unhashable_arguments_get_the_typed_error() -> None:
    connector = Connector(signer=StaticSigner("tok"), ca="certifi")
    with pytest.raises(ConfigurationError, match="host"):
        connector.token([HOST], 5432, "app")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="user"):
        connector.connect_kwargs(HOST, ["app"], driver="psycopg")  # type: ignore[arg-type]


def test_repeated_calls_sign_once_and_keep_separate_keys_apart() -> None:
    signer = StaticSigner(["t1", "t2", "t3"])
    connector = Connector(signer=signer, ca="certifi")
    for _ in range(3):
        assert connector.token(HOST, 5432, "app").value == "t1"
        assert connector.connect_kwargs(HOST, "app", driver="psycopg")["password"] == "t1"
    assert connector.token(HOST, 5432, "other").value == "t2"
    assert connector.token(HOST.upper(), 5432, "app").value == "t1"  # same endpoint
    assert connector.token(HOST, 5433, "app").value == "t3"
    assert len(signer.calls) == 3
