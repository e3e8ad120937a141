"""One cache for threads and coroutines, and an event loop that signing never blocks.

Proven without timing: a signer that waits for an Event only a coroutine on the same loop sets
completes (it could not if signing ran on the loop); counts of signings, not durations.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest

from rds_iam_auth import Connector, Token
from rds_iam_auth.cache import TokenCache
from rds_iam_auth.endpoint import Endpoint
from rds_iam_auth.testing import FakeClock, StaticSigner
from tests.unit.cache_helpers import KEY, START, WAIT_S, CountingSigner, SignError

HOST = "mydb.abc123xyz.us-east-1.rds.amazonaws.com"


class GatedSigner:
    """Signs only once ``release`` is set; counts signings; ``entered`` when one has begun."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.threads: set[int] = set()
        self._inner = StaticSigner("token-value")

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        self.threads.add(threading.get_ident())
        self.entered.set()
        assert self.release.wait(WAIT_S), "never released: signing ran on the event loop?"
        self.calls += 1
        return self._inner.sign(endpoint, user, now=now)


def _connector(signer: GatedSigner) -> Connector:
    return Connector(signer=signer, clock=FakeClock(START))


def test_signing_runs_off_the_loop_so_a_coroutine_can_release_it() -> None:
    signer = GatedSigner()
    connector = _connector(signer)

    async def main() -> Token:
        loop_thread = threading.get_ident()
        login = asyncio.ensure_future(connector.token_async(HOST, 5432, "app"))

        async def release() -> None:  # runs only if the loop is free while signing waits
            while not signer.entered.is_set():
                await asyncio.sleep(0)
            signer.release.set()

        _, token = await asyncio.gather(release(), login)
        assert loop_thread not in signer.threads
        return token

    assert asyncio.run(main()).value == "token-value"
    assert connector.stats.signings == 1


def test_a_hundred_coroutines_on_one_cold_key_cause_one_signing() -> None:
    signer = GatedSigner()
    connector = _connector(signer)

    async def main() -> list[Token]:
        logins = [
            asyncio.ensure_future(connector.token_async(HOST, 5432, "app")) for _ in range(100)
        ]
        while not signer.entered.is_set():
            await asyncio.sleep(0)
        for _ in range(3):  # every coroutine reaches its await before the signing ends
            await asyncio.sleep(0)
        signer.release.set()
        return await asyncio.gather(*logins)

    tokens = asyncio.run(main())
    assert signer.calls == 1
    assert len({id(t) for t in tokens}) == 1
    assert connector.stats.signings == 1


@pytest.mark.parametrize("leader", ["thread", "coroutine"])
def test_threads_and_coroutines_share_one_signing(leader: str) -> None:
    signer = GatedSigner()
    connector = _connector(signer)
    from_thread: list[Token] = []
    thread = threading.Thread(target=lambda: from_thread.append(connector.token(HOST, 5432, "app")))

    async def main() -> list[Token]:
        if leader == "thread":
            thread.start()
            await asyncio.to_thread(signer.entered.wait, WAIT_S)
        logins = [
            asyncio.ensure_future(connector.token_async(HOST, 5432, "app")) for _ in range(10)
        ]
        if leader == "coroutine":
            await asyncio.to_thread(signer.entered.wait, WAIT_S)
            thread.start()
        await asyncio.sleep(0)
        signer.release.set()
        tokens = await asyncio.gather(*logins)
        await asyncio.to_thread(thread.join, WAIT_S)
        return tokens

    tokens = asyncio.run(main())
    assert signer.calls == 1
    assert {id(t) for t in tokens} == {id(from_thread[0])}


def test_cancelled_leader_neither_cancels_the_signing_nor_leaves_the_key_stuck() -> None:
    signer = GatedSigner()
    connector = _connector(signer)

    async def main() -> Token:
        leader = asyncio.ensure_future(connector.token_async(HOST, 5432, "app"))
        await asyncio.to_thread(signer.entered.wait, WAIT_S)
        follower = asyncio.ensure_future(connector.token_async(HOST, 5432, "app"))
        await asyncio.sleep(0)
        leader.cancel()
        await asyncio.sleep(0)
        signer.release.set()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await follower

    token = asyncio.run(main())
    assert signer.calls == 1
    # The key is not stuck: the signed token was cached and is served without a new signing.
    assert asyncio.run(connector.token_async(HOST, 5432, "app")) is token
    assert connector.stats.signings == 1


def test_cancelled_follower_leaves_the_others_alone() -> None:
    signer = GatedSigner()
    connector = _connector(signer)

    async def main() -> list[Token]:
        logins = [asyncio.ensure_future(connector.token_async(HOST, 5432, "app")) for _ in range(3)]
        await asyncio.to_thread(signer.entered.wait, WAIT_S)
        await asyncio.sleep(0)
        logins[1].cancel()
        signer.release.set()
        results = await asyncio.gather(*logins, return_exceptions=True)
        assert isinstance(results[1], asyncio.CancelledError)
        return [r for r in results if isinstance(r, Token)]

    tokens = asyncio.run(main())
    assert len(tokens) == 2
    assert tokens[0] is tokens[1]
    assert signer.calls == 1


def test_a_failed_signing_reaches_each_waiting_coroutine_as_its_own_exception() -> None:
    cache = TokenCache(clock=FakeClock(START))
    release = threading.Event()

    def failing(now: datetime) -> Token:
        assert release.wait(WAIT_S)
        raise SignError("no credentials")

    async def main() -> list[BaseException]:
        gets = [asyncio.ensure_future(cache.get_async(KEY, failing)) for _ in range(5)]
        await asyncio.sleep(0)
        release.set()
        return list(await asyncio.gather(*gets, return_exceptions=True))

    errors = asyncio.run(main())
    assert all(type(e) is SignError and e.args == ("no credentials",) for e in errors)
    assert len({id(e) for e in errors}) == 5
    # Not poisoned: the next caller signs again.
    assert asyncio.run(cache.get_async(KEY, CountingSigner())).value == "t1"


def test_one_connector_serves_several_loops_and_threads() -> None:
    signer = GatedSigner()
    signer.release.set()
    connector = _connector(signer)
    results: list[Token] = []

    def in_own_loop() -> None:
        results.append(asyncio.run(connector.token_async(HOST, 5432, "app")))

    threads = [threading.Thread(target=in_own_loop) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert len(results) == 4
    assert len({id(t) for t in results}) == 1
    assert signer.calls == 1


def test_a_cache_hit_does_not_leave_the_loop() -> None:
    signer = GatedSigner()
    signer.release.set()
    connector = _connector(signer)
    asyncio.run(connector.token_async(HOST, 5432, "app"))
    signer.threads.clear()

    async def main() -> None:
        # No worker thread: a hit returns in the same loop iteration (the task is done
        # after one pass, which a thread hop could not be).
        task = asyncio.ensure_future(connector.token_async(HOST, 5432, "app"))
        await asyncio.sleep(0)
        assert task.done()

    asyncio.run(main())
    assert connector.stats.cache_hits == 1
