"""The Token value object and the Signer protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .endpoint import Endpoint

__all__ = ["Signer", "Token"]


@dataclass(frozen=True, slots=True)
class Token:
    """A signed IAM authentication token and what it was signed for.

    ``value`` is the secret handed to the driver as the password. It is left out of
    ``repr()``/``str()`` so tokens never reach logs or tracebacks by accident.

    Attributes:
        value: The token string (``host:port/?Action=connect&...``).
        host: The host it was signed for, as given.
        port: The port it was signed for.
        user: The database user it was signed for.
        region: The signing region.
        signed_at: When it was signed (aware, UTC).
        expires_at: When the server stops accepting it (aware, UTC): the earlier of
            ``signed_at + expires_in`` and the expiry of the temporary credentials used.
    """

    value: str = field(repr=False)
    host: str
    port: int
    user: str
    region: str
    signed_at: datetime
    expires_at: datetime


@runtime_checkable
class Signer(Protocol):
    """Something that turns an endpoint and user into a Token.

    ``SigV4Signer`` signs with AWS credentials; ``rds_iam_auth.testing.StaticSigner`` hands out
    fixed strings for unit tests.
    """

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        """Return a token for ``user`` at ``endpoint``, signed at ``now`` (aware datetime)."""
        ...
