"""PyMySQL adapter: a verifying ``ssl.SSLContext``; PyMySQL answers the server's
``mysql_clear_password`` request itself, over that TLS session."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError, DriverNotInstalledError
from ..tls import TlsSettings, ssl_context
from . import refuse_reserved

NAME = "pymysql"
DEFAULT_PORT = 3306
_RESERVED = ("password", "passwd", "host", "port", "user", "unix_socket")
_ACCESS_DENIED = 1045
# PyMySQL's dict-style TLS options; ours is a ready SSLContext, so these could only weaken it.
_TLS_KEYWORDS = ("ssl_ca", "ssl_capath", "ssl_verify_cert", "ssl_verify_identity", "ssl_disabled")


def _weakening(tls: TlsSettings) -> ConfigurationError:
    return ConfigurationError(
        "pymysql: this TLS keyword would weaken verification or replace the CA; the connector "
        "passes a verifying ssl= context. Pass the CA with ca=, and use tls='verify-ca' to "
        f"skip the host name check (now tls={tls.mode!r}); there is no plaintext mode"
    )


def _user_context(value: object, tls: TlsSettings) -> ssl.SSLContext:
    if (
        isinstance(value, ssl.SSLContext)
        and value.verify_mode == ssl.CERT_REQUIRED
        and (value.check_hostname or not tls.check_hostname)
    ):
        return value
    raise _weakening(tls)


def build_kwargs(
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    tls: TlsSettings,
    user_kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """Return ``pymysql.connect`` keywords; the token travels only as ``password``."""
    refuse_reserved(NAME, user_kwargs, _RESERVED)
    extra = dict(user_kwargs)
    for name in _TLS_KEYWORDS:
        if name in extra:
            raise _weakening(tls)
    user_ssl = extra.pop("ssl", None)
    context = ssl_context(tls) if user_ssl is None else _user_context(user_ssl, tls)
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": user,
        "password": password,
        "ssl": context,
    }
    kwargs.update(extra)
    return kwargs


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``pymysql.connections.Connection``."""
    try:
        import pymysql
    except ImportError:
        raise DriverNotInstalledError(
            "driver='pymysql' needs PyMySQL: pip install 'rds-iam-auth[pymysql]'"
        ) from None
    return pymysql.connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """PyMySQL reports a refused login as ``OperationalError(1045, ...)``."""
    pymysql = sys.modules.get("pymysql")
    if pymysql is None or not isinstance(exc, pymysql.err.OperationalError):
        return False
    return bool(exc.args) and exc.args[0] == _ACCESS_DENIED
