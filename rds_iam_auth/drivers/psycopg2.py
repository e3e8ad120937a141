"""psycopg2 adapter: libpq keywords (shared with psycopg) with ``sslmode=verify-full``.

TLS keywords, all set by us (``_libpq.build_kwargs``): ``sslmode`` (verify-full, or verify-ca
for ``tls="verify-ca"``) and ``sslrootcert`` (the resolved CA file) are what verify the server
before the token is sent; ``hostaddr`` (``""`` or the ``address=`` IP), ``gssencmode=disable``
and ``ssl_min_protocol_version=TLSv1.2`` are pinned so that neither ``PG*`` variables nor a
service file can supply them (a GSS-encrypted session would replace TLS; psycopg2-binary 2.9.13
bundles libpq 17, which defaults ``gssencmode`` to ``prefer``); ``sslkeylogfile=""`` is pinned
on libpq 18+, the first to have it. psycopg2 cannot list libpq's options, so which ones the
loaded libpq has comes from ``libpq_version()`` and ``_libpq.options_of_version``.

Keyword names: ``psycopg2.connect(**kwargs)`` joins its keywords into one DSN string
(``extensions.make_dsn``). It quotes the values (psycopg2 escapes quotes and backslashes, and
we refuse control characters), but not the names: ``{"application_name=x sslmode":
"disable"}`` becomes ``sslmode=disable``. Only names from the allowlist (exact strings) reach
it, so no name can carry another option.

Keyword policy: libpq's safe options (``_libpq.ALLOWED``) plus psycopg2's own ``database``
(an alias of ``dbname``, translated here), ``cursor_factory`` (a callable) and
``connection_factory``. The last one receives the DSN, token included: it is accepted
because it is the caller's own code (a Python object, never text from a URL or a
configuration file, the route an allowlist closes), and the caller can read the token from
``connect_kwargs()`` anyway; it must be a ``psycopg2.extensions.connection`` subclass (what
``psycopg2.extras`` ships: ``RealDictConnection``, ``LoggingConnection``, ...), whose
``dsn`` and ``repr`` hide the password, instead of any callable. ``dsn`` is refused (a
second connection string), and so are ``async`` / ``async_``: such a connection returns
before the login has finished, so a refused token could not be retried.

``PSYCOPG_DEBUG``: psycopg2-binary 2.9.13 reads it once, when ``psycopg2`` is imported, and then
prints every DSN, password included, to stderr (measured). We refuse to import psycopg2 or
build its keywords while the variable is set (any value, even empty, turns it on); we cannot
see a flag latched by an earlier import whose variable was removed since.

``address=`` works through libpq's ``hostaddr``: the socket goes there, while ``host`` stays
the name that ``verify-full`` checks. Refused IAM login (measured on the emulator):
``psycopg2.OperationalError`` with ``pgcode`` None and ``FATAL:  PAM authentication failed
for user "..."`` in its message.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._address import resolve_numeric
from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _libpq, import_driver
from ._policy import KeywordPolicy

NAME = "psycopg2"
DEFAULT_PORT = 5432
SUPPORTS_ADDRESS = True
SYNC = True
ASYNC = False
DEBUG_VARIABLE = "PSYCOPG_DEBUG"
# psycopg2.connect's own keywords whose values are Python objects, checked in _objects().
_OBJECTS = frozenset({"connection_factory", "cursor_factory"})
_ASYNC = (
    "an asynchronous psycopg2 connection returns before the login completes, so the connector "
    "could not retry a refused token; use a blocking connection (psycogreen for gevent/eventlet)"
)
POLICY = KeywordPolicy(
    NAME,
    _libpq.ALLOWED | _OBJECTS | {"database"},
    {**_libpq.OWNED, "async": _ASYNC, "async_": _ASYNC},
    any_value=_OBJECTS,
)


def _refuse_debug_output() -> None:
    if DEBUG_VARIABLE in os.environ:
        raise ConfigurationError(
            f"{NAME}: the {DEBUG_VARIABLE} environment variable is set; with it psycopg2 "
            "prints every connection string, the IAM token included, to stderr. Unset "
            f"{DEBUG_VARIABLE} before psycopg2 is imported"
        )


def load() -> ModuleType:
    """Import psycopg2, or raise DriverNotInstalledError naming the extra.

    Raises:
        ConfigurationError: ``PSYCOPG_DEBUG`` is set (psycopg2 would print the token).
        DriverNotInstalledError: psycopg2 is not installed.
    """
    _refuse_debug_output()  # before the import: that is when psycopg2 reads it
    return import_driver("psycopg2", NAME, "psycopg2", "psycopg2 (psycopg2-binary)")


def _libpq_options() -> frozenset[str] | None:
    # Not cached here (_known is): an import that failed once must not pin the answer
    # "unknown" for the life of the process.
    try:
        from psycopg2 import extensions
    except ImportError:
        return None  # connect() will say which extra to install
    return _known(extensions.libpq_version())


@functools.lru_cache(maxsize=4)
def _known(libpq_version: int) -> frozenset[str]:
    # "database" is psycopg2's alias, not a libpq option: the libpq check must not refuse it.
    return _libpq.options_of_version(libpq_version) | {"database"}


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
    """Return ``psycopg2.connect`` keywords; the token travels only as ``password``.

    Raises:
        ConfigurationError: A keyword is owned, unknown, unknown to the loaded libpq, of the
            wrong type, or ``PSYCOPG_DEBUG`` is set.
    """
    _refuse_debug_output()
    kwargs = _libpq.build_kwargs(
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
    if "database" in kwargs:
        if "dbname" in kwargs:
            raise ConfigurationError(f"{NAME}: pass dbname= or database=, not both")
        kwargs["dbname"] = kwargs.pop("database")
    _objects(kwargs)
    return kwargs


def _objects(kwargs: Mapping[str, Any]) -> None:
    cursor_factory = kwargs.get("cursor_factory")
    if cursor_factory is not None and not callable(cursor_factory):
        raise ConfigurationError(
            f"{NAME}: cursor_factory= must be a cursor class such as psycopg2.extras.DictCursor"
        )
    factory = kwargs.get("connection_factory")
    if factory is None:
        return
    extensions = sys.modules.get("psycopg2.extensions")
    base = getattr(extensions, "connection", None)
    # Without psycopg2 loaded (connect_kwargs() only) there is no class to check against.
    if base is not None and not (isinstance(factory, type) and issubclass(factory, base)):
        raise ConfigurationError(
            f"{NAME}: connection_factory= must be a subclass of psycopg2.extensions.connection "
            "(e.g. psycopg2.extras.RealDictConnection), not a function"
        )


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``psycopg2.extensions.connection``."""
    return load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """psycopg2 reports a refused PAM login with ``pgcode`` None and libpq's FATAL text."""
    return _libpq.is_pam_refusal(exc, "psycopg2", "pgcode")
