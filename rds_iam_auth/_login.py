"""The one login flow: token → driver kwargs → connect → refused? → invalidate once → retry
once → notes on the driver's exception.

:func:`flow` is that flow as a generator that asks for what it needs (a token, a connection
attempt, a TLS note) and never does I/O itself; :func:`login` and :func:`login_async` are the
two shells that answer it, one blocking, one awaiting. So the sync and async paths cannot drift.

No frame of this module holds the token as a plain string while the driver runs: the kwargs
are a :class:`~rds_iam_auth.drivers.ConnectKwargs` (redacted ``repr``) and tokens are
:class:`~rds_iam_auth.Token` objects (redacted ``repr``), so an error tracker that renders the
locals of a failed login's traceback shows no secret from here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ._refusal import refusal_notes
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .cache import TokenCache
    from .drivers import Address, AsyncDriverAdapter, ConnectKwargs, DriverAdapter
    from .endpoint import Endpoint
    from .tls import TlsSettings
    from .token import Signer, Token

__all__ = ["Key", "Target", "build", "flow", "login", "login_async"]


class Key:
    """One validated (endpoint, user): its cache key and how to sign for it."""

    __slots__ = ("endpoint", "key", "region_source", "sign", "user")

    def __init__(self, endpoint: Endpoint, user: str, signer: Signer, region_source: str) -> None:
        self.endpoint = endpoint
        self.user = user
        self.key = (endpoint.key_host, endpoint.port, user, endpoint.region)
        self.region_source = region_source

        def sign(now: datetime) -> Token:
            return signer.sign(endpoint, user, now=now)

        self.sign: Callable[[datetime], Token] = sign


@dataclass(frozen=True, slots=True)
class Target:
    """A Key plus everything a login needs: the driver, the TLS settings, where to dial."""

    key: Key
    adapter: DriverAdapter
    tls: TlsSettings
    address: Address | None


def build(target: Target, token: Token, driver_kwargs: Mapping[str, Any]) -> ConnectKwargs:
    """The driver's connect kwargs for ``target`` with ``token`` as the password."""
    endpoint = target.key.endpoint
    return target.adapter.build_kwargs(
        host=endpoint.host,
        port=endpoint.port,
        user=target.key.user,
        password=token.value,
        tls=target.tls,
        address=target.address,
        user_kwargs=driver_kwargs,
    )


# What the flow asks its shell for.
TOKEN = "token"  # noqa: S105 - a request name, not a secret; -> a Token for the target's key
CONNECT = "connect"  # (with a Token) -> the driver's connection
NOTE_TLS = "note-tls"  # (with the driver's exception) -> None, notes added if TLS failed

_Step = Generator[tuple[str, Any], Any, Any]


def flow(cache: TokenCache, target: Target, on_retry: Callable[[], None]) -> _Step:
    """The login as a generator: yields (request, argument), returns the connection."""
    token = yield TOKEN, None
    try:
        return (yield CONNECT, token)
    except Exception as exc:
        if not target.adapter.is_auth_refused(exc):
            yield NOTE_TLS, exc
            raise
    # Outside the except block, so a second refusal is not chained to the first. Only this
    # token is dropped: if a concurrent retry already replaced it, that one is reused.
    cache.invalidate(target.key.key, token)
    on_retry()
    fresh = yield TOKEN, None
    try:
        return (yield CONNECT, fresh)
    except Exception as exc:
        if target.adapter.is_auth_refused(exc):
            for note in refusal_notes(target, fresh, retried=fresh is not token):
                _add_note(exc, note)
        else:
            yield NOTE_TLS, exc
        raise


def _unencodable(target: Target) -> ConfigurationError:
    return ConfigurationError(
        f"{target.adapter.NAME} cannot encode the host, user or a keyword value; use ASCII "
        "(punycode xn-- for host names)"
    )


def login(
    cache: TokenCache,
    target: Target,
    driver_kwargs: Mapping[str, Any],
    on_retry: Callable[[], None],
) -> Any:
    """Run :func:`flow` blocking: log in; a refused token is dropped and retried once."""
    adapter = target.adapter
    if not adapter.SYNC:
        raise ConfigurationError(
            f"driver={adapter.NAME!r} is asynchronous: use await connect_async(...)"
        )
    key = target.key
    steps = flow(cache, target, on_retry)
    reply: Any = None
    error: Exception | None = None
    while True:
        try:
            request, argument = steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        reply = error = None
        unencodable = False
        try:
            if request is TOKEN:
                reply = cache.get(key.key, key.sign)
            elif request is CONNECT:
                reply = adapter.connect(build(target, argument, driver_kwargs))
            else:
                note_tls_failure(argument, target)
        except UnicodeEncodeError:
            # The driver could not encode something, and the error's .object may be the
            # token: replaced outside the except block, so it is not even kept as __context__.
            unencodable = True
        except Exception as exc:
            error = exc
        if unencodable:
            error = _unencodable(target)


async def login_async(
    cache: TokenCache,
    target: Target,
    driver_kwargs: Mapping[str, Any],
    on_retry: Callable[[], None],
) -> Any:
    """Run :func:`flow` awaiting: the driver's connect is awaited, signing and anything else
    that can block (a host name in ``address=`` to resolve, the TLS-failure probe) runs in a
    worker thread."""
    import asyncio  # here, not at the top: `import rds_iam_auth` stays light

    adapter = cast("AsyncDriverAdapter", target.adapter)
    if not adapter.ASYNC:
        raise ConfigurationError(
            f"driver={adapter.NAME!r} has no asyncio API: use connect() (in a worker thread "
            "from async code), or an async driver: asyncpg, psycopg, aiomysql, asyncmy"
        )
    key = target.key
    resolves = target.address is not None and adapter.RESOLVES_ADDRESS
    steps = flow(cache, target, on_retry)
    reply: Any = None
    error: Exception | None = None
    while True:
        try:
            request, argument = steps.send(reply) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        reply = error = None
        unencodable = False
        try:
            if request is TOKEN:
                reply = await cache.get_async(key.key, key.sign)
            elif request is CONNECT:
                if resolves:
                    kwargs = await asyncio.to_thread(build, target, argument, driver_kwargs)
                else:
                    kwargs = build(target, argument, driver_kwargs)
                reply = await adapter.connect_async(kwargs)
            else:
                await asyncio.to_thread(note_tls_failure, argument, target)
        except UnicodeEncodeError:
            unencodable = True  # as in login(): the error may hold the token
        except Exception as exc:
            error = exc
        if unencodable:
            error = _unencodable(target)


def note_tls_failure(exc: BaseException, target: Target) -> None:
    """The drivers say only "certificate verify failed": name the issuer and the way out."""
    from ._tlsnotes import verification_failure, verification_notes

    reason = verification_failure(exc)
    if reason is not None:
        for note in verification_notes(target, reason):
            _add_note(exc, note)


def _add_note(exc: BaseException, note: str) -> None:
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10: the attribute 3.11's add_note() fills
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
