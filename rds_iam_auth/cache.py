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

import copy
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timezone

from . import _fork
from .errors import ConnectorClosedError
from .token import Token

__all__ = ["MANDATORY_REFRESH_S", "CacheStats", "TokenCache"]

MANDATORY_REFRESH_S = 60
"""In the last minute of a token's life callers wait for a fresh token instead of using it:
a login takes time, and a token that expires in transit is refused."""

logger = logging.getLogger("rds_iam_auth")

_Sign = Callable[[datetime], Token]


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
        self.refresh_at = self.mandatory_at = self.valid_until = 0.0
        self.flight: _Flight | None = None
        self.warned = False


def _own_copy(error: BaseException) -> BaseException:
    """The leader's exception for one waiting caller: same type and args, its own traceback.

    One object raised in 64 threads would collect all 64 tracebacks. Explicit chaining
    (``__cause__``) is kept; a context the leader's code suppressed (``raise ... from None``,
    often to hide frames that hold secrets) is not.
    """
    try:
        twin = copy.copy(error)  # cls(*args) plus __dict__; no traceback, no chaining
        if twin is error or type(twin) is not type(error) or twin.args != error.args:
            raise TypeError  # an __init__ that rewrites its args (e.g. formats a message)
    except Exception:  # anything an __init__ may raise
        try:
            twin = type(error).__new__(type(error), *error.args)  # no __init__ this time
            twin.args = error.args
            twin.__dict__.update(vars(error))
        except Exception:
            return error  # uncopyable: sharing the object beats raising the wrong type
    twin.__cause__ = error.__cause__
    twin.__suppress_context__ = error.__suppress_context__
    twin.__context__ = None if error.__suppress_context__ else error.__context__
    if isinstance(notes := getattr(error, "__notes__", None), list):
        twin.__notes__ = list(notes)  # type: ignore[attr-defined]  # not shared: add_note appends
    return twin


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

        ``sign`` runs outside the cache lock, at most once at a time per key; callers for other
        keys never wait on it.

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
            raise _own_copy(flight.error)
        assert flight.token is not None
        return flight.token

    def _lead(
        self, key: Hashable, entry: _Entry, flight: _Flight, now: float, sign: _Sign
    ) -> Token:
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
                flight.error = exc
                flight.done.set()
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
            flight.token = previous
            flight.done.set()
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
