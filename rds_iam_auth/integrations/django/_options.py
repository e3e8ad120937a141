"""What the PostgreSQL and MySQL backends share: which ``OPTIONS`` are ours, and the Connector.

The rule for ``DATABASES[alias]["OPTIONS"]``: the six keys in :data:`OURS` belong to
rds_iam_auth and are removed before anything reaches Django's connection code or the driver.
Every other key is Django's (``pool``, ``isolation_level``, ``assume_role``, ...) or the
driver's, and driver keywords go through the Connector's keyword allowlist, which refuses
anything unknown by name. Misspellings of ours, and the option names of other IAM backends
(``use_iam_auth``, ``region_name``, ...), are refused here with the name to use instead, so
they neither vanish silently nor reach the driver.

One Connector serves every alias, thread and connection with the same settings (Django builds
a ``DatabaseWrapper`` per thread and alias), so its token cache is shared and a busy process
signs once per token lifetime, not once per connection.
"""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...connector import Connector
from ...errors import ConfigurationError

__all__ = ["OURS", "Target", "parse"]

OURS = ("address", "ca", "connector", "profile", "region", "tls")
"""The OPTIONS keys that configure rds_iam_auth itself."""

_ON_CONNECTOR = ("ca", "profile", "region", "tls")
# Django's own OPTIONS keys, named only in did-you-mean hints (Django removes them itself).
_DJANGO = ("assume_role", "isolation_level", "pool", "server_side_binding")
_SAME = "remove it: this ENGINE always logs in with an IAM token"
# Keys of other IAM backends and of our SQLAlchemy URL plugin that people carry over.
_OTHER_SPELLINGS: Mapping[str, str] = {
    "use_iam_auth": _SAME,
    "user_iam_auth": _SAME,
    "iam_auth": _SAME,
    "region_name": "use 'region'",
    "aws_region": "use 'region'",
    "aws_profile": "use 'profile'",
    "profile_name": "use 'profile'",
    "ca_bundle": "use 'ca'",
    "ca_path": "use 'ca'",
    "cafile": "use 'ca'",
    "resolve_cname_enabled": (
        "put the RDS endpoint itself in HOST (the token is signed for it and TLS verifies it); "
        "to dial a CNAME, tunnel or proxy instead, name it in OPTIONS['address']"
    ),
}
# Set them in the DATABASES entry itself, where Django and dbshell read them.
_SETTINGS_KEYS: Mapping[str, str] = {
    "host": "HOST",
    "port": "PORT",
    "user": "USER",
}


@dataclass(frozen=True)
class Target:
    """One DATABASES entry, resolved: the shared Connector and what to log in to."""

    connector: Connector
    driver: str
    host: str
    port: int | None
    user: str
    address: str | None

    def driver_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Django's connection parameters without ours and without the target."""
        return {k: v for k, v in params.items() if k not in OURS and k not in _TARGET_PARAMS}

    def connect_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's connect keywords for ``params``, a current token included."""
        return self.connector.connect_kwargs(
            self.host,
            self.user,
            driver=self.driver,
            port=self.port,
            address=self.address,
            **self.driver_kwargs(params),
        )

    def connect(self, params: Mapping[str, Any]) -> Any:
        """Open a connection through the Connector (a refused token is retried once)."""
        return self.connector.connect(
            self.host,
            self.user,
            driver=self.driver,
            port=self.port,
            address=self.address,
            **self.driver_kwargs(params),
        )


# What Django's get_connection_params() puts in from HOST / PORT / USER (and NAME for mysql
# stays: it is the driver's "database").
_TARGET_PARAMS = frozenset({"host", "port", "user"})


def parse(
    settings_dict: Mapping[str, Any], *, driver: str, alias: str | None, mysql: bool = False
) -> Target:
    """Check one DATABASES entry and return its :class:`Target`.

    Raises:
        ConfigurationError: A missing HOST or USER, a PASSWORD, an unknown or misspelled
            option of ours, or a Connector setting next to ``connector``.
    """
    where = f"DATABASES[{alias!r}]" if alias else "DATABASES"
    options = settings_dict.get("OPTIONS") or {}
    ours = {key: value for key, value in options.items() if key in OURS}
    for key in options:
        if key not in OURS:
            _refuse_lookalike(where, key)
    host = settings_dict.get("HOST") or ""
    if not isinstance(host, str) or not host or host.startswith("/"):
        raise ConfigurationError(
            f"{where}['HOST'] must be the endpoint's host name (what the token is signed for; "
            "no Unix socket): e.g. 'mydb.abc123.us-east-1.rds.amazonaws.com'"
        )
    user = settings_dict.get("USER") or ""
    if not isinstance(user, str) or not user:
        raise ConfigurationError(f"{where}['USER'] must name the database user to sign in as")
    if settings_dict.get("PASSWORD"):
        raise ConfigurationError(
            f"{where}['PASSWORD'] must be empty: the password is the IAM token, signed for "
            "each new connection"
        )
    address = ours.get("address")
    if address is not None and mysql:
        raise ConfigurationError(
            f"{where}['OPTIONS']['address'] is not possible with the MySQL backend: mysqlclient "
            "verifies the certificate against the host it dials"
        )
    if address is not None and not isinstance(address, str):
        raise ConfigurationError(f"{where}['OPTIONS']['address'] must be a 'host:port' string")
    return Target(
        connector=_connector(where, ours),
        driver=driver,
        host=host,
        port=_port(where, settings_dict.get("PORT")),
        user=user,
        address=address,
    )


def _refuse_lookalike(where: str, key: object) -> None:
    name = str(key)
    if name in ("password", "passwd"):
        raise ConfigurationError(
            f"{where}['OPTIONS'][{name!r}]: remove it; the password is the IAM token, signed "
            "for each new connection"
        )
    if name in _SETTINGS_KEYS:
        raise ConfigurationError(
            f"{where}['OPTIONS'][{name!r}]: set {where}[{_SETTINGS_KEYS[name]!r}] instead"
        )
    hint = _OTHER_SPELLINGS.get(name.lower())
    if hint is None and name.startswith("rds_iam_") and name[len("rds_iam_") :] in OURS:
        hint = f"in Django OPTIONS the name has no prefix: use {name[len('rds_iam_') :]!r}"
    if hint is None:
        close = difflib.get_close_matches(name.strip().lower(), OURS, n=1, cutoff=0.8)
        if close and name not in _DJANGO:
            hint = f"did you mean {close[0]!r}?"
    if hint is not None:
        raise ConfigurationError(
            f"{where}['OPTIONS'][{name!r}] is not an rds_iam_auth option: {hint}. Ours are "
            f"{', '.join(OURS)}; other keys go to Django and the driver"
        )


def _port(where: str, port: object) -> int | None:
    if port in (None, ""):
        return None  # the driver's default: 5432 / 3306
    if isinstance(port, str) and port.strip().isdigit():
        return int(port)
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    raise ConfigurationError(f"{where}['PORT'] must be a port number, got {port!r}")


_lock = threading.RLock()  # re-entrant: a connector factory may itself touch Django
_connectors: dict[tuple[Any, ...], Connector] = {}


def _connector(where: str, ours: Mapping[str, Any]) -> Connector:
    given = ours.get("connector")
    if given is None:
        for key in _ON_CONNECTOR:
            if ours.get(key) is not None and not isinstance(ours[key], str):
                raise ConfigurationError(f"{where}['OPTIONS'][{key!r}] must be a string")
        ca, profile, region = ours.get("ca"), ours.get("profile"), ours.get("region")
        tls = ours.get("tls") or "verify-full"
        return _shared(
            ("settings", ca, profile, region, tls),
            lambda: Connector(ca=ca, profile=profile, region=region, tls=tls),
        )
    clash = [key for key in _ON_CONNECTOR if key in ours]
    if clash:
        raise ConfigurationError(
            f"{where}['OPTIONS'] names a connector, so {', '.join(map(repr, clash))} belong on "
            "that Connector (Connector(region=..., ca=..., tls=..., profile=...))"
        )
    if isinstance(given, Connector):
        return given
    if not isinstance(given, str) or ":" not in given:
        raise ConfigurationError(
            f"{where}['OPTIONS']['connector'] must be a Connector or an import path "
            "'package.module:name' of one (or of a function that returns one)"
        )
    return _shared(("import", given), lambda: _imported(where, given))


def _shared(key: tuple[Any, ...], build: Callable[[], Connector]) -> Connector:
    with _lock:
        connector = _connectors.get(key)
        if connector is None:
            connector = _connectors[key] = build()
        return connector


def _imported(where: str, path: str) -> Connector:
    module_name, _, attribute = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"{where}['OPTIONS']['connector']: cannot import {path!r} ({type(exc).__name__})"
        ) from exc
    if not isinstance(found, Connector) and callable(found):
        found = found()
    if not isinstance(found, Connector):
        raise ConfigurationError(
            f"{where}['OPTIONS']['connector']: {path!r} is not a Connector (nor returns one)"
        )
    return found
