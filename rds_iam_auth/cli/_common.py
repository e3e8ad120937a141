"""What the commands share: the region chain with where each value came from, the
credential source, one signed token and the CA file.

Imported by ``token``, whose start-up time is measured: nothing here imports argparse,
botocore, the TLS modules or a driver (those are imported inside the functions that need them).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, RegionNotFoundError

if TYPE_CHECKING:
    import argparse

    from ..credentials import CredentialSource
    from ..endpoint import Endpoint
    from ..token import Token
    from ._output import Context

__all__ = ["ENGINE_PORTS", "Target", "ca_file", "now", "resolve"]

ENGINE_PORTS = {"postgres": 5432, "mysql": 3306}


def now(ctx: Context) -> datetime:
    """The current time from the command's clock (aware UTC)."""
    return datetime.fromtimestamp(ctx.clock(), timezone.utc)


class Target:
    """A validated endpoint, the user, where its region came from and the credentials."""

    __slots__ = ("endpoint", "engine", "region_source", "source", "user")

    def __init__(
        self,
        endpoint: Endpoint,
        user: str,
        engine: str,
        region_source: str,
        source: CredentialSource,
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self.engine = engine
        self.region_source = region_source
        self.source = source

    def sign(
        self, ctx: Context, *, expires_in_s: int = 900, dsql_action: str | None = None
    ) -> Token:
        """Sign one token at the command's current time.

        Raises:
            ConfigurationError: ``expires_in_s`` is out of range for the endpoint.
            CredentialsError: No usable AWS credentials.
        """
        from ..signer import SigV4Signer

        signer = SigV4Signer(self.source, expires_in_s=expires_in_s, dsql_action=dsql_action)  # type: ignore[arg-type]
        return signer.sign(self.endpoint, self.user, now=now(ctx))


def _engine(args: argparse.Namespace) -> str:
    chosen: str | None = getattr(args, "engine", None)
    if chosen:
        return chosen
    return "mysql" if args.port == ENGINE_PORTS["mysql"] else "postgres"


def _region_origin(region: str) -> str:
    env = os.environ
    if env.get("AWS_DEFAULT_REGION") == region:
        return "AWS_DEFAULT_REGION"
    if env.get("AWS_REGION") == region:
        return "AWS_REGION or the AWS profile"
    return "the AWS profile"


def resolve(
    args: argparse.Namespace, ctx: Context, *, engine: str | None = None, user: str | None = None
) -> Target:
    """Validate the target flags and pick the region (``--region``, the host name, the
    profile / environment), warning when ``--region`` contradicts the host name.

    Raises:
        ConfigurationError: A flag is invalid, or no region can be found.
    """
    from ..credentials import CredentialSource
    from ..endpoint import parse_endpoint, region_from_host, validate_host, validate_region
    from ..signer import validate_user

    chosen = engine or _engine(args)
    host = validate_host(args.hostname)
    user = validate_user(user if user is not None else args.username)
    port = args.port if args.port is not None else ENGINE_PORTS[chosen]
    source = CredentialSource(profile=args.profile)
    host_region = region_from_host(host)
    if args.region is not None:
        region, origin = validate_region(args.region), "--region"
        if host_region is not None and host_region != region:
            ctx.warn(
                f"--region {region} differs from the region {host_region} in the host name: "
                f"the token is signed for {region}, which RDS refuses unless the database is there"
            )
    elif host_region is not None:
        region, origin = host_region, "the host name"
    else:
        found = source.region()
        if found is None:
            raise RegionNotFoundError(
                f"cannot infer the AWS region from host {host!r}: it is not an RDS host name "
                "(an IP address, localhost or a custom DNS name). Pass --region (the region "
                "of the database), or set AWS_REGION or the profile's region"
            )
        region, origin = validate_region(found), _region_origin(found)
    return Target(parse_endpoint(host, port, region), user, chosen, origin, source)


def ca_file(ca: str | None, endpoint: Endpoint) -> str:
    """The CA file that verifies ``endpoint`` (``--ca``, else the library's resolution order).

    Raises:
        CaBundleError: The file is missing or unreadable, or no bundle is known.
        ConfigurationError: ``--ca`` is empty.
    """
    from ..tls import ca_bundle_path, validate_ca

    if ca == "":
        raise ConfigurationError("--ca must be a path, 'certifi' or 'system'")
    return ca_bundle_path(validate_ca(ca), endpoint)
