"""Endpoint parsing: host validation and region inference from RDS and DSQL host names (pure).

A host is one DNS name (ASCII letters, digits, ``-``, ``_`` and ``.``; internationalised names
in their punycode ``xn--`` form) or one IPv4 address. IPv6 literals are not accepted as the
host: the token is signed for, and TLS verifies, the name on the server's certificate, so pass
that name as ``host`` and send the socket to the IPv6 address with ``address=``.
"""

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
    "dsql",
    "custom",
]

# The dnsSuffix of every partition in botocore's partitions.json (aws and aws-us-gov share
# amazonaws.com). Hard-coded because importing botocore here would put it on the import path;
# tests/unit/test_partitions.py fails when a botocore release adds a partition not listed here.
_DNS_SUFFIXES = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
)
_SUFFIX = "(?:{})".format("|".join(re.escape(s) for s in _DNS_SUFFIXES))
# Wide enough for every partition's regionRegex (`us-east-1`, `eusc-de-east-1`, `us-isob-east-1`)
# but only lower-case letters, '-' and digits: the region is written into the signed scope.
_REGION_NAME = r"[a-z]{2,}(?:-[a-z]+)+-\d+"
_REGION = rf"(?P<region>{_REGION_NAME})"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
# <name>.<prefix?><id>: the prefix tells the kind; `<ep>.endpoint.proxy-<id>` is a Proxy endpoint.
_NAME_ID = (
    rf"(?:{_LABEL}\.endpoint\.(?P<proxy_ep>proxy-)|{_LABEL}\."
    r"(?P<prefix>proxy-|cluster-ro-|cluster-custom-|cluster-|shardgrp-)?)[a-z0-9]+"
)
# Used with fullmatch only, so look-alikes (`x.us-east-1.rds.amazonaws.com.evil.com`, or a
# trailing newline that `$` would let through) are custom DNS names, never RDS hosts. Some
# partitions (GovCloud, ISO) put `rds.` before the region; both orders are taken everywhere.
_RDS_HOST_PATTERNS = (
    re.compile(rf"{_NAME_ID}\.{_REGION}\.rds\.{_SUFFIX}"),
    re.compile(rf"{_NAME_ID}\.rds\.{_REGION}\.{_SUFFIX}"),
)
_GLOBAL_HOST = re.compile(rf"{_LABEL}\.global-[a-z0-9]+\.global\.rds\.amazonaws\.com")
# Aurora DSQL clusters: `<id>.dsql.<region>.on.aws`, and `<id>.dsql-<suffix>.<region>.on.aws`
# (the PrivateLink form, e.g. `dsql-fnh4`), as the AWS DSQL connectors match them.
_DSQL_HOST = re.compile(rf"[a-z0-9]+\.dsql(?:[a-z0-9-]*[a-z0-9])?\.{_REGION}\.on\.aws")
_KIND_BY_PREFIX: dict[str | None, EndpointKind] = {
    None: "instance",
    "proxy-": "proxy",
    "cluster-": "cluster",
    "cluster-ro-": "cluster-ro",
    "cluster-custom-": "cluster-custom",
    "shardgrp-": "shard-group",
}
_VALID_REGION = re.compile(_REGION_NAME)
_HOST_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_MAX_PORT = 65535
_SHOWN = 80


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
        match = pattern.fullmatch(name)
        if match:
            if match.group("proxy_ep"):
                return match.group("region"), "proxy-endpoint"
            return match.group("region"), _KIND_BY_PREFIX[match.group("prefix")]
    if _GLOBAL_HOST.fullmatch(name):
        return None, "global"
    match = _DSQL_HOST.fullmatch(name)
    if match:
        return match.group("region"), "dsql"
    return None, "custom"


def region_from_host(host: str) -> str | None:
    """Return the AWS region named in an RDS or Aurora DSQL host name.

    Args:
        host: Any host name; case and one trailing dot are ignored.

    Returns:
        The region, e.g. ``"us-east-1"``, or ``None`` for any host that is neither an RDS
        nor a DSQL host name (IP addresses, ``localhost``, custom DNS names, global database
        endpoints).
    """
    return _classify(host)[0]


def _shown(host: str) -> str:
    return repr(host if len(host) <= _SHOWN else f"{host[: _SHOWN - 3]}...")


def _bad_characters(host: str) -> str:
    """Say what is wrong with a host that has a character outside ``[A-Za-z0-9._-]``.

    The host is not echoed: a connection string or URL passed as the host may carry a password,
    and a token pasted there would end up in the message.
    """
    control = next((c for c in host if c < " " or c == "\x7f"), None)
    if control is not None:
        # A NUL ends libpq's conninfo string: the TLS settings after it would be dropped.
        return (
            f"host must not contain control characters; found {control!r} at index "
            f"{host.index(control)}: pass the bare host name"
        )
    if any(c.isspace() for c in host):
        return "host must not contain whitespace: pass the bare host name"
    if "://" in host or any(c in host for c in "/?@"):
        return (
            "host must be a bare host name such as 'mydb.abc.us-east-1.rds.amazonaws.com', "
            "not a URL: remove the scheme, path, query or credentials"
        )
    if "," in host:
        # libpq reads a comma-separated host as a multi-host list and would send the token to
        # every host in it.
        return (
            "host contains ',': pass one host per connection (a comma-separated list would "
            "send the token to each of them); connect to each host separately"
        )
    if ":" in host:
        if host.startswith("[") or host.count(":") > 1:
            return (
                "host looks like an IPv6 address, which cannot be the host: the token is signed "
                "for, and TLS verifies, the name on the database's certificate. Pass the "
                "database's host name as host and dial the IPv6 address with "
                'address="[::1]:5432"'
            )
        name, _, port = host.partition(":")
        if port.isdigit() and port.isascii() and _HOST_CHARS.fullmatch(name):
            return f"host contains ':'; pass host={name!r}, port={int(port)} separately"
        return "host contains ':'; pass the port separately with port="
    if not host.isascii():
        return (
            "host is not ASCII: pass an internationalised name in its punycode (xn--) form"
            f"{_punycode_hint(host)}"
        )
    bad = next(c for c in host if not _HOST_CHARS.fullmatch(c))
    return (
        f"host contains {bad!r} at index {host.index(bad)}, which is not valid in a host name: "
        "use a DNS name (letters, digits, '-', '_' and '.') or an IPv4 address"
    )


def _punycode_hint(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    return f", e.g. {ascii_host!r}" if _HOST_CHARS.fullmatch(ascii_host) else ""


def validate_host(host: object) -> str:
    """Check that ``host`` is one bare DNS name or IPv4 address.

    Args:
        host: The host the token is signed for.

    Returns:
        ``host`` unchanged.

    Raises:
        ConfigurationError: ``host`` is not a string, is empty, or is not a single DNS name /
            IPv4 address (control characters, URLs, lists, ports, IPv6 literals, non-ASCII
            names, empty or over-long labels).
    """
    if not isinstance(host, str) or not host.strip():
        raise ConfigurationError(f"host must be a non-empty string, got {type(host).__name__}")
    if not _HOST_CHARS.fullmatch(host):
        raise ConfigurationError(_bad_characters(host))
    name = host[:-1] if host.endswith(".") else host  # one trailing dot: fully qualified
    labels = name.split(".")
    if "" in labels:
        raise ConfigurationError(f"host {host!r} has an empty label (a leading dot or '..')")
    if len(name) > 253 or max(map(len, labels)) > 63:
        raise ConfigurationError(
            f"host {_shown(host)} is not a DNS name: at most 253 characters, 63 per label"
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
    """Check that ``region`` is an AWS region name such as ``us-east-1``.

    Args:
        region: A region of any partition (``cn-north-1``, ``us-gov-west-1``,
            ``eusc-de-east-1``, ``us-isob-east-1``, ...).

    Returns:
        ``region`` unchanged.

    Raises:
        ConfigurationError: ``region`` is not a string of that shape.
    """
    if not isinstance(region, str) or not _VALID_REGION.fullmatch(region):
        raise ConfigurationError(
            f"region must be an AWS region name such as 'us-east-1', got {region!r}"
        )
    return region


def parse_endpoint(host: str, port: int | None = None, region: str | None = None) -> Endpoint:
    """Validate an endpoint and determine the region its tokens are signed for.

    Args:
        host: RDS, Aurora, RDS Proxy or Aurora DSQL host name (or any DNS name / IPv4
            address when ``region`` is given). Case and a trailing dot are kept for signing.
            A DSQL host (``<cluster-id>.dsql.<region>.on.aws``) gives ``kind="dsql"``.
        port: The database port (required; 5432 for PostgreSQL and DSQL, 3306 for MySQL);
            DSQL tokens do not name it.
        region: Explicit signing region; wins over the region in the host name.

    Raises:
        ConfigurationError: ``host``, ``port`` or ``region`` is malformed.
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
        else "it is not an RDS or DSQL host name (an IP address, localhost or a CNAME)"
    )
    return (
        f"cannot infer the AWS region from host {host!r}: {why}. Pass region='us-east-1' "
        "(the region of the database), or set it with Connector(region=...), the AWS profile, "
        "AWS_DEFAULT_REGION or AWS_REGION."
    )
