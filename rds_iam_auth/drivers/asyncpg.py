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

``direct_tls`` is always set (``False``): left unset, asyncpg takes it from
``PGSSLNEGOTIATION``. ``direct_tls=True`` is refused: PostgreSQL 17+ accepts direct TLS only
with the ``postgresql`` ALPN protocol, which our read-only contexts do not offer. asyncpg writes
``server_settings`` into the startup packet after ``user`` and ``database``, and the server
keeps the last value, so ``user``/``database`` there would log in as someone the token was not
signed for: refused, like ``_pq_.*`` protocol extensions and ``replication``.
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
            "direct_tls",  # False only (see the module docstring)
            *_CLIENT_CERT,
            *_OBJECTS,
        }
    ),
    {
        **_libpq.OWNED,
        "ssl": TLS,
        "sslmode": TLS,
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
    popped = {k: extra.pop(k) for k in _CLIENT_CERT if k in extra}
    cert = {k: v for k, v in popped.items() if v is not None}
    for name, value in cert.items():
        if not isinstance(value, str):  # an int would be taken for a file descriptor
            raise ConfigurationError(f"asyncpg: {name}= must be a str")
    if extra.get("server_settings") is not None:
        extra["server_settings"] = _server_settings(extra["server_settings"])
    if cert and not cert.get("sslcert"):
        raise ConfigurationError("asyncpg: sslkey= and sslpassword= need sslcert=")
    direct = extra.pop("direct_tls", None)
    if direct is not None and not isinstance(direct, bool):
        raise ConfigurationError("asyncpg: direct_tls= must be True or False")
    if direct:
        raise ConfigurationError(
            "asyncpg: direct_tls=True is not supported: PostgreSQL 17+ requires the "
            "'postgresql' ALPN protocol for direct TLS, which the connector's TLS context does "
            "not offer; leave direct_tls out (the connector negotiates TLS with SSLRequest)"
        )
    client_cert = (cert["sslcert"], cert.get("sslkey"), cert.get("sslpassword")) if cert else None
    kwargs = ConnectKwargs(
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        user=user,
        password=password,
        ssl=pinned_context(tls.ca_path, tls.check_hostname, host, client_cert),
        direct_tls=False,  # never PGSSLNEGOTIATION's choice
    )
    kwargs.update(extra)
    return kwargs


def _server_settings(value: object) -> dict[str, str]:
    """A checked copy (asyncpg reads the dict only later, while other coroutines run)."""
    if not isinstance(value, dict):
        raise ConfigurationError("asyncpg: server_settings= must be a dict of str to str")
    checked: dict[str, str] = {}
    for name, setting in value.items():
        if not isinstance(name, str) or not isinstance(setting, str):
            raise ConfigurationError("asyncpg: server_settings= must be a dict of str to str")
        check_text(f"asyncpg: server_settings[{name!r}]", setting)
        check_text("asyncpg: a server_settings name", name)
        why = _STARTUP_OWNED.get(name)
        if why is None and name.startswith("_pq_."):
            why = "protocol extensions are not supported"
        if why is not None:
            raise ConfigurationError(f"asyncpg: do not put {name!r} in server_settings=; {why}")
        checked[name] = setting
    return checked


# Startup-packet names that asyncpg writes itself or cannot follow.
_STARTUP_OWNED = {
    "user": "the login user is the one the token is signed for: connect()'s user argument",
    "database": "pass database= instead",
    "replication": "asyncpg does not speak the replication protocol",
}


async def connect_async(kwargs: Mapping[str, Any]) -> Any:
    """Open an ``asyncpg.Connection``."""
    return await load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """asyncpg reports a refused PAM login as InvalidAuthorizationSpecificationError."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return False
    refused = asyncpg.exceptions.InvalidAuthorizationSpecificationError
    # Exactly 28000: InvalidPasswordError (28P01, password auth, not IAM) is a subclass.
    return (
        isinstance(exc, refused)
        and getattr(exc, "sqlstate", None) == "28000"
        and _libpq.PAM_REFUSED in str(exc)
    )
