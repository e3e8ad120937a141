"""Signers, threads and hand-offs shared by the TokenCache tests.

Threads are coordinated with Events, Barriers and Semaphores, never with sleeps. Waits carry
a generous timeout so a bug fails a test instead of hanging it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from rds_iam_auth.cache import TokenCache
from rds_iam_auth.token import Token

START = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
WAIT_S = 10.0  # upper bound for cross-thread hand-offs; only reached when something is broken
KEY = ("db.example.com", 5432, "app", "us-east-1")
OTHER_KEY = ("other.example.com", 5432, "app", "us-east-1")


def make_token(value: str, now: datetime, lifetime_s: float = 900) -> Token:
    return Token(
        value=value,
        host="db.example.com",
        port=5432,
        user="app",
        region="us-east-1",
        signed_at=now,
        expires_at=now + timedelta(seconds=lifetime_s),
    )


class CountingSigner:
    """sign(now) -> Token with values t1, t2, ...; records every call."""

    def __init__(self, lifetime_s: float = 900) -> None:
        self.lifetime_s = lifetime_s
        self.calls: list[datetime] = []
        self._lock = threading.Lock()

    def __call__(self, now: datetime) -> Token:
        with self._lock:
            self.calls.append(now)
            n = len(self.calls)
        return make_token(f"t{n}", now, self.lifetime_s)


class HeldSigner:
    """A signer that announces it started and then waits until released."""

    def __init__(self, value: str = "held", lifetime_s: float = 900) -> None:
        self.value = value
        self.lifetime_s = lifetime_s
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.error: BaseException | None = None

    def __call__(self, now: datetime) -> Token:
        self.calls += 1
        self.started.set()
        assert self.release.wait(WAIT_S), "test never released the held signer"
        if self.error is not None:
            raise self.error
        return make_token(self.value, now, self.lifetime_s)


class SignError(Exception):
    pass


def failing(exc: BaseException) -> Callable[[datetime], Token]:
    def sign(now: datetime) -> Token:
        raise exc

    return sign


def must_not_sign(now: datetime) -> Token:
    raise AssertionError("this caller must not sign")


class Runner(threading.Thread):
    """Runs cache.get in a thread and keeps the result or the exception.

    ``frames`` is the length of the exception's traceback where it was caught: the frames of
    this one call (``run`` and ``get``), unless something else appended to it.
    """

    def __init__(self, cache: TokenCache, key: object, sign: Callable[[datetime], Token]) -> None:
        super().__init__(daemon=True)
        self.cache, self.key, self.sign = cache, key, sign
        self.result: Token | None = None
        self.error: BaseException | None = None
        self.frames = 0

    def run(self) -> None:
        try:
            self.result = self.cache.get(self.key, self.sign)
        except BaseException as exc:
            self.frames = len(traceback.extract_tb(exc.__traceback__))
            self.error = exc

    def finish(self) -> Token:
        self.join(WAIT_S)
        assert not self.is_alive(), "cache.get did not return"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def finish_with_error(self) -> BaseException:
        self.join(WAIT_S)
        assert not self.is_alive(), "cache.get did not return"
        assert self.error is not None, "cache.get returned instead of raising"
        return self.error


class _CountingEvent(threading.Event):
    """An Event that releases ``waiting`` once for every thread that starts to wait on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.release()
        return super().wait(timeout)


def start_followers(
    cache: TokenCache, key: object, held: HeldSigner, count: int
) -> tuple[Runner, list[Runner]]:
    """Start a leader held inside ``held`` and ``count`` callers waiting for its signing.

    Returns once every follower is blocked on the leader's flight, so none can arrive late
    and lead a signing of its own. The test then sets ``held.release``.
    """
    leader = Runner(cache, key, held)
    leader.start()
    assert held.started.wait(WAIT_S)
    # The one hook into internals: the leader is parked inside sign(), so its flight is stable.
    flight = cache._entries[key].flight
    assert flight is not None
    event = flight.done = _CountingEvent()
    followers = [Runner(cache, key, must_not_sign) for _ in range(count)]
    for f in followers:
        f.start()
    for _ in followers:
        assert event.waiting.acquire(timeout=WAIT_S), "a follower never waited for the flight"
    return leader, followers
