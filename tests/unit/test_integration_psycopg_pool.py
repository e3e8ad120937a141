"""rds_iam_auth.integrations.psycopg_pool without a server: the kwargs callables check
everything when they are built, and each call returns current connect keywords."""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime, timezone
from typing import Any

import pytest

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.integrations.psycopg_pool import async_pool_kwargs, pool_kwargs
from rds_iam_auth.testing import FakeClock, StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


@pytest.mark.parametrize("make", [pool_kwargs, async_pool_kwargs])
def test_bad_keywords_fail_when_the_callable_is_built(make: Any) -> None:
    signer = StaticSigner("tok")
    connector = Connector(signer=signer, ca="certifi")
    with pytest.raises(ConfigurationError, match="sslmode='require' would weaken TLS"):
        make(connector, HOST, "jane", sslmode="require")
    with pytest.raises(ConfigurationError, match="unknown or unsupported keyword 'dbnme'"):
        make(connector, HOST, "jane", dbnme="app")
    with pytest.raises(ConfigurationError, match="address="):
        make(connector, HOST, "jane", hostaddr="10.0.0.1")
    assert signer.calls == []


def test_each_call_gives_the_current_token() -> None:
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    connector = Connector(signer=StaticSigner(["t1", "t2"]), clock=clock, ca="certifi")
    kwargs = pool_kwargs(connector, HOST, "jane", dbname="app", connect_timeout=5)
    first = kwargs()
    assert first["password"] == "t1"
    assert (first["host"], first["user"], first["dbname"]) == (HOST, "jane", "app")
    assert (first["sslmode"], first["connect_timeout"]) == ("verify-full", 5)
    assert kwargs()["password"] == "t1"  # cached
    clock.advance(900)
    assert kwargs()["password"] == "t2"  # a pool built once still gets a current token
    assert connector.stats.signings == 2


def test_the_async_callable_is_a_coroutine_function() -> None:
    # AsyncConnectionPool awaits an async callable; a sync one would run on the loop.
    connector = Connector(signer=StaticSigner("tok"), ca="certifi")
    kwargs = async_pool_kwargs(connector, HOST, "jane", port=5433, dbname="app")
    assert inspect.iscoroutinefunction(kwargs)
    result = asyncio.run(kwargs())
    assert (result["port"], result["password"]) == (5433, "tok")
    assert "tok" not in repr(result)
