"""``Connector.connect()`` and ``creator()``, typed by driver name.

``typing.overload`` on ``driver=`` gives callers the driver's own connection type (psycopg's
``Connection``, PyMySQL's, psycopg2's ``connection``, ...) instead of ``Any``; pg8000 ships no
types, so it stays ``Any``. The overloads live in this mixin so that ``connector.py`` stays
small; the implementation is the one login flow in ``_login.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from ._login import build, login
from .errors import ConfigurationError
from .token import Token

if TYPE_CHECKING:
    import MySQLdb.connections
    import psycopg
    import psycopg2.extensions
    import pymysql.connections
    import pymysql.cursors
    from mysql.connector.abstracts import MySQLConnectionAbstract
    from psycopg.rows import TupleRow

    from ._targets import Targets
    from .cache import TokenCache

__all__ = ["DriverConnect"]

_EPOCH = datetime.fromtimestamp(0).astimezone()
PLACEHOLDER = Token("", "", 0, "", "", _EPOCH, _EPOCH)
"""A token for building kwargs only to check them (never sent)."""


class DriverConnect:
    """The connecting half of :class:`~rds_iam_auth.Connector`."""

    _targets: Targets
    _cache: TokenCache

    def _count_retry(self) -> None:
        raise NotImplementedError  # pragma: no cover - Connector implements it

    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["psycopg"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> psycopg.Connection[TupleRow]: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["pymysql"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> pymysql.connections.Connection[pymysql.cursors.Cursor]: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["psycopg2"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> psycopg2.extensions.connection: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["pg8000"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Any: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["mysql.connector"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> MySQLConnectionAbstract: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["mysqlclient"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> MySQLdb.connections.Connection: ...
    @overload
    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Any: ...

    def connect(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        address: str | None = None,
        **driver_kwargs: Any,
    ) -> Any:
        """Open a DB-API connection with ``driver`` (``"psycopg"``, ``"pymysql"``, ...).

        If the server refuses the cached token, it is dropped and the login retried once
        with a fresh one; a second refusal raises the driver's own exception, with notes
        saying what was signed and the likely causes.
        """
        target = self._targets.target(host, user, driver, (port, region, address))
        self._targets.check_open()
        return login(self._cache, target, driver_kwargs, self._count_retry)

    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["psycopg"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], psycopg.Connection[TupleRow]]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["pymysql"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], pymysql.connections.Connection[pymysql.cursors.Cursor]]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["psycopg2"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], psycopg2.extensions.connection]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["pg8000"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], Any]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["mysql.connector"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], MySQLConnectionAbstract]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: Literal["mysqlclient"],
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], MySQLdb.connections.Connection]: ...
    @overload
    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = ...,
        region: str | None = ...,
        address: str | None = ...,
        **driver_kwargs: Any,
    ) -> Callable[[], Any]: ...

    def creator(
        self,
        host: str,
        user: str,
        *,
        driver: str,
        port: int | None = None,
        region: str | None = None,
        address: str | None = None,
        **driver_kwargs: Any,
    ) -> Callable[[], Any]:
        """Return a zero-argument callable that opens a connection: for pools and ORMs.

        Everything is checked now (arguments, driver keywords, that the driver is installed);
        each call reuses the cached token until it is due for refresh, e.g.
        ``create_engine("postgresql+psycopg://", creator=c.creator(...))``.
        """
        target = self._targets.target(host, user, driver, (port, region, address))
        kwargs = dict(driver_kwargs)
        target.adapter.load()
        if not target.adapter.SYNC:
            raise ConfigurationError(
                f"driver={driver!r} is asynchronous: use async_creator() for an async pool"
            )
        # A placeholder token, so bad driver keywords fail here, not in the pool.
        build(target, PLACEHOLDER, kwargs)

        def create() -> Any:
            self._targets.check_open()
            return login(self._cache, target, kwargs, self._count_retry)

        return create
