"""TokenCache failure policy (DESIGN §3): keep serving a valid token, warn once, then raise."""

from __future__ import annotations

import logging

import pytest

from rds_iam_auth.cache import TokenCache
from rds_iam_auth.testing import FakeClock
from tests.unit.cache_helpers import (
    KEY,
    START,
    WAIT_S,
    CountingSigner,
    HeldSigner,
    Runner,
    SignError,
    failing,
    must_not_sign,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def cache(clock: FakeClock) -> TokenCache:
    return TokenCache(clock=clock, refresh_before_s=300, max_size=16)


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
