"""asyncpg adapter (asyncpg >= 0.30, asyncio only): ``ssl=`` one of our read-only verifying
contexts, pinned to the endpoint's name.

With an ``SSLContext`` asyncpg requires TLS (``sslmode=require`` semantics, never advisory):
a server that declines TLS fails the login before the password is sent, and the context does
the verification (CA, and the host name with ``verify-full``). Explicit keywords win over
everything asyncpg reads from ``PG*`` variables, ``.pgpass`` and service files, so the
connector sets host, port, user, password and ``ssl`` every time and owns those keywords;
``dsn``/``service``/``passfile`` are refused (they could name another target). asyncpg reads
``SSLKEYLOGFILE`` only for contexts it builds itself; ours refuses key logging anyway.
``address=``: asyncpg dials ``host`` and passes it as ``server_hostname``; our context's
``wrap_bio`` verifies the endpoint's name instead. Refused IAM login (measured on the
emulator): ``asyncpg.exceptions.InvalidAuthorizationSpecificationError`` (SQLSTATE 28000)
with PostgreSQL's "PAM authentication failed for user" text.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._sslcontext import pinned_context
from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _libpq, import_driver, require_version
from ._policy import CREDENTIALS, TLS, KeywordPolicy, check_text

NAME = "asyncpg"
DEFAULT_PORT = 5432
SUPPORTS_ADDRESS = True
SYNC = False
ASYNC = True
RESOLVES_ADDRESS = False  # asyncpg resolves address= itself, on the loop
MIN_VERSION = (0, 30)
_OBJECTS = frozenset({"connection_class", "record_class", "server_settings"})
_CLIENT_CERT = ("sslcert", "sslkey", "sslpassword")
POLICY = KeywordPolicy(
    NAME,
    frozenset(
        {
            "database",
            "timeout",
            "command_timeout",
            "statement_cache_size",
            "max_cached_statement_lifetime",
            "max_cacheable_statement_size",
            "target_session_attrs",
            "direct_tls",  # PostgreSQL 17's direct TLS: still our context
            *_CLIENT_CERT,
            *_OBJECTS,
        }
    ),
    {
        **_libpq.OWNED,
        "ssl": TLS,
        "loop": "asyncpg uses the running event loop",
        "krbsrvname": CREDENTIALS,
        "gsslib": CREDENTIALS,
    },
    value_types=(str, int, float, bool),
    any_value=_OBJECTS,
)


def load() -> ModuleType:
    """Import asyncpg >= 0.30, or raise DriverNotInstalledError naming the extra."""
    module = import_driver("asyncpg", NAME, "asyncpg", "asyncpg")
    found = tuple(int(p) if p.isdigit() else p for p in module.__version__.split(".")[:3])
    require_version(
        found,
        MIN_VERSION,
        driver=NAME,
        what="asyncpg",
        extra="asyncpg",
        why="older releases are not tested with IAM tokens",
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
    """Return ``asyncpg.connect`` keywords; the token travels only as ``password``."""
    extra = POLICY.check(user_kwargs)
    cert = {k: extra.pop(k) for k in _CLIENT_CERT if k in extra}
    if "server_settings" in extra and not _text_mapping(extra["server_settings"]):
        raise ConfigurationError("asyncpg: server_settings= must be a dict of str to str")
    if cert and not cert.get("sslcert"):
        raise ConfigurationError("asyncpg: sslkey= and sslpassword= need sslcert=")
    client_cert = (cert["sslcert"], cert.get("sslkey"), cert.get("sslpassword")) if cert else None
    kwargs = ConnectKwargs(
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        user=user,
        password=password,
        ssl=pinned_context(tls.ca_path, tls.check_hostname, host, client_cert),
    )
    kwargs.update(extra)
    return kwargs


def _text_mapping(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    for name, setting in value.items():
        if not isinstance(name, str) or not isinstance(setting, str):
            return False
        check_text(f"asyncpg: server_settings[{name!r}]", setting)
        check_text("asyncpg: a server_settings name", name)
    return True


async def connect_async(kwargs: Mapping[str, Any]) -> Any:
    """Open an ``asyncpg.Connection``."""
    return await load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """asyncpg reports a refused PAM login as InvalidAuthorizationSpecificationError."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return False
    refused = asyncpg.exceptions.InvalidAuthorizationSpecificationError
    return isinstance(exc, refused) and _libpq.PAM_REFUSED in str(exc)
