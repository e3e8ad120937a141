"""TokenCache: refresh windows, single-flight signing, failure policy, bounds, fork reset.

Time comes only from an injected FakeClock; threads are coordinated with Events and Barriers,
never with sleeps (helpers in cache_helpers.py).
"""

from __future__ import annotations

import logging
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
    SignError,
    failing,
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


# --- failure policy (DESIGN §3) --------------------------------------------------------------


def test_cold_failure_raises(cache: TokenCache) -> None:
    with pytest.raises(SignError, match="boom"):
        cache.get(KEY, failing(SignError("boom")))
    assert cache.stats.signings == 0
    # The next call tries again.
    assert cache.get(KEY, CountingSigner()).value == "t1"


def test_cold_failure_is_raised_to_waiting_followers_too(cache: TokenCache) -> None:
    held = HeldSigner()
    held.error = SignError("boom")
    leader = Runner(cache, KEY, held)
    leader.start()
    assert held.started.wait(WAIT_S)
    follower = Runner(cache, KEY, must_not_sign)
    follower.start()
    follower.join(0.2)
    assert follower.is_alive()
    held.release.set()
    with pytest.raises(SignError):
        leader.finish()
    with pytest.raises(SignError):
        follower.finish()
    assert held.calls == 1


def test_advisory_refresh_failure_keeps_old_token_and_warns_once(
    cache: TokenCache, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    old = cache.get(KEY, CountingSigner())
    clock.advance(650)
    caplog.set_level(logging.WARNING, logger="rds_iam_auth")
    assert cache.get(KEY, failing(SignError("throttled"))) is old
    clock.advance(10)
    assert cache.get(KEY, failing(SignError("throttled"))) is old  # retried, still failing
    warnings_ = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_) == 1
    message = warnings_[0].getMessage()
    assert "SignError" in message
    assert old.value not in message
    assert cache.stats.signings == 1


def test_mandatory_refresh_failure_serves_still_valid_token(
    cache: TokenCache, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # DESIGN §3: "If refreshing fails while the cached token is still valid, keep serving it
    # (one WARNING) until it expires, then raise" - this includes the last minute.
    old = cache.get(KEY, CountingSigner())
    clock.advance(900 - 30)
    caplog.set_level(logging.WARNING, logger="rds_iam_auth")
    assert cache.get(KEY, failing(SignError("down"))) is old
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_mandatory_refresh_failure_reaches_waiting_followers_as_old_token(
    cache: TokenCache, clock: FakeClock
) -> None:
    old = cache.get(KEY, CountingSigner())
    clock.advance(900 - 30)
    held = HeldSigner()
    held.error = SignError("down")
    leader = Runner(cache, KEY, held)
    leader.start()
    assert held.started.wait(WAIT_S)
    follower = Runner(cache, KEY, must_not_sign)
    follower.start()
    held.release.set()
    assert leader.finish() is old
    assert follower.finish() is old


def test_refresh_failure_after_expiry_raises(cache: TokenCache, clock: FakeClock) -> None:
    cache.get(KEY, CountingSigner())
    clock.advance(650)
    cache.get(KEY, failing(SignError("down")))  # served the old one
    clock.advance(250)  # now exactly expires_at: no longer valid
    with pytest.raises(SignError, match="down"):
        cache.get(KEY, failing(SignError("down")))


def test_successful_refresh_after_failure_warns_again_next_time(
    cache: TokenCache, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sign = CountingSigner()
    cache.get(KEY, sign)
    caplog.set_level(logging.WARNING, logger="rds_iam_auth")
    clock.advance(650)
    cache.get(KEY, failing(SignError("x")))
    assert cache.get(KEY, sign).value == "t2"  # recovered
    clock.advance(650)
    cache.get(KEY, failing(SignError("x")))
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


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
