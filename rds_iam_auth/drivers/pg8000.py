"""pg8000 adapter (pure Python): ``pg8000.dbapi.connect`` with a read-only verifying context.

Which entry point: pg8000 has three. ``pg8000.native.Connection`` is not DB-API (no cursors).
``pg8000.connect`` (the legacy API, no longer in pg8000's documentation) turns a refused login
into ``InterfaceError`` (measured), hiding that the server refused it. ``pg8000.dbapi.connect``
returns pg8000's documented DB-API 2 connection, so that is what we call. SQLAlchemy's
``postgresql+pg8000`` dialect imports the top-level ``pg8000`` module, but only for exception
classes and ``paramstyle``, which are the same objects in ``pg8000.dbapi``, and its connection
hooks use only what both connection classes inherit from ``CoreConnection``
(``create_engine(creator=...)`` is tested on the emulator).

TLS: ``ssl_context=None`` (pg8000's default) means unverified TLS that falls back to plaintext
when the server declines, ``True`` means unverified TLS and ``False`` plaintext. With an
``SSLContext``, pg8000 >= 1.29 sends SSLRequest, raises ``InterfaceError("Server refuses SSL")``
unless the server answers ``S``, and only then wraps the socket and sends the startup packet
and password. So we always pass one of our read-only ``pinned_context`` contexts
(CERT_REQUIRED, ``check_hostname`` per ``tls=``, TLS >= 1.2, no key log). pg8000 passes the host
it dials as ``server_hostname``; the context ignores that and verifies the endpoint's name.
That is how ``address=`` works: ``host``/``port`` are the address, the certificate must still
name the endpoint.

Environment: pg8000 and its SCRAM library read no environment variable or file (no ``PG*``
variables, no service or password file); ``tests/security/test_driver_pg8000.py`` checks it.

Keywords (all of ``pg8000.dbapi.connect``'s): ``database``, ``application_name``,
``replication``, ``timeout``, ``tcp_keepalive``, ``source_address`` (the local address to bind)
and ``startup_params`` (GUC settings in the startup packet, applied only after login) pass,
with their values checked. ``host``, ``port``, ``user``, ``unix_sock``, ``sock`` (use
``address=``), ``password`` and ``ssl_context`` are the connector's. pg8000 writes startup
parameters into the packet unescaped: a NUL could append a second ``user``, so names and values
are checked here; ``_pq_.*`` names (protocol extensions) make the server answer with a message
pg8000 cannot parse (a raw ``KeyError``, measured), so they are refused.

Refused IAM login (measured on the emulator): ``pg8000.exceptions.DatabaseError`` whose
``args[0]`` is ``{'S': 'FATAL', 'V': 'FATAL', 'C': '28000', 'M': 'PAM authentication failed for
user "jane"', 'F': 'auth.c', 'L': '334', 'R': 'auth_failed'}``. A ``pg_hba.conf`` rejection has
the same code but ``'R': 'ClientAuthentication'``; a new token cannot fix it, so it is not
retried.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._sslcontext import pinned_context
from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, import_driver
from ._policy import CREDENTIALS, TARGET, TLS, KeywordPolicy, check_text

NAME = "pg8000"
DEFAULT_PORT = 5432
SUPPORTS_ADDRESS = True
SYNC = True
ASYNC = False

INVALID_AUTHORIZATION = "28000"
_AUTH_FAILED = "auth_failed"  # the server routine that reports a failed authentication method
_TUNNEL = "to dial another address (tunnels, port-forwards) pass address='host:port'"
_STRINGS = ("database", "application_name", "replication")
_OBJECTS = frozenset({"source_address", "startup_params"})
POLICY = KeywordPolicy(
    NAME,
    frozenset({*_STRINGS, "timeout", "tcp_keepalive", *_OBJECTS}),
    {
        "host": TARGET,
        "port": TARGET,
        "user": TARGET,
        "unix_sock": TARGET,
        "sock": f"{_TUNNEL}; the connector opens the socket itself",
        "password": CREDENTIALS,
        "ssl_context": TLS,
    },
    any_value=_OBJECTS,
)
# Startup parameters that pg8000 sets from its own keywords (it refuses them in startup_params).
_STARTUP_KEYWORDS = {"user": TARGET, **{k: f"pass {k}= instead" for k in _STRINGS}}
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*")
_MAX_PORT = 65535


def load() -> ModuleType:
    """Import ``pg8000.dbapi``, or raise DriverNotInstalledError naming the extra."""
    return import_driver("pg8000.dbapi", NAME, "pg8000", "pg8000")


@functools.lru_cache(maxsize=1)
def _connect_parameters() -> frozenset[str] | None:
    try:
        from pg8000 import dbapi
    except ImportError:
        return None  # connect() will say which extra to install
    import inspect

    return frozenset(inspect.signature(dbapi.connect).parameters)


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
    """Return ``pg8000.dbapi.connect`` keywords; the token travels only as ``password``."""
    checked = POLICY.check(user_kwargs) if user_kwargs else {}
    extra = {k: v if v is None else _value(k, v) for k, v in checked.items()}
    kwargs = ConnectKwargs(
        user=user,
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        password=password,
        # Pinned to the endpoint's name: pg8000 passes the host it dials as server_hostname.
        ssl_context=pinned_context(tls.ca_path, tls.check_hostname, host),
    )
    kwargs.update(extra)
    return kwargs


def _value(name: str, value: Any) -> Any:
    if name in _STRINGS:
        if not isinstance(value, str):
            raise ConfigurationError(f"pg8000: {name}= must be a str")
        return value
    if name == "timeout":
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and value > 0):
            raise ConfigurationError("pg8000: timeout= must be a positive number of seconds")
        return value
    if name == "tcp_keepalive":
        if not isinstance(value, bool):
            raise ConfigurationError("pg8000: tcp_keepalive= must be True or False")
        return value
    if name == "source_address":
        return _source_address(value)
    return _startup_params(value)


def _source_address(value: Any) -> tuple[str, int]:
    ok = isinstance(value, tuple | list) and len(value) == 2
    if ok:
        host, port = value
        ok = isinstance(host, str) and type(port) is int and 0 <= port <= _MAX_PORT
    if not ok:
        raise ConfigurationError(
            "pg8000: source_address= must be a (local IP address, port) pair such as "
            "('10.0.0.7', 0)"
        )
    return check_text("pg8000: source_address=", host), port


def _startup_params(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError("pg8000: startup_params= must be a dict of str to str")
    params = _connect_parameters()
    if params is not None and "startup_params" not in params:
        raise ConfigurationError(
            "pg8000: startup_params= needs pg8000 >= 1.31.3; upgrade pg8000 or leave it out"
        )
    checked: dict[str, str] = {}
    for key, setting in value.items():
        if key in _STARTUP_KEYWORDS:
            raise ConfigurationError(
                f"pg8000: do not put {key!r} in startup_params=; {_STARTUP_KEYWORDS[key]}"
            )
        if not isinstance(key, str) or not _PARAM_NAME.fullmatch(key):
            shown = repr(key) if len(repr(key)) <= 60 else repr(key)[:57] + "..."
            raise ConfigurationError(
                f"pg8000: startup_params= key {shown} is not a PostgreSQL setting name"
            )
        if key.startswith("_pq_."):
            raise ConfigurationError(
                f"pg8000: startup_params= key {key!r} is a protocol extension, which pg8000 "
                "does not support"
            )
        if not isinstance(setting, str):
            raise ConfigurationError(f"pg8000: startup_params[{key!r}] must be a str")
        checked[key] = check_text(f"pg8000: startup_params[{key!r}]", setting)
    return checked


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``pg8000.dbapi.Connection``."""
    dbapi = load()
    try:
        conn = dbapi.connect(**kwargs)
    except UnicodeDecodeError:
        # pg8000 decodes the server's one-byte answer to SSLRequest as ASCII: garbage there is
        # a failed connection, not the caller's input that _login would report as unencodable.
        conn = None
    if conn is None:
        raise dbapi.InterfaceError("the server did not answer in the PostgreSQL protocol")
    # pg8000 keeps the password (the token, usable for up to 15 minutes) on the connection
    # for its whole life, though it needs it only during the login that has just finished.
    conn.password = None
    return conn


def is_auth_refused(exc: BaseException) -> bool:
    """pg8000 reports a refused login as ``DatabaseError`` with the server's fields, SQLSTATE
    28000 from the routine ``auth_failed`` (a server that names no routine counts too)."""
    exceptions = sys.modules.get("pg8000.exceptions")
    if exceptions is None or not isinstance(exc, exceptions.DatabaseError) or not exc.args:
        return False
    fields = exc.args[0]
    return (
        isinstance(fields, dict)
        and fields.get("C") == INVALID_AUTHORIZATION
        and fields.get("R", _AUTH_FAILED) == _AUTH_FAILED
    )
