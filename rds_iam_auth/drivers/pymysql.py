"""PyMySQL adapter (PyMySQL >= 1.2): a read-only verifying ``SSLContext`` pinned to the host.

PyMySQL answers the server's ``mysql_clear_password`` request itself, inside that TLS session;
1.1.x sent the password in clear to a server that offered no TLS even with a verifying context,
1.2 refuses, hence the floor. ``address=``: PyMySQL dials ``host``, so we give it the address
and a context whose ``wrap_socket`` verifies the endpoint's name instead of the one dialled.
Refused IAM login: ``pymysql.err.OperationalError`` with ``args[0] == 1045``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql, import_driver, require_version
from ._policy import KeywordPolicy

NAME = "pymysql"
DEFAULT_PORT = 3306
SUPPORTS_ADDRESS = True
SYNC = True
ASYNC = False
_OBJECTS = frozenset({"conv", "cursorclass"})
POLICY = KeywordPolicy(
    NAME,
    frozenset(
        {
            "database",
            "db",
            "charset",
            "collation",
            "sql_mode",
            "use_unicode",
            "client_flag",
            "init_command",
            "connect_timeout",
            "read_timeout",
            "write_timeout",
            "autocommit",
            "local_infile",
            "max_allowed_packet",
            "binary_prefix",
            "program_name",
            "bind_address",
            *_mysql.CLIENT_CERT_KEYWORDS,
            *_OBJECTS,
        }
    ),
    _mysql.OWNED,
    any_value=_OBJECTS,
)


MIN_VERSION = (1, 2)


def load() -> ModuleType:
    """Import PyMySQL >= 1.2, or raise DriverNotInstalledError naming the extra."""
    module = import_driver("pymysql", NAME, "pymysql", "PyMySQL")
    require_version(
        getattr(module, "VERSION", (0,)),
        MIN_VERSION,
        driver=NAME,
        what="PyMySQL",
        extra="pymysql",
        why="1.1 sends the password in clear to a server that offers no TLS",
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
    """Return ``pymysql.connect`` keywords; the token travels only as ``password``."""
    extra = POLICY.check(user_kwargs)
    client_cert = {k: extra.pop(k) for k in _mysql.CLIENT_CERT_KEYWORDS if k in extra}
    kwargs = ConnectKwargs(
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        user=user,
        password=password,
        ssl=_mysql.context(tls, host, client_cert),
    )
    kwargs.update(extra)
    return kwargs


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``pymysql.connections.Connection``."""
    return load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """PyMySQL reports a refused login as ``OperationalError(1045, ...)``."""
    pymysql = sys.modules.get("pymysql")
    if pymysql is None or not isinstance(exc, pymysql.err.OperationalError):
        return False
    return bool(exc.args) and exc.args[0] == _mysql.ACCESS_DENIED
