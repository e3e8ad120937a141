"""The login flow: retry once, one signing for a refused burst, notes, no token in any frame.

Drivers are replaced by fakes that raise the drivers' real exception classes.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import psycopg
import pymysql
import pytest

from rds_iam_auth import ConfigurationError, Connector, ConnectorClosedError
from rds_iam_auth.testing import FakeClock, StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
START = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
SECRET = "SECRET-TOKEN-mydb:5432/?Action=connect&X-Amz-Credential=AKIAEXAMPLE0000000%2F20240102"
PG_REFUSED = 'connection failed: FATAL:  PAM authentication failed for user "app"'


def connector(tokens: Any = SECRET, **kwargs: Any) -> Connector:
    return Connector(signer=StaticSigner(tokens), clock=FakeClock(START), ca="certifi", **kwargs)


def fake_driver(
    monkeypatch: pytest.MonkeyPatch, module: Any, behaviour: Callable[..., Any]
) -> list[str]:
    passwords: list[str] = []

    def connect(**kwargs: Any) -> Any:
        passwords.append(kwargs["password"])
        return behaviour(**kwargs)

    monkeypatch.setattr(module, "connect", connect)
    return passwords


def refuse_pg(**kwargs: Any) -> Any:
    raise psycopg.OperationalError(PG_REFUSED)


@pytest.mark.regression
def test_a_refused_burst_costs_one_signing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (finding 8): 64 concurrent logins whose cached token is refused caused 64 new
    # signings, each retry invalidating what the previous retry had just signed.
    tokens = [f"token-{n}" for n in range(70)]
    c = connector(tokens)
    c.token(HOST, 5432, "app")  # the one all 64 will be refused with
    barrier = threading.Barrier(64, timeout=10)

    def behaviour(**kwargs: Any) -> Any:
        if kwargs["password"] == "token-0":
            barrier.wait()  # every thread has been refused once before anyone retries
            raise psycopg.OperationalError(PG_REFUSED)
        return "connection"

    fake_driver(monkeypatch, psycopg, behaviour)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(c.connect(HOST, "app", driver="psycopg")))
        for _ in range(64)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == ["connection"] * 64
    assert c.stats.signings == 2
    assert c.stats.retries == 64


def test_twice_refused_gets_notes_and_keeps_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    c = connector([SECRET, SECRET + "2"], region="eu-west-1")
    fake_driver(monkeypatch, psycopg, refuse_pg)
    with pytest.raises(psycopg.OperationalError) as info:
        c.connect("db.internal.example", "app", driver="psycopg")
    notes = info.value.__notes__
    text = "\n".join(notes)
    assert "refused the IAM token twice" in notes[0]
    assert "host 'db.internal.example' port 5432" in text
    assert "user 'app'" in text
    assert "region eu-west-1 (from Connector(region=))" in text
    assert "key AKIAEXAMPLE0000000" in text
    assert "expires 2024-01-02T03:19:05Z" in text
    # A custom name and a region from the Connector: those causes come first.
    assert notes[2].startswith("  1. the region")
    assert notes[3].startswith("  2. the host name")
    assert "GRANT rds_iam" in text
    assert "rds-db:connect" in text
    assert SECRET not in text
    assert info.value.__context__ is None  # not chained to the first refusal


def test_mysql_notes_name_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: Any) -> Any:
        raise pymysql.err.OperationalError(1045, "Access denied for user 'app'")

    fake_driver(monkeypatch, pymysql, refuse)
    with pytest.raises(pymysql.err.OperationalError) as info:
        connector().connect(HOST, "app", driver="pymysql")
    notes = info.value.__notes__
    assert notes[2].startswith("  1. the database user")  # region from the host name: fine
    assert "AWSAuthenticationPlugin" in notes[2]


def test_other_errors_get_no_notes_and_no_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(**kwargs: Any) -> Any:
        raise psycopg.OperationalError("connection refused")

    passwords = fake_driver(monkeypatch, psycopg, unreachable)
    c = connector()
    with pytest.raises(psycopg.OperationalError) as info:
        c.connect(HOST, "app", driver="psycopg")
    assert not getattr(info.value, "__notes__", None)
    assert len(passwords) == 1
    assert c.stats.retries == 0


@pytest.mark.regression
@pytest.mark.parametrize("behaviour", ["refused", "unreachable"])
def test_no_token_in_rendered_locals(monkeypatch: pytest.MonkeyPatch, behaviour: str) -> None:
    # Regression (finding 7): an error tracker rendering locals showed the token in frames of
    # rds_iam_auth (the kwargs dict, the password argument).
    def fail(**kwargs: Any) -> Any:
        raise psycopg.OperationalError(PG_REFUSED if behaviour == "refused" else "down")

    fake_driver(monkeypatch, psycopg, fail)
    c = connector()
    for call in (
        lambda: c.connect(HOST, "app", driver="psycopg", dbname="app"),
        c.creator(HOST, "app", driver="psycopg"),
    ):
        with pytest.raises(psycopg.OperationalError) as info:
            call()
        tb = info.value.__traceback__
        frames = traceback.TracebackException(type(info.value), info.value, tb, capture_locals=True)
        # Only our frames: the fake driver's own (like psycopg's) hold the password.
        ours = [f for f in frames.stack if "/rds_iam_auth/" in f.filename]
        assert len(ours) >= 3, "expected frames of rds_iam_auth in the traceback"
        rendered = "\n".join(f"{name}={value}" for f in ours for name, value in f.locals.items())
        assert "SECRET-TOKEN" not in rendered
        assert "<redacted>" in rendered  # the kwargs were there, shown without the password


def test_connect_kwargs_repr_is_redacted() -> None:
    kwargs = connector().connect_kwargs(HOST, "app", driver="psycopg", dbname="app")
    assert kwargs["password"] == SECRET  # by design: they are for handing to the driver
    assert SECRET not in repr(kwargs)
    assert SECRET not in str(kwargs)
    assert SECRET not in repr(dict(kwargs).keys())
    assert "'dbname': 'app'" in repr(kwargs)


@pytest.mark.regression
def test_unencodable_input_in_the_driver_is_our_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (finding 6): PyMySQL raised a raw UnicodeEncodeError whose .object was the
    # token. Hosts are ASCII now; any encoding failure inside a driver becomes our error.
    def encode(**kwargs: Any) -> Any:
        kwargs["password"].encode("ascii")
        return kwargs["password"].encode("latin1") + "\u20ac".encode("latin1")

    fake_driver(monkeypatch, pymysql, encode)
    with pytest.raises(ConfigurationError, match="cannot encode") as info:
        connector().connect(HOST, "app", driver="pymysql")
    assert info.value.__context__ is None
    assert info.value.__cause__ is None
    assert SECRET not in repr(info.value)


def test_explicit_region_contradicting_the_host_warns_once_per_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = connector()
    with caplog.at_level(logging.WARNING, logger="rds_iam_auth"):
        for _ in range(3):
            c.token(HOST, 5432, "app", region="eu-west-1")
            c.token(HOST.upper(), 5432, "other", region="eu-west-1")
        c.token(HOST, 5432, "app", region="us-east-1")  # agrees: no warning
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "eu-west-1" in warnings[0].getMessage()
    assert "us-east-1" in warnings[0].getMessage()


def test_expires_in_s_is_public() -> None:
    from rds_iam_auth.signer import SigV4Signer

    c = Connector(credentials=None, expires_in_s=60, region="us-east-1", ca="certifi")
    assert isinstance(c._signer, SigV4Signer)
    assert "expires_in_s=60" in repr(c._signer)
    for bad in (0, 604_801, 1.5, True):
        with pytest.raises(ConfigurationError, match="expires_in_s"):
            Connector(expires_in_s=bad)  # type: ignore[arg-type]
    # 901..604800 are for Aurora DSQL hosts: asking for an RDS host's token refuses them,
    # before any credentials are looked up.
    long_lived = Connector(credentials=None, expires_in_s=901, region="us-east-1", ca="certifi")
    with pytest.raises(ConfigurationError, match="expires_in_s=901"):
        long_lived.token("mydb.abc.us-east-1.rds.amazonaws.com", 5432, "app")
    with pytest.raises(ConfigurationError, match="expires_in_s"):
        Connector(signer=StaticSigner("t"), expires_in_s=60)


@pytest.mark.regression
def test_close_is_final_for_calls_in_flight() -> None:
    # Regression (finding 10): a call in flight during close() put its prepared entry back
    # and the closed Connector kept working.
    entered, release = threading.Event(), threading.Event()

    class SlowSigner(StaticSigner):
        def sign(self, endpoint: Any, user: str, *, now: datetime) -> Any:
            entered.set()
            assert release.wait(10)
            return super().sign(endpoint, user, now=now)

    c = Connector(signer=SlowSigner("t"), clock=FakeClock(START), ca="certifi")
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(c.token(HOST, 5432, "app").value))
    worker.start()
    assert entered.wait(10)
    c.close()
    release.set()
    worker.join(10)
    assert outcome == ["t"]  # the caller in flight still gets its token
    for call in (
        lambda: c.token(HOST, 5432, "app"),
        lambda: c.connect_kwargs(HOST, "app", driver="psycopg"),
        lambda: c.creator(HOST, "app", driver="psycopg"),
    ):
        with pytest.raises(ConnectorClosedError):
            call()
    assert "cached=0" in repr(c)


def test_a_creator_built_before_close_stops_working() -> None:
    c = connector()
    make = c.creator(HOST, "app", driver="psycopg")
    c.close()
    with pytest.raises(ConnectorClosedError):
        make()


@pytest.mark.regression
def test_repr_of_a_half_built_connector() -> None:
    # Regression (finding 12): repr() of a Connector whose __init__ raised itself raised.
    blank = Connector.__new__(Connector)
    assert repr(blank).startswith("Connector(")
    with pytest.raises(ConfigurationError) as info:
        Connector(region="not a region")
    rendered = "".join(
        traceback.TracebackException(
            type(info.value), info.value, info.value.__traceback__, capture_locals=True
        ).format()
    )
    assert "Connector(region=None" in rendered
