"""``address=``: dial one place, sign for and verify another (tunnels, port-forwards, CNAMEs)."""

from __future__ import annotations

import ipaddress
import re
import socket

from .drivers import Address
from .errors import ConfigurationError

__all__ = ["parse_address", "resolve_numeric"]

_HOST_NAME = re.compile(
    r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?"
)
_MAX_PORT = 65535
_FORMS = "'10.0.0.5:5432', 'bastion.internal:15432', '[::1]:5432' or 'localhost'"


def _bad(address: object, why: str) -> ConfigurationError:
    shown = repr(address) if len(repr(address)) <= 80 else repr(address)[:77] + "..."
    return ConfigurationError(f"address={shown} {why}; use a form such as {_FORMS}")


def _port(text: str, address: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _bad(address, "has a port that is not a number")
    port = int(text)
    if not 1 <= port <= _MAX_PORT:
        raise _bad(address, f"has a port outside 1..{_MAX_PORT}")
    return port


def _is_ip(text: str, version: int | None = None) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or ip.version == version


def parse_address(address: object, default_port: int) -> Address:
    """Parse ``address=`` into a host (name or bare IP) and a port.

    Accepted: ``host``, ``host:port``, an IPv4 address with or without a port, ``[v6]``,
    ``[v6]:port`` and a bare IPv6 address (no port). Without a port, ``default_port`` (the
    endpoint's port) is used.

    Raises:
        ConfigurationError: Not one of those forms.
    """
    if not isinstance(address, str) or not address:
        raise _bad(address, "must be a non-empty string")
    if address.startswith("["):
        inner, sep, rest = address[1:].partition("]")
        if not sep or not _is_ip(inner, 6) or (rest and not rest.startswith(":")):
            raise _bad(address, "is not a bracketed IPv6 address")
        return Address(inner, _port(rest[1:], address) if rest else default_port)
    if address.count(":") > 1:
        if not _is_ip(address, 6):
            raise _bad(address, "is not an IPv6 address (put brackets around it to add a port)")
        return Address(address, default_port)
    host, sep, port_text = address.partition(":")
    port = _port(port_text, address) if sep else default_port
    if not (_is_ip(host, 4) or (len(host) <= 253 and _HOST_NAME.fullmatch(host))):
        raise _bad(address, "does not start with a host name or IP address")
    return Address(host, port)


def resolve_numeric(address: Address) -> str:
    """The IP address to dial for ``address``: itself if numeric, else its first DNS answer.

    libpq's ``hostaddr`` takes only numeric addresses; ``host`` then stays the name that TLS
    verifies.

    Raises:
        ConfigurationError: The name does not resolve.
    """
    if _is_ip(address.host):
        return address.host
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
    else:
        if infos:
            return str(infos[0][4][0])
        reason = "no addresses"
    raise ConfigurationError(f"address={address.host!r} does not resolve ({reason})")
