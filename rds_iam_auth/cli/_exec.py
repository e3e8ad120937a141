"""``rds-iam-auth psql``: the real psql, logged in with a fresh token over verified TLS.

The token travels in ``PGPASSWORD`` in psql's environment, never on its command line (where
``ps`` shows it to every user): ``/proc/<pid>/environ`` is readable by the same user and root
only. The connection string sets ``sslmode=verify-full``, ``sslrootcert`` and
``gssencmode=disable``; every other PG* connection variable is removed from psql's environment
and psql's own arguments are allowlisted (see ``_clients``). Then psql replaces this process
(``exec``), so its exit status, Ctrl-C and job control are psql's own.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from . import _clients
from ._common import ca_file, resolve
from ._parser import add_target

if TYPE_CHECKING:
    import argparse

    from ._output import Context

__all__ = ["CLIENT_ENV", "DESCRIPTION", "EPILOG", "HELP", "configure", "conninfo", "run"]

CLIENT_ENV = "RDS_IAM_AUTH_PSQL"
HELP = "run psql logged in with an IAM token over verified TLS"
DESCRIPTION = (
    "Run psql logged in as --username with a fresh IAM token over verified TLS\n"
    "(sslmode=verify-full against the RDS CA bundle). The token goes to psql in its\n"
    "environment (PGPASSWORD), never on its command line. psql's own options go after --;\n"
    "those that pick the server, user, database or TLS are rds-iam-auth's flags instead.\n"
    "The exit status is psql's.\n"
    "\n"
    f"psql is found on PATH; set {CLIENT_ENV} to run another one."
)
EPILOG = """examples:
  rds-iam-auth psql --hostname mydb.abc123.us-east-1.rds.amazonaws.com --username jane \\
      --dbname app -- -c 'select current_user'
  # through an SSH tunnel (ssh -L 15432:mydb...:5432 bastion):
  rds-iam-auth psql --hostname mydb.abc123.us-east-1.rds.amazonaws.com --username jane \\
      --address 127.0.0.1:15432
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's flags."""
    add_target(parser, dbname=True, address=True)


def _quote(value: str) -> str:
    # libpq conninfo: single-quoted, with backslash escapes for ' and \.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(settings: dict[str, str]) -> str:
    """A libpq connection string of ``settings`` (every value quoted)."""
    return " ".join(f"{key}={_quote(value)}" for key, value in settings.items())


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign a token and exec psql with it."""
    target = resolve(args, ctx, engine="postgres")
    endpoint = target.endpoint
    client_args = _clients.check_client_args("psql", args.client_args, _clients.PSQL_OPTIONS)
    client = _clients.find(CLIENT_ENV, ("psql",))
    settings = {"host": endpoint.host, "port": str(endpoint.port)}
    if args.address is not None:
        from .._address import parse_address, resolve_numeric

        dial = parse_address(args.address, endpoint.port)
        # libpq dials hostaddr:port and verifies host's name; the token keeps endpoint.port.
        settings.update(hostaddr=resolve_numeric(dial), port=str(dial.port))
    settings["user"] = target.user
    if args.dbname:
        settings["dbname"] = args.dbname
    settings.update(
        sslmode="verify-full",
        sslrootcert=ca_file(args.ca, endpoint),
        gssencmode="disable",
    )
    token = target.sign(ctx)
    env = _clients.clean_env(os.environ, "postgres")
    env["PGPASSWORD"] = token.value
    # --no-password: a refused token must end the run, not wait at a password prompt.
    argv = [client, f"--dbname={conninfo(settings)}", "--no-password", *client_args]
    return _clients.run(argv, env, cleanup=None)
