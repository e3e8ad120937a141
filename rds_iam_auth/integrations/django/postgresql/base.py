"""Django's PostgreSQL ``DatabaseWrapper``, logging in with IAM tokens.

Checked against Django 5.2 and 6.0/6.1 (``django/db/backends/postgresql/base.py``):

- ``connect()`` calls ``get_connection_params()`` for every new connection, then
  ``get_new_connection(params)``, which calls ``self.Database.connect(**params)`` (or takes a
  connection from the pool). Django picks psycopg 3 if it is installed, else psycopg2
  (``psycopg_any.is_psycopg3``); so do we.
- ``OPTIONS["pool"]``: the ``pool`` property builds ``ConnectionPool(kwargs=
  get_connection_params(), open=False, ...)`` once per alias, so a token placed in those
  parameters would be frozen into the pool for good (6.1 also changed how it passes
  ``check``). We let Django build its pool as it always does, from parameters that hold no
  token, and before anything opens it replace the pool's ``kwargs`` with a callable that
  returns the same parameters plus a current token: psycopg_pool 3.3+ calls it for every
  connection it opens (``ConnectionPool._resolve_kwargs``).

Without a pool the connection is opened by :meth:`Connector.connect` (a refused token is
retried once with a fresh one): the instance's ``Database`` is the driver module with
``connect`` going through the Connector, so the rest of Django's ``get_new_connection``
(isolation level, psycopg2's JSONB loader) runs unchanged. With a pool, psycopg_pool opens
the connections and retries failed attempts itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.postgresql import base as _django
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from ...psycopg_pool import pool_kwargs
from .._options import OURS, Target, parse
from .client import DatabaseClient

__all__ = ["DatabaseWrapper"]

DRIVER = "psycopg" if is_psycopg3 else "psycopg2"


class _Driver:
    """The DB-API module as Django sees it, whose ``connect`` goes through the Connector."""

    def __init__(self, module: Any, connect: Callable[..., Any]) -> None:
        self._module = module
        self.connect = connect

    def __getattr__(self, name: str) -> Any:
        # Error classes, Binary, __version__, ...: Django maps driver errors by these names.
        return getattr(self._module, name)

    def __repr__(self) -> str:
        return f"<{self._module.__name__} through rds_iam_auth>"


class DatabaseWrapper(_django.DatabaseWrapper):  # type: ignore[misc]  # Django ships no types
    """PostgreSQL through psycopg 3 or psycopg2, with an IAM token for every new connection."""

    client_class = DatabaseClient

    def __init__(self, settings_dict: dict[str, Any], alias: str = DEFAULT_DB_ALIAS) -> None:
        super().__init__(settings_dict, alias)
        # Checked now, so that a bad entry fails when Django first touches the alias.
        self.rds_iam: Target = parse(settings_dict, driver=DRIVER, alias=alias)
        self.Database = _Driver(_django.Database, self._connect)

    def _connect(self, **params: Any) -> Any:
        return self.rds_iam.connect(params)

    def get_connection_params(self) -> dict[str, Any]:
        """Django's parameters without our OPTIONS; the token is added per connection."""
        params: dict[str, Any] = super().get_connection_params()
        return {k: v for k, v in params.items() if k not in OURS}

    @property
    def pool(self) -> Any:
        """Django's pool for this alias, asking the Connector for each new connection."""
        pool = super().pool
        # Django always hands the pool a dict: a callable is ours, put there before.
        if pool is not None and not callable(pool.kwargs):
            target = self.rds_iam
            pool.kwargs = pool_kwargs(
                target.connector,
                target.host,
                target.user,
                port=target.port,
                address=target.address,
                **target.driver_kwargs(pool.kwargs or {}),
            )
        return pool
