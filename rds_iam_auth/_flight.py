"""One signing in flight, awaited by threads and coroutines alike.

The leader (a thread, or a worker thread started for a coroutine) calls :meth:`Flight.finish`;
threads wait on the event, coroutines on a future of their own loop that ``finish`` resolves
with ``call_soon_threadsafe``. No follower ever blocks an event loop.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from .token import Token

__all__ = ["Flight", "own_copy"]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # cancelled meanwhile, or woken twice (see Flight.wait_async)
        future.set_result(None)


class Flight:
    """One signing in progress: its result, once ``done`` is set."""

    __slots__ = ("done", "error", "token", "waiters")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def finish(self, token: Token | None, error: BaseException | None) -> None:
        """Publish the leader's result and wake every follower."""
        self.token = token
        self.error = error
        self.done.set()
        # A coroutine that registers after this loop has run sees done set and does not wait.
        for loop, future in self.waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody left to wake
                loop.call_soon_threadsafe(_wake, future)
        self.waiters = []

    def result(self) -> Token:
        """The token, or the leader's exception as this caller's own copy."""
        if self.error is not None:
            raise own_copy(self.error)
        assert self.token is not None
        return self.token

    def wait(self) -> Token:
        """Block this thread until the leader finishes."""
        self.done.wait()
        return self.result()

    async def wait_async(self) -> Token:
        """Wait without blocking the running loop; cancelling it leaves the flight alone."""
        if not self.done.is_set():
            import asyncio  # here, not at the top: `import rds_iam_auth` stays light

            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self.waiters.append((loop, future))
            # finish() may have run between the check and the append and missed this future.
            if not self.done.is_set():
                await future
        return self.result()


def own_copy(error: BaseException) -> BaseException:
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
