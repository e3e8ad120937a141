"""asyncmy adapter (asyncmy >= 0.2.10, asyncio only): ``ssl=`` one of our verifying contexts.

With an ``ssl`` context asyncmy always sends the TLS request and completes the handshake
before the handshake response (and so the password) goes out; a server that offers no TLS
fails the handshake instead of receiving the token. Its ``sock=`` does direct TLS (no
in-protocol upgrade), which MySQL servers do not speak: owned, like ``password_creator``.
``address=``: asyncmy dials ``host`` and passes it as ``server_hostname``; our context's
``wrap_bio`` verifies the endpoint's name instead. Refused IAM login:
``asyncmy.errors.OperationalError`` with ``args[0] == 1045``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql, _mysql_async, import_driver, require_version

NAME = "asyncmy"
DEFAULT_PORT = 3306
SUPPORTS_ADDRESS = True
SYNC = False
ASYNC = True
RESOLVES_ADDRESS = False  # asyncmy resolves address= itself, on the loop
MIN_VERSION = (0, 2)
_OBJECTS = frozenset({"conv", "cursor_cls", "query_callback"})
POLICY = _mysql_async.keyword_policy(
    NAME,
    frozenset(
        {
            "database",
            "db",
            "charset",
            "sql_mode",
            "use_unicode",
            "client_flag",
            "init_command",
            "connect_timeout",
            "read_timeout",
            "autocommit",
            "local_infile",
            "max_allowed_packet",
            "binary_prefix",
            "program_name",
            "echo",
            "stmt_cache_size",
        }
    ),
    _OBJECTS,
)


@functools.cache  # the version check reads package metadata: once per process
def load() -> ModuleType:
    """Import asyncmy (the extra asks for >= 0.2.10), or raise DriverNotInstalledError."""
    module = import_driver("asyncmy", NAME, "asyncmy", "asyncmy")
    from importlib.metadata import version

    found = tuple(int(p) if p.isdigit() else p for p in version("asyncmy").split(".")[:3])
    require_version(
        found, MIN_VERSION, driver=NAME, what="asyncmy", extra="asyncmy", why="untested"
    )
    return module


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
    """Return ``asyncmy.connect`` keywords; the token travels only as ``password``."""
    return _mysql_async.build_kwargs(
        POLICY,
        host=host,
        port=port,
        user=user,
        password=password,
        tls=tls,
        address=address,
        user_kwargs=user_kwargs,
    )


async def connect_async(kwargs: Mapping[str, Any]) -> Any:
    """Open an ``asyncmy.Connection``."""
    return await load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """asyncmy reports a refused login as its ``OperationalError(1045, ...)``."""
    errors = sys.modules.get("asyncmy.errors")
    if errors is None or not isinstance(exc, errors.OperationalError):
        return False
    return bool(exc.args) and exc.args[0] == _mysql.ACCESS_DENIED
