"""TokenCache: callers waiting on a failed signing each raise an exception object of their own.

Fixed bug: 64 callers waiting on one failed signing all raised the leader's exception object,
and every raise appended its frames to that one shared ``__traceback__`` (195 frames instead
of a handful), so each error report showed the other threads' stacks too.
"""

from __future__ import annotations

import pytest

from rds_iam_auth import CredentialsError
from rds_iam_auth.cache import TokenCache
from rds_iam_auth.testing import FakeClock
from tests.unit.cache_helpers import (
    KEY,
    START,
    CountingSigner,
    HeldSigner,
    Runner,
    SignError,
    start_followers,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def cache() -> TokenCache:
    return TokenCache(clock=FakeClock(START))


def fail_with_followers(cache: TokenCache, error: BaseException, count: int) -> list[Runner]:
    """The leader's Runner first, then the followers'; each one ended with an exception."""
    held = HeldSigner()
    held.error = error
    leader, followers = start_followers(cache, KEY, held, count)
    held.release.set()
    runners = [leader, *followers]
    for runner in runners:
        runner.finish_with_error()
    assert held.calls == 1
    return runners


def errors_of(runners: list[Runner]) -> list[BaseException]:
    return [r.finish_with_error() for r in runners]


def test_64_waiters_each_raise_their_own_exception_with_their_own_traceback(
    cache: TokenCache,
) -> None:
    runners = fail_with_followers(cache, SignError("boom"), 63)
    errors = errors_of(runners)
    assert len({id(e) for e in errors}) == 64, "two callers raised the same exception object"
    for error in errors[1:]:
        assert type(error) is SignError
        assert error.args == ("boom",)
        assert str(error) == "boom"
    # Where it was caught, each traceback held that caller's own frames only: Runner.run,
    # TokenCache.get, Flight.wait and Flight.result for a follower; Runner.run, get, _lead
    # and the signer for the leader (the shared object had 195).
    assert runners[0].frames == 4
    assert [r.frames for r in runners[1:]] == [4] * 63
    # The cache is not poisoned: the next caller signs again.
    assert cache.get(KEY, CountingSigner()).value == "t1"


class Formatted(Exception):
    """An __init__ that builds its message: calling it again with its args would change it."""

    def __init__(self, host: str) -> None:
        super().__init__(f"cannot sign for {host}")
        self.host = host


class KeywordOnly(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


@pytest.mark.parametrize(
    "error",
    [
        Formatted("db.example.com"),
        KeywordOnly("throttled", code=429),
        CredentialsError("the AWS credentials have expired"),
        OSError(111, "Connection refused"),
        KeyboardInterrupt(),
    ],
    ids=["formatted-message", "keyword-only-init", "ours", "oserror", "base-exception"],
)
def test_followers_get_the_same_type_args_message_and_attributes(
    cache: TokenCache, error: BaseException
) -> None:
    leader_error, *followers = errors_of(fail_with_followers(cache, error, 3))
    assert leader_error is error
    for copy in followers:
        assert copy is not error
        assert type(copy) is type(error)
        assert copy.args == error.args
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)
    if isinstance(error, OSError):
        assert all(isinstance(c, OSError) and c.errno == 111 for c in followers)


def add_note(exc: BaseException, note: str) -> None:
    """BaseException.add_note, or on Python 3.10 the ``__notes__`` list it would fill."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]


def test_followers_do_not_carry_a_suppressed_context_or_share_notes(cache: TokenCache) -> None:
    try:
        raise ValueError(f"botocore said {SECRET}")  # what a signer hides with `from None`
    except ValueError:
        try:
            raise CredentialsError("could not refresh AWS credentials") from None
        except CredentialsError as hidden:
            error = hidden
    add_note(error, "signed for db.example.com:5432")
    assert error.__suppress_context__  # the original keeps its hidden context
    assert error.__context__ is not None
    _, *followers = errors_of(fail_with_followers(cache, error, 2))
    for copy in followers:
        assert copy.__context__ is None
        assert copy.__cause__ is None
        assert copy.__suppress_context__
        assert copy.__notes__ == ["signed for db.example.com:5432"]
        assert SECRET not in repr(copy) + str(copy) + "".join(copy.__notes__)
    add_note(followers[0], "only mine")
    assert followers[1].__notes__ == ["signed for db.example.com:5432"]
    assert error.__notes__ == ["signed for db.example.com:5432"]


def test_followers_keep_an_explicit_cause(cache: TokenCache) -> None:
    cause = LookupError("no such profile")
    error = SignError("boom")
    error.__cause__ = cause  # raise SignError("boom") from cause
    _, *followers = errors_of(fail_with_followers(cache, error, 2))
    assert all(f.__cause__ is cause and f.__suppress_context__ for f in followers)
