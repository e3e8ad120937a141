"""The process-wide default Connector behind ``rds_iam_auth.connect()``."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _fork
from .connector import Connector

if TYPE_CHECKING:
    import aiomysql
    import asyncmy
    import asyncpg
    import MySQLdb.connections
    import psycopg
    import psycopg2.extensions
    import pymysql.connections
    import pymysql.cursors
    from mysql.connector.abstracts import MySQLConnectionAbstract
    from psycopg.rows import TupleRow

__all__ = ["connect", "connect_async"]

_default_lock = threading.Lock()
_default_connector: Connector | None = None


def _reset_default_lock(module: object) -> None:
    global _default_lock  # noqa: PLW0603 - a child forked mid-construction inherits it held
    _default_lock = threading.Lock()


def _get_default() -> Connector:
    global _default_connector  # noqa: PLW0603 - one lazily built process-wide default
    if _default_connector is None:
        with _default_lock:
            if _default_connector is None:
                _default_connector = Connector()
    return _default_connector


@overload
def connect(
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
    host: str,
    user: str,
    *,
    driver: str,
    port: int | None = None,
    region: str | None = None,
    address: str | None = None,
    **driver_kwargs: Any,
) -> Any:
    """Open a connection through a process-wide default :class:`Connector`.

    The default Connector uses the default credential chain and CA resolution; build your own
    Connector to choose a profile, session, CA or clock.
    """
    return _get_default().connect(
        host, user, driver=driver, port=port, region=region, address=address, **driver_kwargs
    )


@overload
async def connect_async(
    host: str,
    user: str,
    *,
    driver: Literal["asyncpg"],
    port: int | None = ...,
    region: str | None = ...,
    address: str | None = ...,
    **driver_kwargs: Any,
) -> asyncpg.Connection: ...


@overload
async def connect_async(
    host: str,
    user: str,
    *,
    driver: Literal["psycopg"],
    port: int | None = ...,
    region: str | None = ...,
    address: str | None = ...,
    **driver_kwargs: Any,
) -> psycopg.AsyncConnection[TupleRow]: ...


@overload
async def connect_async(
    host: str,
    user: str,
    *,
    driver: Literal["aiomysql"],
    port: int | None = ...,
    region: str | None = ...,
    address: str | None = ...,
    **driver_kwargs: Any,
) -> aiomysql.Connection: ...


@overload
async def connect_async(
    host: str,
    user: str,
    *,
    driver: Literal["asyncmy"],
    port: int | None = ...,
    region: str | None = ...,
    address: str | None = ...,
    **driver_kwargs: Any,
) -> asyncmy.Connection: ...


@overload
async def connect_async(
    host: str,
    user: str,
    *,
    driver: str,
    port: int | None = ...,
    region: str | None = ...,
    address: str | None = ...,
    **driver_kwargs: Any,
) -> Any: ...


async def connect_async(
    host: str,
    user: str,
    *,
    driver: str,
    port: int | None = None,
    region: str | None = None,
    address: str | None = None,
    **driver_kwargs: Any,
) -> Any:
    """Open an asyncio connection through the process-wide default :class:`Connector`.

    The same default Connector (and token cache) as :func:`connect`; see
    :meth:`Connector.connect_async` for the drivers.
    """
    return await _get_default().connect_async(
        host, user, driver=driver, port=port, region=region, address=address, **driver_kwargs
    )


_fork.register(sys.modules[__name__], _reset_default_lock)
