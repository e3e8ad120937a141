"""``doctor``'s one login: through the library's own driver adapter (the same keywords an
application gets), no retry, then the server's clock; a refusal is classified by what the
server said, which tells an IAM user whose token was refused from a user that is not set up
for IAM at all."""

from __future__ import annotations

import importlib.util
import re
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, DriverNotInstalledError
from ._output import redact

if TYPE_CHECKING:
    from ._common import Target
    from ._output import Context

__all__ = ["DRIVERS", "login"]

# engine -> (driver, its keyword for the database), first installed one wins.
DRIVERS = {
    "postgres": (("psycopg", "dbname"), ("pg8000", "database"), ("psycopg2", "dbname")),
    "mysql": (
        ("pymysql", "database"),
        ("mysql.connector", "database"),
        ("mysqlclient", "database"),
    ),
}
_MODULES = {
    "psycopg": "psycopg",
    "pg8000": "pg8000",
    "psycopg2": "psycopg2",
    "pymysql": "pymysql",
    "mysql.connector": "mysql.connector",
    "mysqlclient": "MySQLdb",
}
_CONNECT_TIMEOUT_S = 10
_SERVER_TIME = {
    "postgres": "SELECT extract(epoch FROM clock_timestamp())",
    "mysql": "SELECT UNIX_TIMESTAMP(NOW(6))",
}
# What the server said -> what it means. PostgreSQL on RDS answers a user outside rds_iam with
# password (not PAM) authentication; the emulator, like a server without that pg_hba line,
# with "no pg_hba.conf entry".
_PG_VERDICTS = (
    ("PAM authentication failed", "token-refused"),
    ("password authentication failed", "not-iam-user"),
    ("no pg_hba.conf entry", "not-iam-user"),
    ("role .* does not exist", "not-iam-user"),
    ("database .* does not exist", "no-database"),
    ("permission denied for database", "no-database"),
)
_MYSQL_VERDICTS = {
    1045: "token-refused",
    1044: "no-database",
    1049: "no-database",
    1251: "cleartext",
    2059: "cleartext",
    3159: "tls",
}


def _driver(engine: str, chosen: str | None) -> tuple[str, str]:
    options = DRIVERS[engine]
    if chosen is not None:
        for name, db_key in options:
            if name == chosen:
                return name, db_key
        names = ", ".join(name for name, _ in options)
        raise ConfigurationError(f"--driver {chosen!r} is not a {engine} driver: use {names}")
    for name, db_key in options:
        if importlib.util.find_spec(_MODULES[name].split(".")[0]) is not None:
            return name, db_key
    raise DriverNotInstalledError(
        f"no {engine} driver is installed for the login test: pip install "
        f"'rds-iam-auth[{'psycopg' if engine == 'postgres' else 'pymysql'}]'"
    )


def _verdict(engine: str, exc: BaseException, refused: bool) -> str:
    if engine == "mysql":
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        errno = getattr(exc, "errno", None)
        return _MYSQL_VERDICTS.get(code if code is not None else errno or 0, "failed")
    text = str(exc)
    for pattern, verdict in _PG_VERDICTS:
        if re.search(pattern, text):
            return verdict
    return "token-refused" if refused else "failed"


def login(
    target: Target,
    ctx: Context,
    *,
    ca_path: str,
    address: str | None,
    dbname: str | None,
    driver: str | None,
) -> dict[str, Any]:
    """Log in once; the facts: status (ok / refused / failed), verdict, driver, message,
    the server's clock (epoch seconds) after a successful login."""
    from ..connector import Connector
    from ..drivers import get_adapter
    from ..signer import SigV4Signer

    name, db_key = _driver(target.engine, driver)
    facts: dict[str, Any] = {"driver": name, "status": "failed", "verdict": None}
    facts.update(message=None, server_time=None, local_time=None)
    endpoint = target.endpoint
    extra: dict[str, Any] = {"connect_timeout": _CONNECT_TIMEOUT_S}
    if dbname:
        extra[db_key] = dbname
    connector = Connector(signer=SigV4Signer(target.source), ca=ca_path, clock=ctx.clock)
    kwargs = connector.connect_kwargs(
        endpoint.host,
        target.user,
        driver=name,
        port=endpoint.port,
        region=endpoint.region,
        address=address,
        **extra,
    )
    token = str(kwargs.get("password") or kwargs.get("passwd") or "")
    adapter = get_adapter(name)
    failure: BaseException | None = None
    try:
        conn = adapter.connect(kwargs)
    except Exception as exc:
        failure = exc
    finally:
        kwargs.clear()
    if failure is not None:
        refused = adapter.is_auth_refused(failure)
        facts.update(
            status="refused" if refused else "failed",
            verdict=_verdict(target.engine, failure, refused),
            message=redact(" ".join(str(failure).split()), token) or type(failure).__name__,
        )
        return facts
    try:
        cursor = conn.cursor()
        cursor.execute(_SERVER_TIME[target.engine])
        row = cursor.fetchone()
        facts["local_time"] = ctx.clock()
        facts["server_time"] = float(row[0]) if row and row[0] is not None else None
    except Exception as exc:
        facts["message"] = f"logged in, but reading the server's clock failed: {type(exc).__name__}"
    finally:
        conn.close()
    facts.update(status="ok", verdict="ok")
    return facts
