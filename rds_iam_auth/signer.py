"""SigV4 signing of RDS and Aurora DSQL IAM authentication tokens, byte-identical to botocore.

boto3 builds a whole client (~120 ms, ~13 MiB) to run one presign; we run the presign alone
(``_sigv4``), at the time given, without botocore's DEBUG log. Endpoints of kind ``"dsql"`` get
DSQL tokens (service ``dsql``, ``Action=DbConnect`` or ``DbConnectAdmin``, no port, no user),
all others RDS tokens (service ``rds-db``, ``Action=connect&DBUser=...``, with the port)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._dsql import ADMIN_USER, MAX_DSQL_EXPIRES_IN_S, DsqlAction, dsql_action, validate_dsql_action
from ._dsql import SERVICE as _DSQL_SERVICE
from ._sigv4 import presign
from .credentials import CredentialSource, FrozenCredentials
from .endpoint import Endpoint, parse_endpoint, region_from_host, validate_host, validate_port
from .errors import ConfigurationError, TokenGenerationError
from .token import Token

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = ["MAX_EXPIRES_IN_S", "SigV4Signer", "generate_auth_token", "generate_dsql_token"]

MAX_EXPIRES_IN_S = 900
"""RDS rejects tokens whose X-Amz-Expires exceeds 15 minutes (the default for DSQL too)."""

_SERVICE = "rds-db"
_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_DSQL_PORT = 5432  # DSQL tokens name no port; the Endpoint still needs the one to dial


def validate_expires_in(expires_in_s: object, maximum: int = MAX_EXPIRES_IN_S) -> int:
    """Check that ``expires_in_s`` is an int in 1..``maximum`` (900; DSQL: 604800)."""
    if isinstance(expires_in_s, bool) or not isinstance(expires_in_s, int):
        raise ConfigurationError(f"expires_in_s must be an int, got {type(expires_in_s).__name__}")
    if not 1 <= expires_in_s <= maximum:
        limits = " (Aurora DSQL hosts; RDS takes at most 900)" if maximum > MAX_EXPIRES_IN_S else ""
        raise ConfigurationError(
            f"expires_in_s must be between 1 and {maximum} seconds{limits}, got {expires_in_s}"
        )
    return expires_in_s


def check_expires_for(endpoint: Endpoint, expires_in_s: int) -> int:
    """Check a valid ``expires_in_s`` (1..604800) against the limit of ``endpoint``'s kind.

    Raises:
        ConfigurationError: Over 900 seconds for an endpoint that is not Aurora DSQL.
    """
    if expires_in_s > MAX_EXPIRES_IN_S and endpoint.kind != "dsql":
        raise ConfigurationError(
            f"expires_in_s={expires_in_s} is over the {MAX_EXPIRES_IN_S} seconds RDS accepts, "
            f"and {endpoint.host!r} is not an Aurora DSQL host (only those take up to "
            f"{MAX_DSQL_EXPIRES_IN_S}): use expires_in_s <= {MAX_EXPIRES_IN_S} for RDS, e.g. a "
            "separate Connector for DSQL"
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
    creds: FrozenCredentials,
    endpoint: Endpoint,
    user: str,
    now: datetime,
    expires_in_s: int,
    *,
    action: DsqlAction | None = None,
) -> Token:
    """Sign one token with frozen credentials; ``now`` must be aware.

    ``action`` forces the action of a DSQL token (``None``: by user); RDS tokens ignore it.
    """
    signed_at = now.astimezone(timezone.utc).replace(microsecond=0)
    if endpoint.kind == "dsql":
        params: tuple[tuple[str, str], ...] = (("Action", dsql_action(user, action)),)
        service, port = _DSQL_SERVICE, None
    else:
        params = (("Action", "connect"), ("DBUser", user))
        service, port = _SERVICE, endpoint.port
    failure = ""
    try:
        value = presign(
            creds,
            host=endpoint.host,
            port=port,
            params=params,
            service=service,
            region=endpoint.region,
            amz_date=signed_at.strftime(_SIGV4_TIMESTAMP),
            expires_in_s=expires_in_s,
        )
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


class SigV4Signer:
    """Signs RDS and Aurora DSQL tokens with AWS credentials from a :class:`CredentialSource`.

    Args:
        credentials: Where credentials come from; by default botocore's provider chain.
        expires_in_s: Token lifetime written into the token: 1..900 seconds for RDS, up to
            604800 for Aurora DSQL endpoints (a larger value fails when signing for RDS).
        dsql_action: Sign every DSQL token with this action (``"DbConnect"`` or
            ``"DbConnectAdmin"``); default by user: ``admin`` → ``DbConnectAdmin``, any other
            role ``DbConnect``.
    """

    def __init__(
        self,
        credentials: CredentialSource | None = None,
        *,
        expires_in_s: int = MAX_EXPIRES_IN_S,
        dsql_action: DsqlAction | None = None,
    ) -> None:
        self._source = credentials if credentials is not None else CredentialSource()
        self._expires_in_s = validate_expires_in(expires_in_s, MAX_DSQL_EXPIRES_IN_S)
        self._dsql_action = None if dsql_action is None else validate_dsql_action(dsql_action)

    def __repr__(self) -> str:
        action = "" if self._dsql_action is None else f", dsql_action={self._dsql_action!r}"
        return f"SigV4Signer({self._source!r}, expires_in_s={self._expires_in_s}{action})"

    @property
    def credentials(self) -> CredentialSource:
        """The credential source this signer uses."""
        return self._source

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        """Sign a token for ``user`` at ``endpoint`` at time ``now`` (aware)."""
        check_expires_for(endpoint, self._expires_in_s)
        return sign_token(
            self._source.get(),
            endpoint,
            validate_user(user),
            to_utc(now),
            self._expires_in_s,
            action=self._dsql_action,
        )


def _endpoint(host: str, port: int, region: str | None, source: CredentialSource) -> Endpoint:
    if region is None and region_from_host(host) is None:
        region = source.region()
    return parse_endpoint(host, port, region)


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
    """Generate an IAM authentication token, the same string boto3 would.

    A drop-in for ``boto3.client("rds").generate_db_auth_token(host, port, user, region)``
    that creates no client. For an Aurora DSQL host it returns the DSQL token for ``user``
    instead (see :func:`generate_dsql_token`), as a Connector would. Use it as the password,
    over TLS. Prefer a :class:`~rds_iam_auth.Connector`, which caches tokens and sets up TLS.

    Args:
        host: Endpoint host name, signed exactly as given.
        port: Database port.
        user: Database user name.
        region: Signing region; default the region in the host name, then the session's /
            profile's region, then ``AWS_REGION``.
        session: A ``boto3.Session`` or ``botocore.session.Session`` to take credentials from.
        credentials: Explicit botocore ``Credentials``.
        profile: A named profile from the shared AWS config files.
        expires_in_s: Token lifetime in seconds, 1..900 (Aurora DSQL hosts: 1..604800).
        now: Signing time (timezone-aware); default the current time.

    Raises:
        ConfigurationError: A parameter is invalid (the message names it).
        RegionNotFoundError: No region could be determined.
        CredentialsError: No usable AWS credentials.
    """
    validate_host(host)
    validate_user(user)
    validate_port(port)
    validate_expires_in(expires_in_s, MAX_DSQL_EXPIRES_IN_S)
    signed_at = datetime.now(timezone.utc) if now is None else to_utc(now)
    source = CredentialSource(session=session, credentials=credentials, profile=profile)
    endpoint = _endpoint(host, port, region, source)
    check_expires_for(endpoint, expires_in_s)
    return sign_token(source.get(), endpoint, user, signed_at, expires_in_s).value


def generate_dsql_token(
    host: str,
    *,
    admin: bool = False,
    region: str | None = None,
    session: Any = None,
    credentials: Credentials | None = None,
    profile: str | None = None,
    expires_in_s: int = MAX_EXPIRES_IN_S,
    now: datetime | None = None,
) -> str:
    """Generate an Aurora DSQL authentication token, the same string botocore would.

    Equal to ``boto3.client("dsql").generate_db_connect_auth_token(host, region, expires_in_s)``
    (``admin=True``: ``generate_db_connect_admin_auth_token``) at the same instant, without
    building a client. ``region``, ``session``, ``credentials``, ``profile`` and ``now`` are as
    for :func:`generate_auth_token`.

    Args:
        host: The cluster endpoint (``<cluster-id>.dsql.<region>.on.aws``, see
            :func:`~rds_iam_auth.dsql_host`), or any host name with ``region=``.
        admin: Sign ``DbConnectAdmin``, for the ``admin`` role; default ``DbConnect``, for
            every other role.
        expires_in_s: Token lifetime in seconds, 1..604800 (default 900).

    Raises:
        ConfigurationError: A parameter is invalid (the message names it).
        RegionNotFoundError: No region could be determined.
        CredentialsError: No usable AWS credentials.
    """
    validate_host(host)
    if not isinstance(admin, bool):
        raise ConfigurationError(f"admin must be True or False, got {type(admin).__name__}")
    validate_expires_in(expires_in_s, MAX_DSQL_EXPIRES_IN_S)
    signed_at = datetime.now(timezone.utc) if now is None else to_utc(now)
    source = CredentialSource(session=session, credentials=credentials, profile=profile)
    parsed = _endpoint(host, _DSQL_PORT, region, source)
    # botocore signs whatever host it is given as DSQL: a CNAME or an IP with region= too.
    endpoint = Endpoint(parsed.host, parsed.port, parsed.region, "dsql")
    action: DsqlAction = "DbConnectAdmin" if admin else "DbConnect"
    user = ADMIN_USER if admin else "(any role)"
    return sign_token(source.get(), endpoint, user, signed_at, expires_in_s, action=action).value
