"""TokenCache: per-key token reuse with refresh windows and single-flight signing.

Timeline of one cached token (``expires_at`` already includes the credentials' expiry)::

    signed ──── fresh ────┤ refresh_at ── advisory ──┤ expires_at - 60 s ── mandatory ──┤ expires_at
                          │ one caller re-signs,     │ every caller waits for the
                          │ the others keep the      │ one signing in flight
                          │ still-valid token        │

If re-signing fails while the cached token is still valid, it keeps being served (one WARNING)
until it expires; after that the failure is raised.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timezone

from .token import Token

__all__ = ["MANDATORY_REFRESH_S", "CacheStats", "TokenCache"]

MANDATORY_REFRESH_S = 60
"""In the last minute of a token's life callers wait for a fresh token instead of using it:
a login takes time, and a token that expires in transit is refused."""

logger = logging.getLogger("rds_iam_auth")


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a cache: signings done, hits served, and refreshes (re-signings)."""

    signings: int = 0
    cache_hits: int = 0
    refreshes: int = 0


class _Flight:
    """One signing in progress; followers wait on ``done``."""

    __slots__ = ("done", "error", "token")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None


class _Entry:
    __slots__ = ("flight", "mandatory_at", "refresh_at", "token", "valid_until", "warned")

    def __init__(self) -> None:
        self.token: Token | None = None
        self.refresh_at = 0.0
        self.mandatory_at = 0.0
        self.valid_until = 0.0
        self.flight: _Flight | None = None
        self.warned = False


_live_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for cache in list(_live_caches):
        cache._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class TokenCache:
    """A bounded, thread-safe cache of tokens keyed by endpoint and user.

    Args:
        clock: Returns the current time in epoch seconds; the only time source used.
        refresh_before_s: Start refreshing this many seconds before ``expires_at``.
        max_size: At most this many keys are kept; the least recently used is dropped.
    """

    def __init__(
        self, *, clock: Callable[[], float], refresh_before_s: float = 300, max_size: int = 1024
    ) -> None:
        self._clock = clock
        self._refresh_before_s = float(refresh_before_s)
        self._max_size = max_size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._signings = 0
        self._hits = 0
        self._refreshes = 0
        # key -> (token, refresh_at) for tokens in their fresh window, read without the lock:
        # a hit is then one dict lookup and one clock call. Written only under the lock, as
        # whole tuples, so a reader never pairs a token with another token's deadline.
        self._fresh: dict[Hashable, tuple[Token, float]] = {}
        # Lock-free hits are counted by itertools.count, whose next() is atomic in CPython.
        self._fresh_hits = itertools.count()
        self._count_fresh_hit = self._fresh_hits.__next__
        _live_caches.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"TokenCache(size={len(self._entries)}, max_size={self._max_size})"

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        # repr() is the one way to read an itertools.count without advancing it.
        fresh_hits = int(repr(self._fresh_hits)[len("count(") : -1])
        with self._lock:
            return CacheStats(self._signings, self._hits + fresh_hits, self._refreshes)

    def invalidate(self, key: Hashable) -> None:
        """Forget the token for ``key`` (e.g. after the server refused it).

        The next caller signs anew even if a refresh of ``key`` is already in flight.
        """
        with self._lock:
            self._fresh.pop(key, None)
            entry = self._entries.pop(key, None)
            if entry is not None:
                # A signing in flight keeps its detached entry and finishes for its own
                # followers; it must not fall back to the refused token if it fails, and callers
                # from now on start a new signing rather than wait for one begun before the
                # refusal (a retry waiting on a stuck refresh would stall the login).
                entry.token = None

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._fresh.clear()
            self._entries.clear()

    def get(self, key: Hashable, sign: Callable[[datetime], Token]) -> Token:
        """Return a valid token for ``key``, calling ``sign(now)`` when one is needed.

        ``sign`` runs outside the cache lock, at most once at a time per key; callers for other
        keys never wait on it.
        """
        now = self._clock()
        fresh = self._fresh.get(key)
        if fresh is not None and now < fresh[1]:
            self._count_fresh_hit()
            try:  # noqa: SIM105 - cheaper than contextlib.suppress on the hot path
                # One C call, atomic under the GIL: keeps the LRU order true without the lock.
                self._entries.move_to_end(key)
            except KeyError:
                pass  # evicted or invalidated just now; the token is still valid
            return fresh[0]
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
                if len(self._entries) > self._max_size:
                    evicted, _ = self._entries.popitem(last=False)
                    self._fresh.pop(evicted, None)
            else:
                self._entries.move_to_end(key)
            token = entry.token
            if token is not None and now < entry.refresh_at:
                self._hits += 1
                return token
            flight = entry.flight
            if flight is not None:
                if token is not None and now < entry.mandatory_at:
                    self._hits += 1
                    return token  # advisory window: someone else is already refreshing
                leader = False
            else:
                flight = entry.flight = _Flight()
                leader = True
        if leader:
            return self._lead(key, entry, flight, now, sign)
        flight.done.wait()
        if flight.error is not None:
            raise flight.error
        assert flight.token is not None
        return flight.token

    def _lead(
        self,
        key: Hashable,
        entry: _Entry,
        flight: _Flight,
        now: float,
        sign: Callable[[datetime], Token],
    ) -> Token:
        previous = entry.token
        try:
            token = sign(datetime.fromtimestamp(now, timezone.utc))
        except BaseException as exc:
            with self._lock:
                entry.flight = None
                # entry.token is no longer previous when invalidate() dropped it mid-flight.
                usable = (
                    previous is not None and entry.token is previous and now < entry.valid_until
                )
                if usable and not entry.warned:
                    entry.warned = True
                    warn = True
                else:
                    warn = False
            if usable:
                assert previous is not None
                if warn:
                    logger.warning(
                        "refreshing the token for %s@%s:%s failed (%s); serving the cached "
                        "token until it expires at %s",
                        previous.user,
                        previous.host,
                        previous.port,
                        type(exc).__name__,
                        previous.expires_at.isoformat(),
                    )
                flight.token = previous
            else:
                flight.error = exc
            flight.done.set()
            if usable:
                assert previous is not None
                return previous
            raise
        valid_until = token.expires_at.timestamp()
        with self._lock:
            entry.token = token
            entry.valid_until = valid_until
            # A lead shorter than the mandatory window would serve a token in its last minute.
            entry.refresh_at = valid_until - max(self._refresh_before_s, MANDATORY_REFRESH_S)
            entry.mandatory_at = valid_until - MANDATORY_REFRESH_S
            entry.flight = None
            entry.warned = False
            if self._entries.get(key) is entry:  # not invalidated or evicted meanwhile
                self._fresh[key] = (token, entry.refresh_at)
            self._signings += 1
            if previous is not None:
                self._refreshes += 1
        flight.token = token
        flight.done.set()
        logger.debug(
            "signed a new token for %s@%s:%s, expires at %s",
            token.user,
            token.host,
            token.port,
            token.expires_at.isoformat(),
        )
        return token

    def _after_fork(self) -> None:
        # The parent's threads do not exist in the child: a lock they held or a flight they
        # led would never be released. Valid tokens stay; they are still good for logins.
        self._lock = threading.Lock()
        for entry in self._entries.values():
            entry.flight = None
