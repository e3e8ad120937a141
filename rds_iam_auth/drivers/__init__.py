"""Driver adapters: pure functions from (endpoint, user, token, TLS settings, user kwargs) to the
keyword arguments of one driver's ``connect()``, plus how that driver reports a refused login.

Adapter modules import their driver lazily, inside ``connect`` / ``is_auth_refused``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import ConfigurationError

__all__ = ["DRIVERS", "DriverAdapter", "get_adapter"]

# name → adapter module; later drivers (psycopg2, mysql.connector, asyncpg) add a line here.
DRIVERS: Mapping[str, str] = {
    "psycopg": "rds_iam_auth.drivers.psycopg",
    "pymysql": "rds_iam_auth.drivers.pymysql",
}


class DriverAdapter(Protocol):
    """What every adapter module provides."""

    NAME: str
    DEFAULT_PORT: int

    def build_kwargs(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        tls: Any,
        user_kwargs: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Return the driver's connect keyword arguments."""
        ...

    def connect(self, kwargs: Mapping[str, Any]) -> Any:
        """Import the driver and open a connection."""
        ...

    def is_auth_refused(self, exc: BaseException) -> bool:
        """True when ``exc`` is the server refusing the IAM token at login."""
        ...


def get_adapter(driver: object) -> DriverAdapter:
    """Return the adapter for ``driver`` (e.g. ``"psycopg"``).

    Raises:
        ConfigurationError: Unknown driver name.
    """
    if not isinstance(driver, str) or driver not in DRIVERS:
        known = ", ".join(repr(d) for d in DRIVERS)
        raise ConfigurationError(f"driver must be one of {known}; got {driver!r}")
    module: DriverAdapter = importlib.import_module(DRIVERS[driver])
    return module


def refuse_reserved(driver: str, user_kwargs: Mapping[str, Any], reserved: tuple[str, ...]) -> None:
    """Refuse driver keywords that the connector owns (the password is the IAM token)."""
    for name in reserved:
        if name in user_kwargs:
            raise ConfigurationError(
                f"{driver}: do not pass {name}=; the connector sets it "
                "(the password is the IAM token; host, port and user are arguments of connect)"
            )
