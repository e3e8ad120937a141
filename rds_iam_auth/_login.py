"""The one login flow: token → driver kwargs → connect → refused? → invalidate once → retry
once → notes on the driver's exception.

No frame of this module holds the token as a plain string while the driver runs: the kwargs
are a :class:`~rds_iam_auth.drivers.ConnectKwargs` (redacted ``repr``) and tokens are
:class:`~rds_iam_auth.Token` objects (redacted ``repr``), so an error tracker that renders the
locals of a failed login's traceback shows no secret from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .cache import TokenCache
    from .drivers import Address, ConnectKwargs, DriverAdapter
    from .endpoint import Endpoint
    from .tls import TlsSettings
    from .token import Signer, Token

__all__ = ["Key", "Target", "build", "login"]


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


def _attempt(target: Target, kwargs: ConnectKwargs) -> Any:
    failed = False
    try:
        return target.adapter.connect(kwargs)
    except UnicodeEncodeError:
        # The driver could not encode something, and the error's .object may be the token:
        # replaced outside the except block, so it is not even kept as __context__.
        failed = True
    if failed:
        raise ConfigurationError(
            f"{target.adapter.NAME} cannot encode the host, user or a keyword value; use ASCII "
            "(punycode xn-- for host names)"
        )
    raise AssertionError("unreachable")  # pragma: no cover


def login(
    cache: TokenCache,
    target: Target,
    driver_kwargs: Mapping[str, Any],
    on_retry: Callable[[], None],
) -> Any:
    """Log in; a refused token is dropped (if still cached) and the login retried once."""
    token = cache.get(target.key.key, target.key.sign)
    try:
        return _attempt(target, build(target, token, driver_kwargs))
    except Exception as exc:
        if not target.adapter.is_auth_refused(exc):
            _note_tls_failure(exc, target)
            raise
    # Outside the except block, so a second refusal is not chained to the first. Only this
    # token is dropped: if a concurrent retry already replaced it, that one is reused.
    cache.invalidate(target.key.key, token)
    on_retry()
    fresh = cache.get(target.key.key, target.key.sign)
    try:
        return _attempt(target, build(target, fresh, driver_kwargs))
    except Exception as exc:
        if target.adapter.is_auth_refused(exc):
            for note in refusal_notes(target, fresh, retried=fresh is not token):
                _add_note(exc, note)
        else:
            _note_tls_failure(exc, target)
        raise


def _note_tls_failure(exc: BaseException, target: Target) -> None:
    # The drivers say only "certificate verify failed": name the issuer and the way out.
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


_KEY_ID = re.compile(r"[?&]X-Amz-Credential=([A-Z0-9]{16,128})%2F")


def key_id(token: Token) -> str | None:
    """The access key id a token was signed with (not a secret), if it is a SigV4 token."""
    match = _KEY_ID.search(token.value)
    return match.group(1) if match else None


def refusal_notes(target: Target, token: Token, *, retried: bool) -> list[str]:
    """What was signed and the likely causes of a refusal, most likely first; never the token."""
    key = target.key
    endpoint = key.endpoint
    engine = "PostgreSQL" if target.adapter.DEFAULT_PORT == 5432 else "MySQL"
    expires = token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    dialled = f", dialled {target.address.host}:{target.address.port}" if target.address else ""
    twice = " twice (the second freshly signed)" if retried else ""
    signed = (
        f"rds_iam_auth: the server refused the IAM token{twice}. Signed for host "
        f"{endpoint.host!r} port {endpoint.port}{dialled}, user {key.user!r}, region "
        f"{endpoint.region} (from {key.region_source}), key {key_id(token) or '(not SigV4)'}, "
        f"expires {expires}."
    )
    causes: list[str] = []
    if key.region_source != "the host name":
        causes.append(
            f"the region: {endpoint.region} came from {key.region_source}; it must be the "
            "region of the database"
        )
    if endpoint.kind == "custom":
        causes.append(
            f"the host name: the token is valid only for the endpoint name RDS knows, not "
            f"{endpoint.host!r} (an IP, CNAME or tunnel): pass the RDS endpoint as host and "
            "dial the other name with address="
        )
    if engine == "PostgreSQL":
        causes.append(f'the database user: run GRANT rds_iam TO "{key.user}";')
    else:
        causes.append(
            f"the database user: CREATE USER '{key.user}' IDENTIFIED WITH "
            "AWSAuthenticationPlugin AS 'RDS' (Aurora/RDS MySQL) and REQUIRE SSL"
        )
    causes.append(
        "expired or revoked temporary credentials (an ended SSO session, a rotated role): "
        "sign in again or let the credentials refresh"
    )
    causes.append(
        f"the IAM policy: the caller needs rds-db:connect on arn:aws:rds-db:{endpoint.region}:"
        f"<account>:dbuser:<DbiResourceId or cluster resource id>/{key.user} (the resource id, "
        "not the instance name)"
    )
    return [signed, "Likely causes, most likely first:"] + [
        f"  {n}. {cause}" for n, cause in enumerate(causes, 1)
    ]
