"""TokenCache bookkeeping: LRU bound, invalidate, clear, stats, repr, lock-free hits."""

from __future__ import annotations

import threading

import pytest

from rds_iam_auth.cache import CacheStats, TokenCache
from rds_iam_auth.testing import FakeClock
from tests.unit.cache_helpers import (
    KEY,
    OTHER_KEY,
    START,
    WAIT_S,
    CountingSigner,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def cache(clock: FakeClock) -> TokenCache:
    return TokenCache(clock=clock, refresh_before_s=300, max_size=16)


# --- bounds, invalidate, clear, stats --------------------------------------------------------


def test_bounded_size_evicts_least_recently_used(clock: FakeClock) -> None:
    cache = TokenCache(clock=clock, max_size=2)
    signs = {k: CountingSigner() for k in "abc"}
    cache.get("a", signs["a"])
    cache.get("b", signs["b"])
    cache.get("a", signs["a"])  # "a" is now the most recently used
    cache.get("c", signs["c"])  # evicts "b"
    assert len(cache) == 2
    cache.get("a", signs["a"])
    assert len(signs["a"].calls) == 1
    cache.get("b", signs["b"])  # evicted: signed again (and evicts "c")
    assert len(signs["b"].calls) == 2
    assert len(cache) == 2


def test_invalidate_forces_a_new_signing(cache: TokenCache) -> None:
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    cache.invalidate(KEY, first)
    assert cache.get(KEY, sign).value == "t2"
    cache.invalidate(("unknown",), first)  # no error for unknown keys
    assert len(cache) == 1


def test_clear_forgets_every_token(cache: TokenCache) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    cache.get(OTHER_KEY, sign)
    cache.clear()
    assert len(cache) == 0
    cache.get(KEY, sign)
    assert len(sign.calls) == 3


def test_stats_is_a_frozen_snapshot(cache: TokenCache) -> None:
    before = cache.stats
    cache.get(KEY, CountingSigner())
    assert before == CacheStats(0, 0, 0)
    assert cache.stats == CacheStats(1, 0, 0)
    with pytest.raises(AttributeError):
        before.signings = 5  # type: ignore[misc]


def test_repr_has_no_token(cache: TokenCache) -> None:
    token = cache.get(KEY, CountingSigner())
    assert token.value not in repr(cache)
    assert "size=1" in repr(cache)


# --- lock-free hits ----------------------------------------------------------------------


def test_lock_free_hits_are_counted_exactly_across_threads() -> None:
    clock = FakeClock(START)
    cache = TokenCache(clock=clock)
    sign = CountingSigner()
    cache.get(KEY, sign)
    per_thread, threads = 2000, 8
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait(WAIT_S)
        for _ in range(per_thread):
            assert cache.get(KEY, sign).value == "t1"

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(WAIT_S)
    assert cache.stats == CacheStats(signings=1, cache_hits=per_thread * threads, refreshes=0)


def test_invalidate_and_eviction_end_lock_free_hits() -> None:
    clock = FakeClock(START)
    cache = TokenCache(clock=clock, max_size=1)
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    cache.invalidate(KEY, first)
    assert cache.get(KEY, sign).value == "t2"
    assert cache.get(OTHER_KEY, sign).value == "t3"  # evicts KEY
    assert cache.get(KEY, sign).value == "t4"
    cache.clear()
    assert cache.get(KEY, sign).value == "t5"


def test_lock_free_hits_stop_at_the_refresh_point() -> None:
    clock = FakeClock(START)
    cache = TokenCache(clock=clock, refresh_before_s=300)
    sign = CountingSigner()
    assert cache.get(KEY, sign).value == "t1"
    clock.advance(900 - 300 - 1)
    assert cache.get(KEY, sign).value == "t1"
    clock.advance(1)
    assert cache.get(KEY, sign).value == "t2"  # refreshed by this (only) caller
