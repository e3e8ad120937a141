"""Endpoint parsing: host validation and region inference from RDS host names (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .errors import ConfigurationError, RegionNotFoundError

__all__ = ["Endpoint", "EndpointKind", "parse_endpoint", "region_from_host"]

EndpointKind = Literal[
    "instance",
    "cluster",
    "cluster-ro",
    "cluster-custom",
    "proxy",
    "proxy-endpoint",
    "shard-group",
    "global",
    "custom",
]

_REGION = r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
# <name>.<prefix?><id>: the prefix tells the kind; `<ep>.endpoint.proxy-<id>` is a Proxy endpoint.
_NAME_ID = (
    rf"(?:{_LABEL}\.endpoint\.(?P<proxy_ep>proxy-)|{_LABEL}\."
    r"(?P<prefix>proxy-|cluster-ro-|cluster-custom-|cluster-|shardgrp-)?)[a-z0-9]+"
)
# Patterns are anchored at both ends so look-alikes (`x.us-east-1.rds.amazonaws.com.evil.com`)
# are treated as custom DNS names, never as RDS hosts.
_RDS_HOST_PATTERNS = (
    re.compile(rf"^{_NAME_ID}\.{_REGION}\.rds\.amazonaws\.com(?:\.cn)?$"),
    # GovCloud and ISO partitions put `rds.` before the region.
    re.compile(rf"^{_NAME_ID}\.rds\.{_REGION}\.(?:amazonaws\.com|c2s\.ic\.gov|sc2s\.sgov\.gov)$"),
)
_GLOBAL_HOST = re.compile(rf"^{_LABEL}\.global-[a-z0-9]+\.global\.rds\.amazonaws\.com$")
_KIND_BY_PREFIX: dict[str | None, EndpointKind] = {
    None: "instance",
    "proxy-": "proxy",
    "cluster-": "cluster",
    "cluster-ro-": "cluster-ro",
    "cluster-custom-": "cluster-custom",
    "shardgrp-": "shard-group",
}
_VALID_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A database endpoint: the host exactly as given, its port, the signing region and kind.

    ``host`` is kept byte for byte as the caller wrote it because the token is signed for it;
    ``key_host`` is the normalised form (lower case, no trailing dot) used for cache keys.
    """

    host: str
    port: int
    region: str
    kind: EndpointKind

    @property
    def key_host(self) -> str:
        """The host lower-cased without a trailing dot."""
        return _normalise(self.host)


def _normalise(host: str) -> str:
    return host.rstrip(".").lower()


def _classify(host: str) -> tuple[str | None, EndpointKind]:
    name = _normalise(host)
    for pattern in _RDS_HOST_PATTERNS:
        match = pattern.match(name)
        if match:
            if match.group("proxy_ep"):
                return match.group("region"), "proxy-endpoint"
            return match.group("region"), _KIND_BY_PREFIX[match.group("prefix")]
    if _GLOBAL_HOST.match(name):
        return None, "global"
    return None, "custom"


def region_from_host(host: str) -> str | None:
    """Return the AWS region named in an RDS host name, or ``None`` for any other host."""
    return _classify(host)[0]


_WHITESPACE = re.compile(r"\s")


def validate_host(host: object) -> str:
    """Check that ``host`` is a bare host name or IP address and return it unchanged."""
    if not isinstance(host, str) or not host.strip():
        raise ConfigurationError(f"host must be a non-empty string, got {type(host).__name__}")
    if _WHITESPACE.search(host):
        raise ConfigurationError("host must not contain whitespace")
    if "://" in host or "/" in host or "?" in host or "@" in host:
        raise ConfigurationError(
            f"host must be a bare host name such as 'mydb.abc.us-east-1.rds.amazonaws.com', "
            f"not a URL: remove the scheme, path or credentials from {host!r}"
        )
    if ":" in host:
        raise ConfigurationError(
            f"host {host!r} contains ':'; pass the port separately with port= "
            "(IPv6 literals are not supported by RDS IAM authentication)"
        )
    name = host[:-1] if host.endswith(".") else host  # one trailing dot: fully qualified
    labels = name.split(".")
    if "" in labels:
        raise ConfigurationError(f"host {host!r} has an empty label (a leading dot or '..')")
    if len(name) > 253 or max(map(len, labels)) > 63:
        shown = host if len(host) <= 80 else f"{host[:77]}..."
        raise ConfigurationError(
            f"host {shown!r} is not a DNS name: at most 253 characters, 63 per label"
        )
    return host


def validate_port(port: object) -> int:
    """Check that ``port`` is an ``int`` in 1..65535 and return it."""
    if isinstance(port, bool) or not isinstance(port, int):
        raise ConfigurationError(f"port must be an int, got {type(port).__name__}")
    if not 1 <= port <= _MAX_PORT:
        raise ConfigurationError(f"port must be between 1 and {_MAX_PORT}, got {port}")
    return port


def validate_region(region: object) -> str:
    """Check that ``region`` looks like an AWS region name such as ``us-east-1``."""
    if not isinstance(region, str) or not _VALID_REGION.match(region):
        raise ConfigurationError(
            f"region must be an AWS region name such as 'us-east-1', got {region!r}"
        )
    return region


def parse_endpoint(host: str, port: int | None = None, region: str | None = None) -> Endpoint:
    """Validate an endpoint and determine the region its tokens are signed for.

    Args:
        host: RDS, Aurora or RDS Proxy host name (or any host name / IP address when
            ``region`` is given). Case and a trailing dot are kept for signing.
        port: The database port (required; 5432 for PostgreSQL, 3306 for MySQL).
        region: Explicit signing region; wins over the region in the host name.

    Raises:
        ConfigurationError: ``host`` or ``port`` is malformed.
        RegionNotFoundError: No ``region`` was given and the host name contains none
            (IP addresses, ``localhost``, custom DNS names and global database endpoints).
    """
    validate_host(host)
    if port is None:
        raise ConfigurationError("port is required: pass port=5432 (PostgreSQL) or 3306 (MySQL)")
    validate_port(port)
    host_region, kind = _classify(host)
    if region is not None:
        return Endpoint(host, port, validate_region(region), kind)
    if host_region is None:
        raise RegionNotFoundError(_no_region_message(host, kind))
    return Endpoint(host, port, host_region, kind)


def _no_region_message(host: str, kind: EndpointKind) -> str:
    why = (
        "global database endpoints span regions"
        if kind == "global"
        else "it is not an RDS host name (an IP address, localhost or a custom DNS name/CNAME)"
    )
    return (
        f"cannot infer the AWS region from host {host!r}: {why}. Pass region='us-east-1' "
        "(the region of the database), or set it with Connector(region=...), the AWS profile, "
        "AWS_DEFAULT_REGION or AWS_REGION."
    )
