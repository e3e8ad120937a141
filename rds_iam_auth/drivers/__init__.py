"""Driver adapters: pure functions from (endpoint, user, token, TLS settings, user kwargs) to the
keyword arguments of one driver's ``connect()``, plus how that driver reports a refused login.

Each adapter module declares its keyword policy (an allowlist, see ``_policy.py``), default
port, whether it can dial an ``address=`` other than the host it verifies, and imports its
driver lazily, inside ``load`` / ``connect`` / ``is_auth_refused``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigurationError, DriverNotInstalledError

if TYPE_CHECKING:
    from ..tls import TlsSettings

__all__ = [
    "DRIVERS",
    "Address",
    "AsyncDriverAdapter",
    "ConnectKwargs",
    "DriverAdapter",
    "get_adapter",
    "import_driver",
    "require_version",
]

# name → adapter module. "psycopg" serves both connect() and connect_async().
DRIVERS: Mapping[str, str] = {
    "psycopg": "rds_iam_auth.drivers.psycopg",
    "pymysql": "rds_iam_auth.drivers.pymysql",
    "psycopg2": "rds_iam_auth.drivers.psycopg2",
    "pg8000": "rds_iam_auth.drivers.pg8000",
    "mysql.connector": "rds_iam_auth.drivers.mysql_connector",
    "mysqlclient": "rds_iam_auth.drivers.mysqlclient",
    "asyncpg": "rds_iam_auth.drivers.asyncpg",
    "aiomysql": "rds_iam_auth.drivers.aiomysql",
    "asyncmy": "rds_iam_auth.drivers.asyncmy",
}


@dataclass(frozen=True, slots=True)
class Address:
    """Where the socket goes when it is not the endpoint itself (``address=``).

    ``host`` is a host name or a bare IP address (IPv6 without brackets).
    """

    host: str
    port: int


class ConnectKwargs(dict[str, Any]):
    """The driver's connect keywords; ``repr()`` shows ``password`` as ``'<redacted>'``.

    A plain ``dict`` otherwise. Error trackers render the locals of failed calls, and a
    ``print(kwargs)`` while debugging should not put the token in a log either.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k in _SECRET_KEYS else v) for k, v in self.items()}
        return f"ConnectKwargs({shown!r})"

    __str__ = __repr__


_SECRET_KEYS = frozenset({"password", "passwd", "sslpassword", "ssl_key_password"})


class DriverAdapter(Protocol):
    """What every adapter module provides (``connect`` only where ``SYNC`` is true)."""

    NAME: str
    DEFAULT_PORT: int
    SUPPORTS_ADDRESS: bool
    SYNC: bool  # connect() works: a DB-API driver
    ASYNC: bool  # connect_async() works: an asyncio driver (module is an AsyncDriverAdapter)

    def build_kwargs(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        tls: TlsSettings,
        address: Address | None,
        user_kwargs: Mapping[str, Any],
    ) -> ConnectKwargs:
        """Return the driver's connect keyword arguments."""
        ...

    def load(self) -> ModuleType:
        """Import the driver, or raise DriverNotInstalledError naming the extra."""
        ...

    def connect(self, kwargs: Mapping[str, Any]) -> Any:
        """Import the driver and open a connection."""
        ...

    def is_auth_refused(self, exc: BaseException) -> bool:
        """True when ``exc`` is the server refusing the IAM token at login."""
        ...


class AsyncDriverAdapter(DriverAdapter, Protocol):
    """What an adapter with ``ASYNC`` true adds."""

    # build_kwargs resolves a host name in address= itself (libpq's hostaddr is numeric), so
    # the async shell runs it in a worker thread then.
    RESOLVES_ADDRESS: bool

    async def connect_async(self, kwargs: Mapping[str, Any]) -> Any:
        """Import the driver and open a connection without blocking the loop."""
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


def import_driver(module: str, driver: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` or raise DriverNotInstalledError naming the pip extra.

    Args:
        module: The module to import (``"psycopg"``).
        driver: The ``driver=`` name (``"psycopg"``).
        extra: Our pip extra that installs it (``"psycopg"``).
        what: The driver's name for people (``"psycopg 3"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        pass  # raised below, outside the except block: nothing of the failure is kept
    raise DriverNotInstalledError(
        f"driver={driver!r} needs {what}: pip install 'rds-iam-auth[{extra}]'"
    )


def require_version(
    found: tuple[Any, ...],
    minimum: tuple[int, int],
    *,
    driver: str,
    what: str,
    extra: str,
    why: str,
) -> None:
    """Refuse a driver release below our extra's floor (an application pin can hold it there).

    Args:
        found: The driver's version tuple (``(1, 1, 1, "final")``).
        minimum: The lowest (major, minor) we support.
        driver: The ``driver=`` name.
        what: The distribution's name for people (``"PyMySQL"``).
        extra: Our pip extra that installs a good release.
        why: What goes wrong below the floor.

    Raises:
        DriverNotInstalledError: ``found`` is below ``minimum``.
    """
    numbers = tuple(part for part in found[:3] if isinstance(part, int))
    if numbers[:2] < minimum:
        raise DriverNotInstalledError(
            f"driver={driver!r} needs {what} >= {'.'.join(map(str, minimum))} (found "
            f"{'.'.join(map(str, numbers)) or '?'}): {why}; pip install 'rds-iam-auth[{extra}]'"
        )
