"""``manage.py dbshell`` for the PostgreSQL backend: ``psql`` with a current IAM token.

Django's client (``django/db/backends/postgresql/client.py``, the same in 5.2 and 6.x) passes
``PGPASSWORD``, ``PGSSLMODE`` and ``PGSSLROOTCERT`` in the environment and merges them into the
caller's, so a ``PGSERVICE`` (whose service file libpq applies before the environment), or
``PGHOSTADDR`` / ``PGGSSENCMODE`` left in the shell, could send the token elsewhere or
replace TLS. Here:

- the token is ``PGPASSWORD`` in psql's environment, never on its command line (``ps`` shows
  the command line to every user);
- everything else is one conninfo string on the command line, built from the Connector's own
  libpq keywords: ``host`` / ``hostaddr`` / ``port`` / ``user`` / ``dbname``,
  ``sslmode=verify-full`` (or verify-ca), ``sslrootcert``, ``gssencmode=disable`` and
  ``ssl_min_protocol_version``; explicit conninfo values win over any environment variable
  or service file;
- psql runs without the caller's ``PG*`` variables, so no service file is read at all. Keys
  the Connector pins to ``""`` (meaning "unset") are left out: psql's libpq may be older than
  the driver's and not know them (``sslkeylogfile``, libpq 18), and with no ``PG*`` variable
  and no service nothing can set them. psql 13 or newer is needed (``ssl_min_protocol_version``).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.backends.postgresql import client as _django
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from .._options import OURS, parse

__all__ = ["DatabaseClient", "conninfo"]

_DRIVER = "psycopg" if is_psycopg3 else "psycopg2"
# OPTIONS that are Django's or Python objects for the driver, not libpq options for psql.
_NOT_FOR_PSQL = frozenset(
    {
        "pool",
        "isolation_level",
        "assume_role",
        "server_side_binding",
        "autocommit",
        "prepare_threshold",
        "context",
        "row_factory",
        "cursor_factory",
        "connection_factory",
    }
)


def _quote(value: object) -> str:
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(kwargs: Mapping[str, Any]) -> str:
    """A libpq conninfo string of ``kwargs`` without the password and without empty values."""
    return " ".join(
        f"{key}={_quote(value)}"
        for key, value in kwargs.items()
        if key != "password" and key not in _NOT_FOR_PSQL and value not in ("", None)
    )


class DatabaseClient(_django.DatabaseClient):  # type: ignore[misc]  # Django ships no types
    """Starts ``psql`` with a current token in its environment and verified TLS."""

    @classmethod
    def settings_to_cmd_args_env(
        cls, settings_dict: Mapping[str, Any], parameters: Iterable[str]
    ) -> tuple[list[str], dict[str, str]]:
        """psql's arguments (no secret in them) and ``{"PGPASSWORD": <token>}``.

        Run them with :meth:`runshell`, which also removes the caller's ``PG*`` variables.
        """
        target = parse(settings_dict, driver=_DRIVER, alias=None)
        options = settings_dict.get("OPTIONS") or {}
        libpq = {k: v for k, v in options.items() if k not in OURS and k not in _NOT_FOR_PSQL}
        kwargs = target.connect_kwargs({"dbname": settings_dict.get("NAME") or "postgres", **libpq})
        args = [cls.executable_name, *parameters, conninfo(kwargs)]
        return args, {"PGPASSWORD": str(kwargs["password"])}

    def runshell(self, parameters: Iterable[str]) -> None:
        """Run psql; Ctrl-C goes to psql (it cancels the query), as with Django's client."""
        args, env = self.settings_to_cmd_args_env(self.connection.settings_dict, parameters)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        sigint_handler = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            subprocess.run(args, env={**environ, **env}, check=True)
        finally:
            signal.signal(signal.SIGINT, sigint_handler)
