"""PyMySQL adapter: a verifying ``ssl.SSLContext``; PyMySQL answers the server's
``mysql_clear_password`` request itself, over that TLS session."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError, DriverNotInstalledError
from ..tls import TlsSettings, client_cert_context, ssl_context
from . import refuse_reserved

NAME = "pymysql"
DEFAULT_PORT = 3306
_RESERVED = ("password", "passwd", "host", "port", "user", "unix_socket")
_ACCESS_DENIED = 1045
# PyMySQL's dict-style TLS options; ours is a ready SSLContext, so these could only weaken it.
_TLS_KEYWORDS = ("ssl_ca", "ssl_capath", "ssl_verify_cert", "ssl_verify_identity", "ssl_disabled")
# PyMySQL would also swap our context for an unverifying one on seeing these, so they are loaded
# into a verifying context of our own and never reach it.
_CLIENT_CERT_KEYWORDS = ("ssl_cert", "ssl_key", "ssl_key_password")


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


def _client_cert_context(
    client_cert: Mapping[str, Any], user_ssl: object, tls: TlsSettings
) -> ssl.SSLContext:
    if user_ssl is not None:
        raise ConfigurationError(
            "pymysql: pass either ssl= or ssl_cert=/ssl_key=, not both; to present a client "
            "certificate with your own context, call its load_cert_chain()"
        )
    certfile = client_cert.get("ssl_cert")
    if not certfile:
        raise ConfigurationError("pymysql: ssl_key= and ssl_key_password= need ssl_cert=")
    return client_cert_context(
        tls, certfile, client_cert.get("ssl_key"), client_cert.get("ssl_key_password")
    )


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
    client_cert = {name: extra.pop(name) for name in _CLIENT_CERT_KEYWORDS if name in extra}
    if client_cert:
        context = _client_cert_context(client_cert, user_ssl, tls)
    elif user_ssl is None:
        context = ssl_context(tls)
    else:
        context = _user_context(user_ssl, tls)
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
