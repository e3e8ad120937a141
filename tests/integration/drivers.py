"""Per-driver facts the integration tests need, written down independently of the adapters.

Each profile says which server the driver talks to, how it names the database keyword, what it
raises when a connection fails, and how it reports a refused IAM login (measured on the
emulator; the adapters are tested against these, so they are not derived from the adapters).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _errors(*paths: str) -> Callable[[], tuple[type[BaseException], ...]]:
    def load() -> tuple[type[BaseException], ...]:
        found = []
        for path in paths:
            module, _, name = path.rpartition(".")
            found.append(getattr(importlib.import_module(module), name))
        return tuple(found)

    return load


def _pam(exc: BaseException) -> bool:
    return "PAM authentication failed for user" in str(exc)


def _errno_1045(exc: BaseException) -> bool:
    return bool(getattr(exc, "args", ())) and exc.args[0] == 1045


def _mysql_connector_1045(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == 1045


def _pg8000_28000(exc: BaseException) -> bool:
    args = getattr(exc, "args", ())
    return bool(args) and isinstance(args[0], dict) and args[0].get("C") == "28000"


@dataclass(frozen=True)
class Profile:
    """How one driver behaves, for the tests."""

    driver: str
    engine: str  # "postgres" or "mariadb": which emulator server
    db_key: str  # the driver's keyword for the database name
    connection_errors: Callable[[], tuple[type[BaseException], ...]]
    refused: Callable[[BaseException], bool]
    refused_type: str  # dotted name of the class a refused login raises
    weakening: dict[str, Any] = field(default_factory=dict)  # a keyword that would weaken TLS
    sqlalchemy_url: str = ""
    supports_address: bool = True

    def refused_class(self) -> type[BaseException]:
        """The driver's class for a refused login."""
        return _errors(self.refused_type)()[0]


PROFILES: dict[str, Profile] = {
    p.driver: p
    for p in (
        Profile(
            "psycopg",
            "postgres",
            "dbname",
            _errors("psycopg.OperationalError"),
            _pam,
            "psycopg.OperationalError",
            {"sslmode": "disable"},
            "postgresql+psycopg://",
        ),
        Profile(
            "pymysql",
            "mariadb",
            "database",
            _errors("pymysql.err.OperationalError"),
            _errno_1045,
            "pymysql.err.OperationalError",
            {"ssl_disabled": True},
            "mysql+pymysql://",
        ),
        Profile(
            "psycopg2",
            "postgres",
            "dbname",
            _errors("psycopg2.OperationalError"),
            _pam,
            "psycopg2.OperationalError",
            {"sslmode": "disable"},
            "postgresql+psycopg2://",
        ),
        Profile(
            "pg8000",
            "postgres",
            "database",
            _errors(
                "pg8000.exceptions.InterfaceError",
                "pg8000.exceptions.DatabaseError",
                "ssl.SSLError",
            ),
            _pg8000_28000,
            "pg8000.exceptions.DatabaseError",
            {"ssl_context": None},
            "postgresql+pg8000://",
        ),
        Profile(
            "mysql.connector",
            "mariadb",
            "database",
            _errors("mysql.connector.errors.Error"),
            _mysql_connector_1045,
            "mysql.connector.errors.ProgrammingError",
            {"ssl_disabled": True},
            "mysql+mysqlconnector://",
        ),
        Profile(
            "mysqlclient",
            "mariadb",
            "database",
            _errors("MySQLdb.OperationalError"),
            _errno_1045,
            "MySQLdb.OperationalError",
            {"ssl_mode": "DISABLED"},
            "mysql+mysqldb://",
            supports_address=False,
        ),
    )
}


def whoami(conn: Any, engine: str) -> tuple[str, str]:
    """(current user, TLS version or cipher) of an open connection; fails if not encrypted."""
    cur = conn.cursor()
    if engine == "postgres":
        cur.execute(
            "SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        user, ssl_on, version = cur.fetchone()
        assert ssl_on is True
        return str(user), str(version)
    cur.execute("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)")
    (user,) = cur.fetchone()
    cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    _, cipher = cur.fetchone()
    if isinstance(user, bytes):
        user = user.decode()
    if isinstance(cipher, bytes):
        cipher = cipher.decode()
    assert cipher, "the session is not encrypted"
    return str(user), str(cipher)
