"""mysql.connector adapter (mysql-connector-python >= 9.1): the cleartext plugin inside our TLS.

The token reaches the server through ``auth_plugin="mysql_clear_password"``, set explicitly:
without it the pure-Python implementation starts with the server's default plugin and, when the
server switches to the cleartext one, logs the token at DEBUG on the ``mysql.connector`` logger
(measured); the C extension refuses (``plugin not enabled``) unless the process sets
``LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN``, which the AWS guide does and we never need. Up to 9.0 the
plugin refused passwords over 255 characters (tokens run to ~1,000), hence the floor. A server
that asks for the password again after our first response (MariaDB did not) would still
make the pure-Python driver log it at DEBUG; by then that server has passed verification.

**Pure-Python implementation (the default here, ``use_pure=True``).** mysql.connector builds its
own TLS context for each connection with ``ssl.create_default_context()`` and
``load_default_certs()``, so with ``ssl_ca``, ``ssl_verify_cert`` and ``ssl_verify_identity``
alone it also trusts the system store and whatever ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name
(measured: a rogue CA in ``SSL_CERT_FILE`` got the token), and honours ``SSLKEYLOGFILE``
(measured: session keys written). So we open the connection through a ``MySQLConnection``
subclass whose socket uses our read-only, name-pinning context (``_sslcontext``: the resolved CA
only, TLS >= 1.2, no key log, built once per CA). That context verifies the endpoint's name
whatever host is dialled, so ``address=`` works. It relies on two driver methods
(``MySQLConnection._get_connection`` and ``MySQLTCPSocket.build_ssl_context``, unchanged from
8.3 to 26.10); the ``ssl_*`` keywords stay in the kwargs too, so the driver still demands TLS
(errno 2026) if it ever bypassed them.

**C extension (``use_pure=False``, where it loads).** libmysqlclient gets ``ssl_ca`` and, from
``ssl_verify_cert`` + ``ssl_verify_identity``, ``SSL_MODE_VERIFY_IDENTITY``: only that CA (a rogue
``SSL_CERT_FILE`` was refused), no key log. It takes no context or socket, so ``address=`` is
refused, and so is ``tls="verify-ca"``: ``ssl_verify_identity=False`` leaves libmysqlclient at
``SSL_MODE_PREFERRED``, which sent the token to a plaintext server (measured with 9.7.0).

Both check TLS before the password leaves: MySQL servers check ``REQUIRE SSL`` only after
authentication, but with the cleartext plugin a server that offers no TLS gets nothing
(``InterfaceError``: pure "Clear password authentication is not supported over insecure
channels", C extension 2026 "SSL is required"). ``mysql.connector.connect()`` itself is not
used: its option files, DNS SRV, failover and pool dispatch are all refused keywords here.

Refused IAM login (measured on the emulator, both implementations):
``mysql.connector.errors.ProgrammingError`` with ``errno == 1045`` and ``sqlstate "28000"``.
"""

from __future__ import annotations

import functools
import ssl
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._sslcontext import pinned_context
from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql, import_driver, require_version
from ._policy import CONFIG_FILE, CREDENTIALS, TARGET, TLS, KeywordPolicy

NAME = "mysql.connector"
DEFAULT_PORT = 3306
SUPPORTS_ADDRESS = True  # pure-Python implementation only; use_pure=False refuses it
SYNC = True
ASYNC = False
MIN_VERSION = (9, 1)
CLEARTEXT = "mysql_clear_password"

_POOL = (
    "mysql.connector's own pool keeps the first token for every later connection of that "
    "pool_name; use connector.creator() with your pool (e.g. SQLAlchemy's) instead"
)
_OTHER_AUTH = "IAM authentication uses the cleartext plugin only; " + CREDENTIALS
_OBJECTS = frozenset({"converter_class", "conn_attrs", "client_flags"})
POLICY = KeywordPolicy(
    NAME,
    frozenset(
        {
            "database",
            "db",
            "charset",
            "collation",
            "use_unicode",
            "autocommit",
            "time_zone",
            "sql_mode",
            "get_warnings",
            "raise_on_warnings",
            "connection_timeout",
            "connect_timeout",
            "read_timeout",
            "write_timeout",
            "compress",
            "buffered",
            "raw",
            "consume_results",
            "converter_str_fallback",
            "allow_local_infile",
            "allow_local_infile_in_path",
            "init_command",
            "force_ipv6",  # which address family for the same host name
            "use_pure",
            *_mysql.CLIENT_CERT_KEYWORDS,
            *_OBJECTS,
        }
    ),
    {
        **_mysql.OWNED,
        "username": TARGET,
        "dns_srv": TARGET,
        "failover": TARGET,
        "password1": CREDENTIALS,
        "password2": CREDENTIALS,
        "password3": CREDENTIALS,
        "auth_plugin": "the connector sets auth_plugin='mysql_clear_password' itself",
        "kerberos_auth_mode": _OTHER_AUTH,
        "krb_service_principal": _OTHER_AUTH,
        "oci_config_file": _OTHER_AUTH,
        "oci_config_profile": _OTHER_AUTH,
        "openid_token_file": _OTHER_AUTH,
        "webauthn_callback": _OTHER_AUTH,
        "option_files": CONFIG_FILE,
        "option_groups": CONFIG_FILE,
        "dsn": CONFIG_FILE.replace("a configuration file", "a DSN"),
        "pool_name": _POOL,
        "pool_size": _POOL,
        "pool_reset_session": _POOL,
        "tls_versions": TLS,
        "tls_ciphersuites": TLS,
    },
    any_value=_OBJECTS,
)


class MySQLConnectorKwargs(ConnectKwargs):
    """The driver keywords plus, for the pure-Python implementation, the TLS context to use."""

    __slots__ = ("context",)
    context: ssl.SSLContext


def load() -> ModuleType:
    """Import mysql.connector >= 9.1, or raise DriverNotInstalledError naming the extra."""
    module = import_driver("mysql.connector", NAME, "mysql-connector", "mysql-connector-python")
    require_version(
        getattr(module, "__version_info__", (0,)),
        MIN_VERSION,
        driver=NAME,
        what="mysql-connector-python",
        extra="mysql-connector",
        why="up to 9.0 its cleartext plugin refuses passwords over 255 characters",
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
    """Return the connection keywords; the token travels only as ``password``.

    Raises:
        ConfigurationError: A refused keyword, or ``use_pure=False`` with what only the
            pure-Python implementation can do (``address=``, ``tls='verify-ca'``,
            ``ssl_key_password=``) or where the C extension does not load.
    """
    extra = POLICY.check(user_kwargs)
    use_pure = extra.pop("use_pure", True)
    if not isinstance(use_pure, bool):
        raise ConfigurationError("mysql.connector: use_pure= must be True or False")
    client_cert = {
        k: v for k in _mysql.CLIENT_CERT_KEYWORDS if (v := extra.pop(k, None)) is not None
    }
    kwargs = MySQLConnectorKwargs(
        host=host if address is None else address.host,
        port=port if address is None else address.port,
        user=user,
        password=password,
        auth_plugin=CLEARTEXT,
        ssl_ca=tls.ca_path,
        ssl_verify_cert=True,
        ssl_verify_identity=tls.check_hostname,
        ssl_disabled=False,
        use_pure=use_pure,
    )
    if use_pure:
        # Built now (and cached), so a bad client certificate fails in creator(), not later.
        kwargs.context = _mysql.context(tls, host, client_cert)
    else:
        _check_c_extension(tls, address, client_cert)
        kwargs.update(client_cert)
    kwargs.update(extra)
    return kwargs


def _check_c_extension(
    tls: TlsSettings, address: Address | None, client_cert: Mapping[str, Any]
) -> None:
    pure = "use the pure-Python implementation (leave use_pure out)"
    if address is not None:
        raise ConfigurationError(
            "mysql.connector: address= needs the pure-Python implementation: the C extension "
            f"(use_pure=False) cannot verify a name other than the host it dials; {pure}"
        )
    if not tls.check_hostname:
        raise ConfigurationError(
            "mysql.connector: tls='verify-ca' is not possible with use_pure=False: the C "
            "extension then falls back to plaintext when the server offers no TLS; use "
            f"tls='verify-full' or {pure}"
        )
    if "ssl_key_password" in client_cert:
        raise ConfigurationError(
            f"mysql.connector: ssl_key_password= is not supported with use_pure=False; {pure}"
        )
    if client_cert and set(client_cert) != {"ssl_cert", "ssl_key"}:
        raise ConfigurationError(
            "mysql.connector: with use_pure=False pass both ssl_cert= and ssl_key="
        )
    module = load()
    if not module.HAVE_CEXT:
        raise ConfigurationError(
            f"mysql.connector: use_pure=False, but the C extension of mysql-connector-python "
            f"{module.__version__} does not load here (mysql.connector.HAVE_CEXT is False); {pure}"
        )


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``MySQLConnection`` (our TLS context) or, with ``use_pure=False``, a
    ``CMySQLConnection``."""
    load()
    args = ConnectKwargs(kwargs)  # redacted repr: this frame's locals hold no bare token
    if not args.pop("use_pure", True):
        from mysql.connector.connection_cext import CMySQLConnection

        return CMySQLConnection(**args)
    context = getattr(kwargs, "context", None)
    if context is None:  # a plain mapping: verify the name it dials
        context = pinned_context(args["ssl_ca"], bool(args["ssl_verify_identity"]), args["host"])
    conn = _connection_class()()
    conn.rds_iam_auth_context = context
    try:
        conn.connect(**args)
    except Exception:
        # What MySQLConnection.__init__ does when its own connect() fails: free the socket.
        conn.close()
        conn._socket = None
        raise
    return conn


@functools.lru_cache(maxsize=1)
def _connection_class() -> type[Any]:
    """The ``MySQLConnection`` subclass whose socket uses our context (built on first use, so
    importing this module does not import the driver)."""
    from mysql.connector.connection import MySQLConnection
    from mysql.connector.network import MySQLTCPSocket

    class _PinnedSocket(MySQLTCPSocket):
        context: ssl.SSLContext

        def build_ssl_context(self, *args: Any, **kwargs: Any) -> ssl.SSLContext:
            # Instead of a fresh create_default_context() + system CAs per connection.
            return self.context

    class VerifiedMySQLConnection(MySQLConnection):
        """A ``MySQLConnection`` whose TLS context is rds_iam_auth's read-only pinned one."""

        rds_iam_auth_context: ssl.SSLContext

        def _get_connection(self) -> MySQLTCPSocket:
            # Always TCP to the configured host and port (unix_socket= is never passed).
            sock = _PinnedSocket(
                host=self.server_host, port=self.server_port, force_ipv6=self._force_ipv6
            )
            sock.context = self.rds_iam_auth_context
            sock.set_connection_timeout(self._connection_timeout)
            return sock

    VerifiedMySQLConnection.__qualname__ = "VerifiedMySQLConnection"  # not <locals>
    return VerifiedMySQLConnection


def is_auth_refused(exc: BaseException) -> bool:
    """mysql.connector reports a refused login as ``ProgrammingError`` with errno 1045."""
    module = sys.modules.get("mysql.connector")
    if module is None or not isinstance(exc, module.errors.ProgrammingError):
        return False
    return getattr(exc, "errno", None) == _mysql.ACCESS_DENIED
