"""TokenCache: invalidating a refused token, close(), and exact stats under concurrent reads."""

from __future__ import annotations

import threading

import pytest

from rds_iam_auth import ConnectorClosedError
from rds_iam_auth.cache import CacheStats, TokenCache
from rds_iam_auth.testing import FakeClock
from rds_iam_auth.token import Token
from tests.unit.cache_helpers import (
    KEY,
    OTHER_KEY,
    START,
    WAIT_S,
    CountingSigner,
    HeldSigner,
    Runner,
    make_token,
    must_not_sign,
    start_followers,
)

CLOSED = "this Connector is closed; build a new one"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def cache(clock: FakeClock) -> TokenCache:
    return TokenCache(clock=clock, refresh_before_s=300, max_size=16)


# --- invalidate(key, token) ------------------------------------------------------------------


def test_a_refused_burst_of_64_logins_costs_one_new_signing(cache: TokenCache) -> None:
    # Fixed bug: each of 64 refused logins invalidated the key, dropping what the previous
    # retry had just signed: 64 new signings. Only the refused token itself is dropped now.
    sign = CountingSigner()
    refused = cache.get(KEY, sign)
    n = 64
    barrier = threading.Barrier(n)
    retried: list[Token] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def login() -> None:
        try:
            token = cache.get(KEY, sign)
            barrier.wait(WAIT_S)  # every login holds the refused token before any retry
            cache.invalidate(KEY, token)  # "refused": drop it, then retry
            fresh = cache.get(KEY, sign)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            retried.append(fresh)

    threads = [threading.Thread(target=login, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
        assert not t.is_alive()
    assert errors == []
    assert len(sign.calls) == 2, f"{len(sign.calls) - 1} new signings for one refused token"
    assert len(retried) == n
    assert all(t.value == "t2" and t is not refused for t in retried)


def test_invalidate_ignores_a_token_that_is_no_longer_cached(cache: TokenCache) -> None:
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    cache.invalidate(KEY, first)
    second = cache.get(KEY, sign)
    cache.invalidate(KEY, first)  # a late retry of a login refused with the first token
    cache.invalidate(KEY, make_token(second.value, START))  # equal value, another object
    assert cache.get(KEY, must_not_sign) is second
    cache.invalidate(OTHER_KEY, second)  # the token of another key
    assert cache.get(KEY, must_not_sign) is second
    assert len(sign.calls) == 2


def test_invalidate_during_a_refresh_drops_the_refused_token(
    cache: TokenCache, clock: FakeClock
) -> None:
    old = cache.get(KEY, CountingSigner())
    clock.advance(650)  # advisory window: others keep the old token while one refreshes
    held = HeldSigner("refreshed")
    refresher = Runner(cache, KEY, held)
    refresher.start()
    assert held.started.wait(WAIT_S)
    assert cache.get(KEY, must_not_sign) is old
    cache.invalidate(KEY, old)
    retry = cache.get(KEY, CountingSigner())
    assert retry is not old  # never the refused token again, not even while it is refreshed
    held.release.set()
    assert refresher.finish().value == "refreshed"


def test_invalidate_while_the_replacement_is_being_signed_waits_for_it(
    cache: TokenCache, clock: FakeClock
) -> None:
    refused = cache.get(KEY, CountingSigner())
    cache.invalidate(KEY, refused)
    held = HeldSigner("replacement")
    leader, followers = start_followers(cache, KEY, held, 1)
    cache.invalidate(KEY, refused)  # a second refused login: must not start another signing
    late = Runner(cache, KEY, must_not_sign)
    late.start()
    held.release.set()
    assert leader.finish().value == "replacement"
    assert followers[0].finish().value == "replacement"
    assert late.finish().value == "replacement"
    assert held.calls == 1


# --- close() ---------------------------------------------------------------------------------


def test_close_forgets_everything_and_later_calls_raise(cache: TokenCache) -> None:
    sign = CountingSigner()
    token = cache.get(KEY, sign)
    cache.get(OTHER_KEY, sign)
    cache.close()
    assert len(cache) == 0
    for key in (KEY, OTHER_KEY, ("never", "seen")):
        with pytest.raises(ConnectorClosedError) as info:
            cache.get(key, sign)
        assert str(info.value) == CLOSED
    assert len(sign.calls) == 2
    cache.invalidate(KEY, token)  # harmless after close
    cache.close()  # idempotent
    assert cache.stats == CacheStats(signings=2, cache_hits=0, refreshes=0)
    assert "closed" in repr(cache)
    assert token.value not in repr(cache)


def test_a_signing_in_flight_at_close_serves_its_callers_but_is_not_cached(
    cache: TokenCache,
) -> None:
    # Fixed bug: a call in flight during close() stored its result, so the closed cache went
    # on serving it. Now its own callers get the token, and the cache stays empty.
    held = HeldSigner("late")
    leader, followers = start_followers(cache, KEY, held, 3)
    cache.close()
    held.release.set()
    assert leader.finish().value == "late"
    assert all(f.finish().value == "late" for f in followers)
    assert len(cache) == 0
    with pytest.raises(ConnectorClosedError, match="closed"):
        cache.get(KEY, must_not_sign)  # the lock-free hit path has nothing either


def test_a_refresh_in_flight_at_close_that_fails_does_not_fall_back_to_the_old_token(
    cache: TokenCache, clock: FakeClock
) -> None:
    cache.get(KEY, CountingSigner())
    clock.advance(900 - 30)  # mandatory window: the caller waits for the refresh
    held = HeldSigner()
    held.error = RuntimeError("down")
    refresher = Runner(cache, KEY, held)
    refresher.start()
    assert held.started.wait(WAIT_S)
    cache.close()
    held.release.set()
    refresher.join(WAIT_S)
    assert isinstance(refresher.error, RuntimeError)
    with pytest.raises(ConnectorClosedError):
        cache.get(KEY, must_not_sign)


def test_clear_is_not_final(cache: TokenCache) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    cache.clear()
    assert cache.get(KEY, sign).value == "t2"


# --- stats -----------------------------------------------------------------------------------


def test_stats_stay_exact_and_monotonic_while_read_concurrently_with_lock_free_hits() -> None:
    cache = TokenCache(clock=FakeClock(START))
    cache.get(KEY, CountingSigner())
    hitters, per_thread, reads = 6, 3000, 500
    barrier = threading.Barrier(hitters + 1)
    seen: list[int] = []

    def hit() -> None:
        barrier.wait(WAIT_S)
        for _ in range(per_thread):
            cache.get(KEY, must_not_sign)

    def read() -> None:
        barrier.wait(WAIT_S)
        seen.extend(cache.stats.cache_hits for _ in range(reads))

    pool = [threading.Thread(target=hit) for _ in range(hitters)]
    pool.append(threading.Thread(target=read))
    for t in pool:
        t.start()
    for t in pool:
        t.join(WAIT_S)
        assert not t.is_alive()
    assert seen == sorted(seen), "cache_hits went backwards"
    assert seen[0] >= 0
    assert seen[-1] <= hitters * per_thread
    # Reading stats is not a hit, however often it happens.
    assert cache.stats == CacheStats(signings=1, cache_hits=hitters * per_thread, refreshes=0)
    assert cache.stats == cache.stats
