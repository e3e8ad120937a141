"""psycopg (v3) adapter: libpq keywords with ``sslmode=verify-full`` and ``sslrootcert``.

Keyword policy: libpq's safe options (``_libpq.ALLOWED``, checked against the options of the
libpq psycopg loaded) plus psycopg's own ``connect()`` keywords; ``conninfo`` is refused (a
conninfo string could name another host or sslmode). ``address=`` works through libpq's
``hostaddr``: the socket goes there, while ``host`` stays the name that ``verify-full`` checks.
Refused IAM login (measured on the emulator): ``psycopg.OperationalError`` with ``sqlstate``
None and ``FATAL:  PAM authentication failed for user "..."``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._address import resolve_numeric
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _libpq, import_driver

NAME = "psycopg"
DEFAULT_PORT = 5432
SUPPORTS_ADDRESS = True
SYNC = True
ASYNC = True
RESOLVES_ADDRESS = True  # resolve_numeric() for hostaddr
# psycopg.Connection.connect's own keywords; their values are Python objects, not libpq text.
_DRIVER_KEYWORDS = ("autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory")
POLICY = _libpq.policy(NAME, _DRIVER_KEYWORDS)


def load() -> ModuleType:
    """Import psycopg, or raise DriverNotInstalledError naming the extra."""
    return import_driver("psycopg", NAME, "psycopg", "psycopg 3")


@functools.lru_cache(maxsize=1)
def _libpq_options() -> frozenset[str] | None:
    try:
        from psycopg import pq
    except ImportError:
        return None  # connect() will say which extra to install
    return frozenset(opt.keyword.decode() for opt in pq.Conninfo.get_defaults())


def build_kwargs(
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    tls: TlsSettings,
    address: Address | None,
    user_kwargs: Mapping[str, Any],
) -> ConnectKwargs:
    """Return ``psycopg.connect`` keywords; the token travels only as ``password``."""
    return _libpq.build_kwargs(
        POLICY,
        host=host,
        port=port,
        user=user,
        password=password,
        tls=tls,
        address=address,
        hostaddr=None if address is None else resolve_numeric(address),
        user_kwargs=user_kwargs,
        known=_libpq_options(),
    )


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``psycopg.Connection``."""
    return load().connect(**kwargs)


async def connect_async(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``psycopg.AsyncConnection`` (the same keywords and policy as ``connect``)."""
    return await load().AsyncConnection.connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """psycopg reports a refused PAM login with ``sqlstate`` None and libpq's FATAL text."""
    return _libpq.is_pam_refusal(exc, "psycopg", "sqlstate")
