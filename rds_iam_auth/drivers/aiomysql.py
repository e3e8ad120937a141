"""aiomysql adapter (aiomysql >= 0.3.2, asyncio only), with TLS made mandatory.

aiomysql 0.3.2 upgrades to TLS only when the server offers it: against a server that offers
none it carries on in plaintext and sends the password (the IAM token, in clear once the
server asks for ``mysql_clear_password``) even with a verifying ``ssl=`` context. So this
adapter opens a subclass of aiomysql's ``Connection`` that refuses to send the handshake
response unless the server offers TLS, and checks the session is encrypted before any
credential leaves. ``address=``: as for PyMySQL, the context pins the endpoint's name.
Refused IAM login: PyMySQL's ``OperationalError`` with ``args[0] == 1045``.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql, _mysql_async, import_driver, require_version

NAME = "aiomysql"
DEFAULT_PORT = 3306
SUPPORTS_ADDRESS = True
SYNC = False
ASYNC = True
RESOLVES_ADDRESS = False  # aiomysql resolves address= itself, on the loop
MIN_VERSION = (0, 3)
_OBJECTS = frozenset({"conv", "cursorclass"})
POLICY = _mysql_async.keyword_policy(
    NAME,
    frozenset(
        {
            "db",
            "database",
            "charset",
            "sql_mode",
            "use_unicode",
            "client_flag",
            "init_command",
            "connect_timeout",
            "autocommit",
            "echo",
            "local_infile",
            "program_name",
        }
    ),
    _OBJECTS,
)
NO_TLS = 2026  # CR_SSL_CONNECTION_ERROR, as the MySQL clients report it


@functools.cache  # the version check reads package metadata: once per process
def load() -> ModuleType:
    """Import aiomysql >= 0.3.2, or raise DriverNotInstalledError naming the extra."""
    module = import_driver("aiomysql", NAME, "aiomysql", "aiomysql")
    from importlib.metadata import version

    found = tuple(int(p) if p.isdigit() else p for p in version("aiomysql").split(".")[:3])
    require_version(
        found, MIN_VERSION, driver=NAME, what="aiomysql", extra="aiomysql", why="untested"
    )
    return module


@functools.cache
def _tls_only_connection() -> type[Any]:
    aiomysql = load()
    from pymysql.constants import CLIENT

    base: type[Any] = aiomysql.Connection

    class TlsOnlyConnection(base):  # type: ignore[misc]
        """aiomysql's Connection, refusing to authenticate outside verified TLS."""

        async def _request_authentication(self) -> None:
            if not self.server_capabilities & CLIENT.SSL:
                self.close()
                raise aiomysql.OperationalError(
                    NO_TLS,
                    "rds_iam_auth: the server offered no TLS; the IAM token was not sent",
                )
            try:
                await super()._request_authentication()
            except BaseException:
                # aiomysql then close()s the TLS transport, a graceful shutdown that needs more
                # turns of the loop than a caller's asyncio.run() may have left: abort instead,
                # so the socket is closed on the next turn (connect_async awaits it).
                if self._writer is not None:
                    self._writer.transport.abort()
                raise

    return TlsOnlyConnection


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
    """Return ``aiomysql.connect`` keywords; the token travels only as ``password``."""
    if "database" in user_kwargs:
        # PyMySQL takes both names, aiomysql's Connection only db=.
        if "db" in user_kwargs:
            raise ConfigurationError("aiomysql: pass db= or database=, not both")
        user_kwargs = {("db" if k == "database" else k): v for k, v in user_kwargs.items()}
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
    """Open an ``aiomysql.Connection`` that authenticates only inside TLS."""
    connection = _tls_only_connection()(**kwargs)
    try:
        await connection._connect()
    except BaseException:
        connection.close()
        await asyncio.sleep(0)  # one turn: the aborted transport closes its socket
        raise
    return connection


def is_auth_refused(exc: BaseException) -> bool:
    """aiomysql raises PyMySQL's ``OperationalError(1045, ...)`` for a refused login."""
    pymysql = sys.modules.get("pymysql")
    if pymysql is None or not isinstance(exc, pymysql.err.OperationalError):
        return False
    return bool(exc.args) and exc.args[0] == _mysql.ACCESS_DENIED
