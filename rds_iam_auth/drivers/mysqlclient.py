"""mysqlclient (``MySQLdb``) adapter: ``ssl={"ca": <path>}`` plus ``ssl_mode="VERIFY_IDENTITY"``.

mysqlclient is a C extension over the MySQL C API; on Debian, in its Windows wheels and in most
Linux builds that library is MariaDB Connector/C (3.3 here). Measured on the emulator and the
decoys, with mysqlclient 2.3.2 on Connector/C 3.3.20:

- ``ssl={"ca": path}`` alone means ``ssl_mode="PREFERRED"``: no host name check, and a server that
  offers no TLS gets the token in clear. Only ``ssl_mode`` VERIFY_CA / VERIFY_IDENTITY makes the
  library refuse a plaintext server ("SSL is required, but the server does not support it") and
  verify the certificate before it sends the password. So both keywords are always set: the CA
  (which also turns on chain verification) and ``ssl_mode`` from ``tls=``.
- Connector/C has no MYSQL_OPT_SSL_MODE; mysqlclient maps VERIFY_CA and VERIFY_IDENTITY to the
  same "verify the server certificate" option, and Connector/C's check includes the host name.
  So ``tls="verify-ca"`` is as strict as verify-full on these builds (on builds with MySQL's
  libmysqlclient, VERIFY_CA checks the chain only, as asked).
- The host name checked is the host dialled, so ``address=`` cannot work: ``SUPPORTS_ADDRESS``
  is False (the connector refuses it with a ConfigurationError).
- ``host="localhost"`` makes Connector/C use a Unix socket (``MYSQL_UNIX_PORT`` or its default
  path) and ignore ``port``: refused; use ``127.0.0.1``.
- The ``mysql_clear_password`` plugin is built into Connector/C and answers the IAM plugin
  without any environment variable. MySQL's libmysqlclient needs
  ``LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN=1``, read once at library start-up; we do not set it (it
  is process-wide and would also enable cleartext for connections that are not ours), and
  without it that library refuses to send the password (it fails closed).
- Refused IAM login: ``MySQLdb.OperationalError`` with ``args[0] == 1045``.
- TLS versions: MySQLdb has no keyword for Connector/C's TLS version option; OpenSSL 3 at its
  default security level refuses TLS 1.0 and 1.1 servers (tested with a decoy).
- Connector/C reads the CA file for every connection (there is no context to reuse): with the
  108-root RDS bundle a connect costs ~0.1 s more than with one root, so pool connections.

What Connector/C reads besides our keywords: option files only when asked through
``read_default_file`` / ``read_default_group`` (refused: an option file is applied after the
keywords and was shown to replace ``ssl-ca``); ``MYSQL_TCP_PORT`` only when port is 0 and
``MYSQL_PWD`` only without a password (we always pass both); ``MYSQL_UNIX_PORT`` only for
localhost (refused). Connector/C 3.4 also honours ``MARIADB_TLS_DISABLE_PEER_VERIFICATION``,
which skips certificate verification whatever the options say: while it is set, we refuse.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs, _mysql, import_driver, require_version
from ._policy import CREDENTIALS, TLS, KeywordPolicy, check_text

NAME = "mysqlclient"
DEFAULT_PORT = 3306
SUPPORTS_ADDRESS = False
SYNC = True
ASYNC = False
MIN_VERSION = (2, 2)
DISABLE_VERIFICATION_ENV = "MARIADB_TLS_DISABLE_PEER_VERIFICATION"

# MySQLdb's ssl_mode names for each tls= setting, and the values a caller may repeat.
_SSL_MODE = {"verify-full": "VERIFY_IDENTITY", "verify-ca": "VERIFY_CA"}
_ACCEPTED_SSL_MODES = {
    "verify-full": ("VERIFY_IDENTITY",),
    "verify-ca": ("VERIFY_CA", "VERIFY_IDENTITY"),
}
# The keywords every mysqlclient >= 2.2 has that cannot move the token or weaken TLS, by the
# type the C layer parses (a wrong type would be a TypeError from inside the driver).
_TEXT = frozenset({"database", "db", "charset", "collation", "sql_mode", "init_command"})
_INT = frozenset({"connect_timeout", "read_timeout", "write_timeout", "client_flag"})
_BOOL = frozenset({"use_unicode", "binary_prefix", "multi_statements", "compress"})
_BOOL_OR_INT = frozenset({"local_infile"})
_OBJECTS = frozenset({"conv", "cursorclass"})
_INT_MAX = 2**31 - 1  # the C layer parses these as a signed int
_CLIENT_CERT = TLS + "; client certificates are not supported with driver='mysqlclient'"
OWNED: Mapping[str, str] = {
    **_mysql.OWNED,
    "ssl": _CLIENT_CERT,
    "auth_plugin": CREDENTIALS + "; the server asks for mysql_clear_password inside verified TLS",
    "server_public_key_path": CREDENTIALS,
    "ssl_cert": _CLIENT_CERT,
    "ssl_key": _CLIENT_CERT,
    "ssl_key_password": _CLIENT_CERT,
    "tls_version": TLS,
    "tls_versions": TLS,
    "local_infile_dir": "not supported by MariaDB Connector/C builds (and absent before "
    "mysqlclient 2.2.8); use local_infile=",
    "executemany_fallback": "older mysqlclient releases lack it; set the connection's "
    "executemany_fallback attribute instead",
}
POLICY = KeywordPolicy(
    NAME,
    _TEXT | _INT | _BOOL | _BOOL_OR_INT | _OBJECTS | {"autocommit", "ssl_mode"},
    OWNED,
    value_types=(str, int, float, bool),
    any_value=_OBJECTS,
)


def load() -> ModuleType:
    """Import mysqlclient >= 2.2, or raise DriverNotInstalledError naming the extra."""
    module = import_driver("MySQLdb", NAME, "mysqlclient", "mysqlclient")
    require_version(
        getattr(module, "version_info", (0,)),
        MIN_VERSION,
        driver=NAME,
        what="mysqlclient",
        extra="mysqlclient",
        why="older releases cannot enforce verified TLS on MariaDB Connector/C",
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
    """Return ``MySQLdb.connect`` keywords; the token travels only as ``password``.

    Raises:
        ConfigurationError: ``address=``, ``host="localhost"``, a keyword the connector owns or
            does not know, a value of the wrong type, or a weaker ``ssl_mode``.
    """
    if address is not None:
        raise ConfigurationError(
            "address= is not possible with driver='mysqlclient': MariaDB Connector/C verifies "
            "the certificate against the host it dials; use driver='pymysql' for tunnels"
        )
    if host == "localhost":
        raise ConfigurationError(
            "driver='mysqlclient': host='localhost' makes the MySQL C library use a Unix socket "
            "and ignore port=; pass host='127.0.0.1' to use TCP with verified TLS"
        )
    _refuse_disabled_verification()
    extra = {k: v for k, v in POLICY.check(user_kwargs).items() if k in _OBJECTS or _keep(k, v)}
    ssl_mode = extra.pop("ssl_mode", _SSL_MODE[tls.mode])
    if ssl_mode not in _ACCEPTED_SSL_MODES[tls.mode]:
        raise ConfigurationError(
            f"mysqlclient: ssl_mode={ssl_mode!r} would weaken TLS; the connector sets "
            f"ssl_mode={_SSL_MODE[tls.mode]!r} from tls={tls.mode!r} and the CA from ca=; "
            "there is no plaintext mode"
        )
    kwargs = ConnectKwargs(
        host=host,
        port=port,
        user=user,
        password=password,
        # A fresh dict per call: a caller mutating one connect_kwargs() result changes no other.
        ssl={"ca": tls.ca_path},
        ssl_mode=ssl_mode,
    )
    kwargs.update(extra)
    return kwargs


def _refuse_disabled_verification() -> None:
    # Connector/C 3.4+ reads this at every handshake and then skips certificate verification,
    # even with ssl_ca and VERIFY_SERVER_CERT set (3.3 does not read it). The C library sees
    # the process environment, which os.environ mirrors for changes made through it.
    if os.environ.get(DISABLE_VERIFICATION_ENV) is not None:
        raise ConfigurationError(
            f"driver='mysqlclient': the environment variable {DISABLE_VERIFICATION_ENV} is set, "
            "which makes MariaDB Connector/C 3.4+ skip certificate verification and would hand "
            "the IAM token to any server; unset it (TLS is the connector's: ca=, tls=)"
        )


def _keep(name: str, value: Any) -> bool:
    """Check one passed-through value's type; False for a value that means "the default"."""
    if value is None:
        return name == "autocommit"  # None: leave the server's autocommit; elsewhere: default
    if name in _TEXT or name == "ssl_mode":
        return _expect(name, value, isinstance(value, str), "a str")
    if name in _INT:
        ok = type(value) is int and 0 <= value <= _INT_MAX
        return _expect(name, value, ok, f"an int from 0 to {_INT_MAX}")
    if name in _BOOL_OR_INT:
        return _expect(name, value, type(value) in (bool, int), "a bool")
    _expect(name, value, isinstance(value, bool), "a bool")
    # MySQLdb turns compression on for any compress value it is given, False included.
    return name != "compress" or value


def _expect(name: str, value: Any, ok: bool, kind: str) -> bool:
    if not ok:
        raise ConfigurationError(f"mysqlclient: {name}= must be {kind}, got {type(value).__name__}")
    if isinstance(value, str):
        check_text(f"mysqlclient: {name}=", value)
    return True


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``MySQLdb.connections.Connection``."""
    return load().connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """mysqlclient reports a refused login as ``OperationalError(1045, ...)``."""
    mysqldb = sys.modules.get("MySQLdb")
    if mysqldb is None or not isinstance(exc, mysqldb.OperationalError):
        return False
    return bool(exc.args) and exc.args[0] == _mysql.ACCESS_DENIED
