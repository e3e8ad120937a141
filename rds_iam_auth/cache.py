"""TokenCache: per-key token reuse with refresh windows and single-flight signing.

Timeline of one cached token (``expires_at`` already includes the credentials' expiry)::

    signed ──── fresh ────┤ refresh_at ── advisory ──┤ expires_at - 60 s ── mandatory ──┤ expires_at
                          │ one caller re-signs,     │ every caller waits for the
                          │ the others keep the      │ one signing in flight
                          │ still-valid token        │

If re-signing fails while the cached token is still valid, it keeps being served (one WARNING)
until it expires; after that the failure is raised (to each waiting caller as its own copy).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timezone

from . import _fork
from ._flight import Flight
from ._log import logger
from .errors import ConnectorClosedError
from .token import Token

__all__ = ["MANDATORY_REFRESH_S", "CacheStats", "TokenCache"]

MANDATORY_REFRESH_S = 60
"""In the last minute of a token's life callers wait for a fresh token instead of using it:
a login takes time, and a token that expires in transit is refused."""


_Sign = Callable[[datetime], Token]
_NO_FLIGHT = Flight()  # placeholder in _claim's answer when a token is served


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a cache: signings done, hits served, and refreshes (re-signings)."""

    signings: int = 0
    cache_hits: int = 0
    refreshes: int = 0


class _Entry:
    __slots__ = ("flight", "mandatory_at", "refresh_at", "token", "valid_until", "warned")

    def __init__(self) -> None:
        self.token: Token | None = None
        self.refresh_at = self.mandatory_at = self.valid_until = 0.0
        self.flight: Flight | None = None
        self.warned = False


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
        self._closed = False
        # key -> (token, refresh_at) for tokens in their fresh window, read without the lock:
        # a hit is then one dict lookup and one clock call. Written only under the lock, as
        # whole tuples, so a reader never pairs a token with another token's deadline.
        self._fresh: dict[Hashable, tuple[Token, float]] = {}
        # Lock-free hits: next() on an itertools.count is one atomic C call in CPython, the
        # cheapest exact shared counter. Only next() reads it, so stats subtracts its own calls.
        self._count_fresh_hit = itertools.count().__next__
        self._stats_reads = 0
        _fork.register(self, TokenCache._after_fork)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        closed = ", closed" if self._closed else ""
        return f"TokenCache(size={len(self._entries)}, max_size={self._max_size}{closed})"

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        with self._lock:
            # next() returns how often it was called before: by hits, and by earlier stats
            # reads, which all happen under this lock and are counted exactly.
            fresh_hits = self._count_fresh_hit() - self._stats_reads
            self._stats_reads += 1
            return CacheStats(self._signings, self._hits + fresh_hits, self._refreshes)

    def invalidate(self, key: Hashable, token: Token) -> None:
        """Forget ``token`` (from ``get(key, ...)``), e.g. after the server refused it.

        Only if it is still the very object cached for ``key``: of a burst of refused logins,
        the first drops the token and the others keep its replacement (one new signing, not
        one each). Once dropped, the next caller signs anew even if a refresh is in flight.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.token is not token:
                return  # already dropped, replaced, or never cached
            self._fresh.pop(key, None)
            del self._entries[key]
            # A signing in flight keeps its detached entry and finishes for its own followers;
            # it must not fall back to the refused token if it fails, and callers from now on
            # start a new signing rather than wait for one begun before the refusal (a retry
            # waiting on a stuck refresh would stall the login).
            entry.token = None

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._fresh.clear()
            self._entries.clear()

    def close(self) -> None:
        """Forget every token for good: later :meth:`get` calls raise ``ConnectorClosedError``.

        A signing in flight still hands its token to its callers, but does not cache it.
        """
        with self._lock:
            self._closed = True
            self._fresh.clear()
            for entry in self._entries.values():
                entry.token = None  # in-flight refreshes must not serve it after close
            self._entries.clear()

    def get(self, key: Hashable, sign: _Sign) -> Token:
        """Return a valid token for ``key``, calling ``sign(now)`` when one is needed.

        ``sign`` runs outside the cache lock, at most once at a time per key (across threads
        and coroutines); callers for other keys never wait on it.

        Raises:
            ConnectorClosedError: :meth:`close` was called.
            Exception: What ``sign`` raised, if no valid token can be served instead.
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
        token, entry, flight, leader = self._claim(key, now)
        if token is not None:
            return token
        if leader:
            return self._lead(key, entry, flight, now, sign)
        return flight.wait()

    async def get_async(self, key: Hashable, sign: _Sign) -> Token:
        """:meth:`get` for coroutines: a hit returns on the loop; ``sign`` runs in a worker
        thread and waiting callers await it, so nothing here blocks the running loop.

        A signing in flight is shared with threads calling :meth:`get` for the same key.
        Cancelling the caller does not cancel the signing (other callers may wait for it).
        """
        now = self._clock()
        fresh = self._fresh.get(key)
        if fresh is not None and now < fresh[1]:
            self._count_fresh_hit()
            try:  # noqa: SIM105 - as in get()
                self._entries.move_to_end(key)
            except KeyError:
                pass
            return fresh[0]
        token, entry, flight, leader = self._claim(key, now)
        if token is not None:
            return token
        if leader:
            import asyncio  # here, not at the top: `import rds_iam_auth` stays light

            job = asyncio.get_running_loop().run_in_executor(
                None, self._lead, key, entry, flight, now, sign
            )
            # Retrieved here so that a job whose caller was cancelled logs no "exception was
            # never retrieved"; its followers get the error through the flight.
            job.add_done_callback(lambda done: done.cancelled() or done.exception())
            return await asyncio.shield(job)
        return await flight.wait_async()

    def _claim(self, key: Hashable, now: float) -> tuple[Token | None, _Entry, Flight, bool]:
        """Under the lock: a token to serve now, or the flight to lead (True) or wait for."""
        with self._lock:
            if self._closed:
                raise ConnectorClosedError("this Connector is closed; build a new one")
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
                if len(self._entries) > self._max_size:
                    evicted, _ = self._entries.popitem(last=False)
                    self._fresh.pop(evicted, None)
            else:
                self._entries.move_to_end(key)
            token = entry.token
            flight = entry.flight
            if token is not None and now < entry.refresh_at:
                self._hits += 1
                return token, entry, _NO_FLIGHT, False
            if flight is not None:
                if token is not None and now < entry.mandatory_at:
                    self._hits += 1
                    return token, entry, flight, False  # advisory: someone else refreshes
                return None, entry, flight, False
            flight = entry.flight = Flight()
            return None, entry, flight, True

    def _lead(self, key: Hashable, entry: _Entry, flight: Flight, now: float, sign: _Sign) -> Token:
        previous = entry.token
        try:
            token = sign(datetime.fromtimestamp(now, timezone.utc))
        except BaseException as exc:
            with self._lock:
                entry.flight = None
                # entry.token is no longer previous when invalidate() or close() dropped it.
                usable = (
                    previous is not None and entry.token is previous and now < entry.valid_until
                )
                if usable and not entry.warned:
                    entry.warned = True
                    warn = True
                else:
                    warn = False
            if not usable:
                flight.finish(None, exc)
                raise
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
            flight.finish(previous, None)
            return previous
        valid_until = token.expires_at.timestamp()
        with self._lock:
            entry.token = token
            entry.valid_until = valid_until
            # A lead shorter than the mandatory window would serve a token in its last minute.
            entry.refresh_at = valid_until - max(self._refresh_before_s, MANDATORY_REFRESH_S)
            entry.mandatory_at = valid_until - MANDATORY_REFRESH_S
            entry.flight = None
            entry.warned = False
            # Not invalidated, evicted or closed meanwhile (close() empties _entries).
            if self._entries.get(key) is entry:
                self._fresh[key] = (token, entry.refresh_at)
            self._signings += 1
            if previous is not None:
                self._refreshes += 1
        flight.finish(token, None)
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
