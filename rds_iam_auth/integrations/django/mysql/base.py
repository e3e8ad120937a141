"""Django's MySQL ``DatabaseWrapper`` (mysqlclient), logging in with IAM tokens.

Checked against Django 5.2 and 6.0/6.1 (``django/db/backends/mysql/base.py``):
``get_connection_params()`` builds mysqlclient's keywords (``conv``, ``charset``,
``client_flag``, ``database``, ``host``, ``port``, ``user``, then every OPTIONS key but
``isolation_level``) for each new connection, and ``get_new_connection(params)`` calls the
module-level ``MySQLdb.connect(**params)``. We remove our OPTIONS from those parameters and
open the connection with :meth:`Connector.connect`: the driver's keyword allowlist applies
(``ssl``, ``read_default_file`` and friends are refused, TLS is ``ssl_mode=VERIFY_IDENTITY``
with the CA from ``OPTIONS["ca"]``), a current token is the password and a refused token is
retried once. Django 5.2's ``get_new_connection`` also dropped a ``bytes`` encoder that
mysqlclient releases before 2.1 registered; our floor is 2.2 (Django 6 removed it too).
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.mysql import base as _django
from django.utils.asyncio import async_unsafe

from .._options import OURS, Target, parse
from .client import DatabaseClient

__all__ = ["DatabaseWrapper"]

DRIVER = "mysqlclient"


class DatabaseWrapper(_django.DatabaseWrapper):  # type: ignore[misc]  # Django ships no types
    """MySQL / MariaDB through mysqlclient, with an IAM token for every new connection."""

    client_class = DatabaseClient

    def __init__(self, settings_dict: dict[str, Any], alias: str = DEFAULT_DB_ALIAS) -> None:
        super().__init__(settings_dict, alias)
        # Checked now, so that a bad entry fails when Django first touches the alias.
        self.rds_iam: Target = parse(settings_dict, driver=DRIVER, alias=alias, mysql=True)

    def get_connection_params(self) -> dict[str, Any]:
        """Django's parameters without our OPTIONS; the token is added per connection."""
        params: dict[str, Any] = super().get_connection_params()
        return {k: v for k, v in params.items() if k not in OURS}

    @async_unsafe  # type: ignore[untyped-decorator]
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        """Open a connection through the Connector."""
        return self.rds_iam.connect(conn_params)
