"""SigV4 signing of RDS IAM authentication tokens, byte-identical to boto3.

``boto3``'s ``client("rds").generate_db_auth_token`` loads the RDS service model and builds a
whole client (~120 ms, ~13 MiB) to run one presign. For the host names RDS actually issues
(letters, digits, ``.``, ``-``, ``_``) we compute the same SigV4 query signature with
``hashlib``/``hmac`` directly: importing ``botocore.auth`` alone costs more than the rest of a
cold start. ``parse_endpoint`` accepts no other host; an ``Endpoint`` built directly with one
goes through botocore's own ``SigV4QueryAuth`` steps on a bare ``AWSRequest``. Both paths take
the signing time as an argument and write nothing to botocore's DEBUG log, from which a token
could be rebuilt; the parity tests hold both to boto3's bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .credentials import CredentialSource, FrozenCredentials
from .endpoint import Endpoint, parse_endpoint, region_from_host, validate_host, validate_port
from .errors import ConfigurationError, TokenGenerationError
from .token import Token

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = ["MAX_EXPIRES_IN_S", "SigV4Signer", "generate_auth_token"]

MAX_EXPIRES_IN_S = 900
"""RDS rejects tokens whose X-Amz-Expires exceeds 15 minutes."""

_SERVICE = "rds-db"
_SCHEME = "https://"
_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_ALGORITHM = "AWS4-HMAC-SHA256"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Hosts whose canonical form is simply their lower-case spelling (urlsplit agrees).
_PLAIN_HOST = re.compile(r"[A-Za-z0-9._-]+\Z")

_auth_class: Any = None


def _quiet_query_auth() -> Any:
    """Build (once) a SigV4QueryAuth subclass that signs at a given time, without logging."""
    global _auth_class  # noqa: PLW0603 - lazily built so importing us does not import botocore
    if _auth_class is None:
        from botocore.auth import SigV4QueryAuth

        class _QuietSigV4QueryAuth(SigV4QueryAuth):
            # add_auth() would take the time itself and log the canonical request, string to
            # sign and signature at DEBUG; these are its steps with neither.
            def sign_at(self, request: Any, timestamp: str) -> None:
                request.context["timestamp"] = timestamp
                self._modify_request_before_signing(request)  # type: ignore[attr-defined]
                canonical_request = self.canonical_request(request)
                string_to_sign = self.string_to_sign(request, canonical_request)
                signature = self.signature(string_to_sign, request)
                self._inject_signature_to_request(request, signature)  # type: ignore[attr-defined]

        _auth_class = _QuietSigV4QueryAuth
    return _auth_class


def validate_expires_in(expires_in_s: object) -> int:
    """Check that ``expires_in_s`` is an int in 1..900."""
    if isinstance(expires_in_s, bool) or not isinstance(expires_in_s, int):
        raise ConfigurationError(f"expires_in_s must be an int, got {type(expires_in_s).__name__}")
    if not 1 <= expires_in_s <= MAX_EXPIRES_IN_S:
        raise ConfigurationError(
            f"expires_in_s must be between 1 and {MAX_EXPIRES_IN_S} seconds, got {expires_in_s}"
        )
    return expires_in_s


def validate_user(user: object) -> str:
    """Check that ``user`` is a database user name that can be signed and passed to a driver.

    Args:
        user: The database user name; any printable text (spaces, ``@``, non-ASCII).

    Returns:
        ``user`` unchanged.

    Raises:
        ConfigurationError: ``user`` is not a string, is empty, contains a control character
            (U+0000..U+001F, U+007F) or is not encodable as UTF-8.
    """
    if not isinstance(user, str) or not user:
        raise ConfigurationError("user must be a non-empty string (the database user name)")
    control = next((c for c in user if c < " " or c == "\x7f"), None)
    if control is not None:
        # libpq stops reading its conninfo at a NUL, dropping the TLS settings after it.
        raise ConfigurationError(
            f"user must not contain control characters; found {control!r} at index "
            f"{user.index(control)}: pass the database user name exactly"
        )
    try:
        user.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (undecodable bytes from the environment) cannot be signed.
        raise ConfigurationError(
            f"user is not valid text: {exc.reason} at index {exc.start}; pass the user name "
            "as a properly decoded str"
        ) from None
    return user


def to_utc(now: object, name: str = "now") -> datetime:
    """Return ``now`` in UTC, refusing naive datetimes (their time zone is a guess)."""
    if not isinstance(now, datetime):
        raise ConfigurationError(f"{name} must be a datetime, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ConfigurationError(
            f"{name} must be timezone-aware, e.g. datetime.now(timezone.utc); got a naive datetime"
        )
    return now.astimezone(timezone.utc)


def sign_token(
    creds: FrozenCredentials, endpoint: Endpoint, user: str, now: datetime, expires_in_s: int
) -> Token:
    """Sign one token with frozen credentials; ``now`` must be aware."""
    signed_at = now.astimezone(timezone.utc).replace(microsecond=0)
    amz_date = signed_at.strftime(_SIGV4_TIMESTAMP)
    failure = ""
    try:
        if _PLAIN_HOST.match(endpoint.host):
            value = _sign_plain(creds, endpoint, user, amz_date, expires_in_s)
        else:
            value = _sign_botocore(creds, endpoint, user, amz_date, expires_in_s)
    except Exception as exc:
        failure = type(exc).__name__
    if failure:
        # Raised outside the except block so the cause is not even kept as __context__: its
        # frames hold the secret key.
        raise TokenGenerationError(
            f"signing a token for {user!r} at {endpoint.host}:{endpoint.port} failed: {failure}"
        )
    expires_at = signed_at + timedelta(seconds=expires_in_s)
    if creds.expiry is not None and creds.expiry < expires_at:
        expires_at = creds.expiry
    return Token(
        value=value,
        host=endpoint.host,
        port=endpoint.port,
        user=user,
        region=endpoint.region,
        signed_at=signed_at,
        expires_at=expires_at,
    )


def _quote(value: str) -> str:
    # botocore.utils.percent_encode: UTF-8, everything but RFC 3986 unreserved escaped.
    return quote(value, safe="-_.~")


def _sign_plain(
    creds: FrozenCredentials, endpoint: Endpoint, user: str, amz_date: str, expires_in_s: int
) -> str:
    """SigV4 presign of ``GET https://host:port/?Action=connect&DBUser=user``, as botocore."""
    date = amz_date[:8]
    scope = f"{date}/{endpoint.region}/{_SERVICE}/aws4_request"
    # Query order of the URL botocore builds: the request's own parameters, then the auth ones.
    params = [
        ("Action", "connect"),
        ("DBUser", _quote(user)),
        ("X-Amz-Algorithm", _ALGORITHM),
        ("X-Amz-Credential", _quote(f"{creds.access_key}/{scope}")),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires_in_s)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if creds.token is not None:
        params.append(("X-Amz-Security-Token", _quote(creds.token)))
    query = "&".join(f"{k}={v}" for k, v in params)
    host = endpoint.host.lower()
    if endpoint.port != 443:  # the default https port is left out of the signed host header
        host = f"{host}:{endpoint.port}"
    canonical_request = (
        f"GET\n/\n{'&'.join(f'{k}={v}' for k, v in sorted(params))}\n"
        f"host:{host}\n\nhost\n{_EMPTY_SHA256}"
    )
    string_to_sign = (
        f"{_ALGORITHM}\n{amz_date}\n{scope}\n"
        f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    )
    key = f"AWS4{creds.secret_key}".encode()
    for part in (date, endpoint.region, _SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{endpoint.host}:{endpoint.port}/?{query}&X-Amz-Signature={signature}"


def _sign_botocore(
    creds: FrozenCredentials, endpoint: Endpoint, user: str, amz_date: str, expires_in_s: int
) -> str:
    """The same token through botocore's SigV4QueryAuth, for hosts _sign_plain does not take."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    request = AWSRequest(
        method="GET",
        url=f"{_SCHEME}{endpoint.host}:{endpoint.port}/",
        data={"Action": "connect", "DBUser": user},
    )
    auth = _quiet_query_auth()(
        ReadOnlyCredentials(creds.access_key, creds.secret_key, creds.token),
        _SERVICE,
        endpoint.region,
        expires=expires_in_s,
    )
    auth.sign_at(request, amz_date)
    url: str = request.url or ""
    return url[len(_SCHEME) :]


class SigV4Signer:
    """Signs tokens with AWS credentials from a :class:`CredentialSource`.

    Args:
        credentials: Where credentials come from; by default botocore's provider chain.
        expires_in_s: Token lifetime written into the token, 1..900 seconds.
    """

    def __init__(
        self, credentials: CredentialSource | None = None, *, expires_in_s: int = MAX_EXPIRES_IN_S
    ) -> None:
        self._source = credentials if credentials is not None else CredentialSource()
        self._expires_in_s = validate_expires_in(expires_in_s)

    def __repr__(self) -> str:
        return f"SigV4Signer({self._source!r}, expires_in_s={self._expires_in_s})"

    @property
    def credentials(self) -> CredentialSource:
        """The credential source this signer uses."""
        return self._source

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        """Sign a token for ``user`` at ``endpoint`` at time ``now`` (aware)."""
        return sign_token(
            self._source.get(), endpoint, validate_user(user), to_utc(now), self._expires_in_s
        )


def generate_auth_token(
    host: str,
    port: int,
    user: str,
    *,
    region: str | None = None,
    session: Any = None,
    credentials: Credentials | None = None,
    profile: str | None = None,
    expires_in_s: int = MAX_EXPIRES_IN_S,
    now: datetime | None = None,
) -> str:
    """Generate an RDS IAM authentication token, the same string boto3 would.

    A drop-in for ``boto3.client("rds").generate_db_auth_token(host, port, user, region)``
    that creates no RDS client. Use it as the password, over TLS. Prefer a
    :class:`~rds_iam_auth.Connector`, which caches tokens and sets up TLS for the driver.

    Args:
        host: Endpoint host name, signed exactly as given.
        port: Database port.
        user: Database user name.
        region: Signing region; default the region in the host name, then the session's /
            profile's region, then ``AWS_REGION``.
        session: A ``boto3.Session`` or ``botocore.session.Session`` to take credentials from.
        credentials: Explicit botocore ``Credentials``.
        profile: A named profile from the shared AWS config files.
        expires_in_s: Token lifetime in seconds, 1..900.
        now: Signing time (timezone-aware); default the current time.

    Raises:
        ConfigurationError: A parameter is invalid (the message names it).
        RegionNotFoundError: No region could be determined.
        CredentialsError: No usable AWS credentials.
    """
    validate_host(host)
    validate_user(user)
    validate_port(port)
    validate_expires_in(expires_in_s)
    signed_at = datetime.now(timezone.utc) if now is None else to_utc(now)
    source = CredentialSource(session=session, credentials=credentials, profile=profile)
    if region is None and region_from_host(host) is None:
        region = source.region()
    endpoint = parse_endpoint(host, port, region)
    return sign_token(source.get(), endpoint, user, signed_at, expires_in_s).value
