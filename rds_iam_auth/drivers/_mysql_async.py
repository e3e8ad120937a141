"""What the asyncio MySQL adapters (aiomysql, asyncmy) share with the DB-API ones.

Both take PyMySQL-style keywords and one of our verifying contexts as ``ssl=``; both also read
``my.cnf`` files and accept a ready socket or a password callback, which the connector owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql
from ._policy import CREDENTIALS, TARGET, KeywordPolicy

__all__ = ["OWNED", "build_kwargs", "keyword_policy"]

OWNED: Mapping[str, str] = {
    **_mysql.OWNED,
    "sock": TARGET,
    "password_creator": CREDENTIALS,
    "auth_plugin": CREDENTIALS,
    "loop": "the driver uses the running event loop",
}


def keyword_policy(driver: str, allowed: frozenset[str], objects: frozenset[str]) -> KeywordPolicy:
    """PyMySQL-style options plus the client certificate keywords we load ourselves."""
    return KeywordPolicy(
        driver,
        allowed | objects | frozenset(_mysql.CLIENT_CERT_KEYWORDS),
        OWNED,
        any_value=objects,
    )


def build_kwargs(
    policy: KeywordPolicy,
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    tls: TlsSettings,
    address: Address | None,
    user_kwargs: Mapping[str, Any],
) -> ConnectKwargs:
    """The driver's connect keywords; the token travels only as ``password``, in TLS."""
    extra = policy.check(user_kwargs)
    popped = {k: extra.pop(k) for k in _mysql.CLIENT_CERT_KEYWORDS if k in extra}
    client_cert = {k: v for k, v in popped.items() if v is not None}
    for name, value in client_cert.items():
        if not isinstance(value, str):  # an int would be taken for a file descriptor
            raise ConfigurationError(f"{policy.driver}: {name}= must be a str")
    flags = extra.get("client_flag")
    if flags is not None and (type(flags) is not int or flags < 0):
        raise ConfigurationError(f"{policy.driver}: client_flag= must be a non-negative int")
    kwargs = ConnectKwargs(
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        user=user,
        password=password,
        ssl=_mysql.context(tls, host, client_cert),
    )
    kwargs.update(extra)
    return kwargs
