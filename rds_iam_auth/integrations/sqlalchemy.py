"""SQLAlchemy 2.x: every new pooled connection logs in with a current IAM token.

For engines built in code, ``install()``; for tools configured only by a URL (Alembic,
Airflow, MLflow, Superset), the plugin, which does the same from ``?plugin=rds_iam``::

    import sqlalchemy as sa
    from rds_iam_auth.integrations.sqlalchemy import install

    engine = sa.create_engine("postgresql+psycopg://jane@mydb.abc.us-east-1.rds.amazonaws.com/app")
    install(engine)

    engine = sa.create_engine(
        "postgresql+psycopg://jane@mydb.abc.us-east-1.rds.amazonaws.com/app?plugin=rds_iam"
    )

How: a ``do_connect`` listener receives the per-connection copy of the connect parameters
SQLAlchemy built from the URL (host, port, user, database, query options) and
``connect_args``, and hands them to the :class:`~rds_iam_auth.Connector`, so the driver
keywords meet the connector's keyword policy and the token and TLS settings are the
connector's. A password in the URL or in ``connect_args`` is refused: the token is the
password.

- Sync dialects: SQLAlchemy's ``Dialect.connect()`` is ``dbapi.connect(**cparams)`` for every
  dialect here, so the listener returns ``Connector.connect(...)`` with those parameters. The
  login is then the connector's own: a refused token is dropped and retried once, pg8000 does
  not keep the token, and mysql.connector connects through the connector's verifying context
  (``mysql.connector.connect()`` would build its own, which also trusts ``SSL_CERT_FILE``).
  No frame of SQLAlchemy's holds the token either.
- Async dialects (asyncpg, psycopg, aiomysql, asyncmy): their ``connect()`` runs in SQLAlchemy's
  greenlet on the event-loop thread and awaits ``cparams.pop("async_creator_fn",
  driver.connect)(**cparams)``. The listener sets ``async_creator_fn`` to a coroutine function
  that awaits ``Connector.connect_async()``: a cache hit stays on the loop, signing runs in a
  worker thread, nothing blocks the loop, and the dialect wraps the connection as usual.

Register other ``do_connect`` listeners before ``install()``: the first listener that returns a
connection ends the chain.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..connector import Connector
from ..errors import ConfigurationError
from ._sqlalchemy_plugin import LOGIN_IN_URL, URL_OPTIONS, RdsIamPlugin, url_options

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Dialect
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["URL_OPTIONS", "RdsIamPlugin", "install", "url_options"]

# (dialect family, SQLAlchemy driver name) -> our driver=. psycopg serves sync and async.
_DRIVERS: Mapping[tuple[str, str], str] = {
    ("postgresql", "psycopg"): "psycopg",
    ("postgresql", "psycopg2"): "psycopg2",
    ("postgresql", "pg8000"): "pg8000",
    ("postgresql", "asyncpg"): "asyncpg",
    ("mysql", "pymysql"): "pymysql",
    ("mysql", "mysqlconnector"): "mysql.connector",
    ("mysql", "mysqldb"): "mysqlclient",
    ("mysql", "aiomysql"): "aiomysql",
    ("mysql", "asyncmy"): "asyncmy",
}
# Keywords an async dialect's connect() takes out of cparams before calling the driver
# (asyncpg's statement cache settings; async_fallback in SQLAlchemy 2.0).
_DIALECT_OWN = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback")
# Arguments of Connector.connect() that a URL query or connect_args must not collide with.
_OURS = ("driver", "region", "address")

_installed: weakref.WeakSet[Dialect] = weakref.WeakSet()
_installed_lock = threading.Lock()


def install(
    engine: Any,
    connector: Connector | None = None,
    *,
    region: str | None = None,
    address: str | None = None,
    ca: str | None = None,
    tls: str | None = None,
    profile: str | None = None,
) -> Connector:
    """Make every new connection of ``engine`` log in with a current IAM token.

    The URL names the endpoint and user as usual (``postgresql+psycopg://jane@host/app``,
    ``mysql+pymysql://jane@host/app``, ``postgresql+asyncpg://...``), without a password.
    What the URL says is checked now; ``connect_args``, which SQLAlchemy keeps to itself, at
    each new connection. An engine built with ``creator=`` or ``async_creator=`` never runs
    ``do_connect``: use those or this, not both.

    Args:
        engine: A ``sqlalchemy.Engine`` or ``AsyncEngine`` (psycopg, psycopg2, pg8000, asyncpg,
            PyMySQL, mysql.connector, mysqlclient, aiomysql or asyncmy dialect).
        connector: The Connector to use; default a new one built from ``ca``, ``tls`` and
            ``profile``.
        region: Signing region, as ``Connector.connect(region=)``: for hosts that do not
            name one (IP, CNAME).
        address: Dial this ``host:port`` (tunnel, port-forward) while the token is signed for,
            and TLS verifies, the URL's host.
        ca: CA bundle for a new Connector (a path, ``"certifi"`` or ``"system"``).
        tls: ``"verify-full"`` (default) or ``"verify-ca"``, for a new Connector.
        profile: AWS profile for a new Connector.

    Returns:
        The Connector in use (its ``stats`` count signings and cache hits).

    Raises:
        ConfigurationError: Not an engine, an unsupported dialect, a password in the URL,
            connector options next to ``connector=``, already installed, or a URL option the
            driver does not take.
        DriverNotInstalledError: The dialect's driver is missing.
    """
    sync_engine = getattr(engine, "sync_engine", engine)
    if not isinstance(sync_engine, Engine):
        raise ConfigurationError(
            f"install() takes a SQLAlchemy Engine or AsyncEngine, not {type(engine).__name__}"
        )
    dialect = sync_engine.dialect
    driver = _driver_for(dialect)
    if sync_engine.url.password is not None:
        raise ConfigurationError(LOGIN_IN_URL)
    connector = _connector(connector, {"ca": ca, "tls": tls, "profile": profile})
    where = {"region": region, "address": address}
    if sync_engine.url.host is not None:  # else connect_args name it: checked at connect time
        _check_url(connector, driver, dialect, sync_engine.url, where)
    if dialect.is_async:
        listener = _async_listener(connector, driver, where)
    else:
        listener = _sync_listener(connector, driver, where)
    with _installed_lock:
        if dialect in _installed:
            raise ConfigurationError(
                "rds_iam_auth is already installed on this engine (by install() or "
                "?plugin=rds_iam); install it once"
            )
        _installed.add(dialect)
    event.listen(sync_engine, "do_connect", listener)
    return connector


def _check_url(
    connector: Connector, driver: str, dialect: Dialect, url: URL, where: dict[str, Any]
) -> None:
    """The URL's part of the connect parameters, checked now rather than at the pool's first
    connection (the creator is built for its checks and dropped)."""
    cargs, cparams = dialect.create_connect_args(url)
    host, user, port, kwargs = _split(cargs, cparams)
    if dialect.is_async:
        for key in _DIALECT_OWN:
            kwargs.pop(key, None)
        connector.async_creator(host, user, driver=driver, port=port, **where, **kwargs)
    else:
        connector.creator(host, user, driver=driver, port=port, **where, **kwargs)


def _driver_for(dialect: Dialect) -> str:
    family = "mysql" if dialect.name == "mariadb" else dialect.name
    driver = _DRIVERS.get((family, dialect.driver))
    if driver is None:
        known = ", ".join(f"{family}+{name}" for family, name in _DRIVERS)
        raise ConfigurationError(
            f"rds_iam_auth does not support the SQLAlchemy dialect "
            f"{dialect.name}+{dialect.driver}; use one of {known}"
        )
    return driver


def _connector(connector: Connector | None, options: dict[str, str | None]) -> Connector:
    given = {name: value for name, value in options.items() if value is not None}
    if connector is None:
        return Connector(
            ca=options["ca"], tls=options["tls"] or "verify-full", profile=options["profile"]
        )
    if not isinstance(connector, Connector):
        raise ConfigurationError(
            f"connector must be a rds_iam_auth.Connector, not {type(connector).__name__}"
        )
    if given:
        names = ", ".join(f"{name}=" for name in given)
        raise ConfigurationError(
            f"{names} configure a new Connector; with connector= given, set them on it: "
            f"Connector({', '.join(f'{name}=...' for name in given)})"
        )
    return connector


def _split(cargs: Any, cparams: Mapping[str, Any]) -> tuple[str, str, Any, dict[str, Any]]:
    """SQLAlchemy's connect arguments as (host, user, port, driver keywords)."""
    # The psycopg dialects pass an empty conninfo string when the URL names no host.
    if any(arg != "" for arg in cargs):
        raise ConfigurationError("rds_iam_auth takes keyword connect arguments only")
    params = dict(cparams)
    if "password" in params or "passwd" in params:
        raise ConfigurationError(LOGIN_IN_URL)
    for name in _OURS:
        if name in params:
            option = f"rds_iam_{name}=" if name != "driver" else "the dialect (mysql+pymysql://)"
            raise ConfigurationError(
                f"{name}= in the URL query or connect_args is not a driver option; use {option}"
            )
    host = params.pop("host", None)
    user = params.pop("user", None)
    port = params.pop("port", None)
    if not isinstance(host, str) or not host or "," in host:
        raise ConfigurationError(
            "the database URL must name one host, the RDS endpoint the token is signed for "
            "(postgresql+psycopg://jane@mydb.abc.us-east-1.rds.amazonaws.com/app); for a "
            "tunnel or port-forward keep it and add address= (rds_iam_address=)"
        )
    if not isinstance(user, str) or not user:
        raise ConfigurationError(
            "the database URL must name the database user (postgresql+psycopg://jane@host/app)"
        )
    if isinstance(port, str) and port.isdigit():
        port = int(port)  # a ?port= query value
    return host, user, port, params


def _sync_listener(connector: Connector, driver: str, where: dict[str, Any]) -> Any:
    def do_connect(
        dialect: Dialect,
        record: ConnectionPoolEntry | None,
        cargs: list[Any],
        cparams: dict[str, Any],
    ) -> Any:
        host, user, port, kwargs = _split(cargs, cparams)
        return connector.connect(host, user, driver=driver, port=port, **where, **kwargs)

    return do_connect


def _async_listener(connector: Connector, driver: str, where: dict[str, Any]) -> Any:
    async def create(*cargs: Any, **cparams: Any) -> Any:
        host, user, port, kwargs = _split(cargs, cparams)
        return await connector.connect_async(
            host, user, driver=driver, port=port, **where, **kwargs
        )

    def do_connect(
        dialect: Dialect,
        record: ConnectionPoolEntry | None,
        cargs: list[Any],
        cparams: dict[str, Any],
    ) -> None:
        cparams["async_creator_fn"] = create  # the dialect awaits it with the other cparams

    return do_connect
