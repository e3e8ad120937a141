"""TokenCache: refresh windows, single-flight signing, fork reset.

Failure policy: test_cache_failures.py; bounds, invalidate, clear, stats: test_cache_bounds.py;
refused tokens and close(): test_cache_lifecycle.py.

Time comes only from an injected FakeClock; threads are coordinated with Events and Barriers,
never with sleeps (helpers in cache_helpers.py).
"""

from __future__ import annotations

import os
import threading

import pytest

from rds_iam_auth.cache import MANDATORY_REFRESH_S, CacheStats, TokenCache
from rds_iam_auth.testing import FakeClock
from rds_iam_auth.token import Token
from tests.forking import assert_child_succeeded, fork_running
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
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def cache(clock: FakeClock) -> TokenCache:
    return TokenCache(clock=clock, refresh_before_s=300, max_size=16)


# --- reuse and refresh windows -------------------------------------------------------------


def test_reuse_inside_validity_window_signs_once(cache: TokenCache, clock: FakeClock) -> None:
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    for _ in range(10):
        clock.advance(59)  # up to 590 s: still before refresh_at (900 - 300 = 600)
        assert cache.get(KEY, sign) is first
    assert len(sign.calls) == 1
    assert cache.stats == CacheStats(signings=1, cache_hits=10, refreshes=0)


def test_sign_receives_the_clock_time_as_aware_utc(cache: TokenCache, clock: FakeClock) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    assert sign.calls == [START]
    assert sign.calls[0].tzinfo is not None


def test_refresh_starts_at_expires_at_minus_refresh_before(
    cache: TokenCache, clock: FakeClock
) -> None:
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    clock.advance(599.9)
    assert cache.get(KEY, sign) is first
    clock.advance(0.1)  # exactly expires_at - refresh_before_s
    second = cache.get(KEY, sign)
    assert second.value == "t2"
    assert cache.get(KEY, sign) is second
    assert cache.stats.refreshes == 1
    assert cache.stats.signings == 2


def test_refresh_before_s_below_a_minute_still_honours_the_mandatory_window(
    clock: FakeClock,
) -> None:
    # Fixed bug: with refresh_before_s < MANDATORY_REFRESH_S (Connector allows 0..899), refresh_at
    # (expires_at - refresh_before_s) lies after mandatory_at, and get() returns the cached token on
    # `now < entry.refresh_at` before ever looking at mandatory_at: the token is served in its last
    # minute (here with 60 s left). Fix in TokenCache._lead: entry.refresh_at = valid_until -
    # max(self._refresh_before_s, MANDATORY_REFRESH_S)
    cache = TokenCache(clock=clock, refresh_before_s=0)
    sign = CountingSigner()
    first = cache.get(KEY, sign)
    clock.advance(900 - MANDATORY_REFRESH_S - 1)
    assert cache.get(KEY, sign) is first
    clock.advance(1)
    assert cache.get(KEY, sign).value == "t2"


def test_advisory_window_one_caller_refreshes_others_get_old_token_without_waiting(
    cache: TokenCache, clock: FakeClock
) -> None:
    old = cache.get(KEY, CountingSigner())
    clock.advance(650)  # advisory window: 600 <= t < 840
    held = HeldSigner("new")
    refresher = Runner(cache, KEY, held)
    refresher.start()
    assert held.started.wait(WAIT_S)
    # While the refresher is held inside sign(), other callers get the old token at once,
    # from this very thread: if get() blocked, the test would hang (and the signer timeout
    # would fail it).
    for _ in range(5):
        assert cache.get(KEY, must_not_sign) is old
    held.release.set()
    assert refresher.finish().value == "new"
    assert cache.get(KEY, must_not_sign).value == "new"
    assert held.calls == 1
    stats = cache.stats
    assert stats.signings == 2
    assert stats.refreshes == 1
    assert stats.cache_hits == 6


def test_mandatory_window_callers_wait_for_the_new_token(
    cache: TokenCache, clock: FakeClock
) -> None:
    old = cache.get(KEY, CountingSigner())
    clock.advance(900 - MANDATORY_REFRESH_S + 10)  # last minute of the token's life
    held = HeldSigner("new")
    leader = Runner(cache, KEY, held)
    leader.start()
    assert held.started.wait(WAIT_S)
    followers = [Runner(cache, KEY, must_not_sign) for _ in range(4)]
    for f in followers:
        f.start()
    # A follower that returned the old token would be done by now.
    followers[0].join(0.2)
    assert all(f.is_alive() for f in followers), "a caller did not wait in the mandatory window"
    held.release.set()
    assert leader.finish().value == "new"
    for f in followers:
        token = f.finish()
        assert token.value == "new"
        assert token is not old
    assert held.calls == 1
    assert cache.stats.signings == 2


def test_mandatory_window_single_caller_signs_synchronously(
    cache: TokenCache, clock: FakeClock
) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    clock.advance(900 - MANDATORY_REFRESH_S)
    assert cache.get(KEY, sign).value == "t2"


def test_expired_token_is_never_served(cache: TokenCache, clock: FakeClock) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    clock.advance(5000)
    token = cache.get(KEY, sign)
    assert token.value == "t2"
    assert token.expires_at.timestamp() > clock()


def test_credentials_expiry_caps_token_and_refresh_comes_earlier(
    cache: TokenCache, clock: FakeClock
) -> None:
    # Token.expires_at = min(signed + 900, credentials expiry): here the credentials expire
    # after 600 s, so the refresh starts at 600 - 300 = 300 s instead of 600 s.
    sign = CountingSigner(lifetime_s=600)
    first = cache.get(KEY, sign)
    clock.advance(299)
    assert cache.get(KEY, sign) is first
    clock.advance(1)
    assert cache.get(KEY, sign).value == "t2"
    assert len(sign.calls) == 2


def test_short_lived_token_inside_mandatory_window_is_resigned_each_time(
    cache: TokenCache, clock: FakeClock
) -> None:
    # Credentials that expire in 30 s: the token is born inside the last minute, so every
    # caller gets a freshly signed one rather than one that may expire in transit.
    sign = CountingSigner(lifetime_s=30)
    assert cache.get(KEY, sign).value == "t1"
    assert cache.get(KEY, sign).value == "t2"


# --- single flight -------------------------------------------------------------------------


def test_64_threads_on_a_cold_key_sign_exactly_once(cache: TokenCache) -> None:
    n = 64
    barrier = threading.Barrier(n + 1)
    held = HeldSigner("only")
    results: list[Token] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(WAIT_S)
        try:
            token = cache.get(KEY, held)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(token)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    barrier.wait(WAIT_S)  # all 64 are released together
    assert held.started.wait(WAIT_S)
    held.release.set()
    for t in threads:
        t.join(WAIT_S)
        assert not t.is_alive()
    assert errors == []
    assert len(results) == n
    assert {id(t) for t in results} == {id(results[0])}
    assert held.calls == 1
    assert cache.stats.signings == 1


def test_other_keys_never_wait_on_a_slow_key(cache: TokenCache) -> None:
    held = HeldSigner("slow")
    slow = Runner(cache, KEY, held)
    slow.start()
    assert held.started.wait(WAIT_S)
    # Same thread, no timeout: would hang if the cache lock were held during sign().
    other = cache.get(OTHER_KEY, CountingSigner())
    assert other.value == "t1"
    assert cache.stats.signings == 1  # only the fast key so far
    held.release.set()
    assert slow.finish().value == "slow"
    assert cache.stats.signings == 2


# --- fork ------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_does_not_wait_for_parents_in_flight_signing(
    cache: TokenCache, clock: FakeClock
) -> None:
    held = HeldSigner("parent")
    parent_thread = Runner(cache, KEY, held)
    parent_thread.start()
    assert held.started.wait(WAIT_S)  # the parent is mid-signing on a cold key
    valid = cache.get(OTHER_KEY, CountingSigner())  # and has a valid token for another key

    def in_child() -> bool:  # a hang (waiting on the parent's flight) kills the child
        token = cache.get(KEY, lambda now: make_token("child", now))
        kept = cache.get(OTHER_KEY, must_not_sign)
        return token.value == "child" and kept.value == valid.value

    pid = fork_running(in_child, alarm_s=10)
    held.release.set()
    assert parent_thread.finish().value == "parent"
    assert_child_succeeded(pid, "child was killed: it hung after fork")
