"""``rds-iam-auth env``: the variables a client needs, token included, for a shell, a .env
file or a program (sh / dotenv / json)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ._common import ca_file, resolve
from ._parser import add_target

if TYPE_CHECKING:
    import argparse

    from ..token import Token
    from ._common import Target
    from ._output import Context

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "configure", "format_variables", "run", "variables"]

HELP = "print PG*/MYSQL_* variables (token, host, verified TLS) for sh, .env or JSON"
DESCRIPTION = (
    "Print the variables a client needs to log in with an IAM token over verified TLS.\n"
    "\n"
    "postgres: PGHOST PGPORT PGUSER PGPASSWORD PGSSLMODE=verify-full PGSSLROOTCERT\n"
    "  PGGSSENCMODE=disable (a Kerberos ticket would otherwise replace TLS), PGDATABASE\n"
    "  with --dbname, PGHOSTADDR with --address (libpq dials it, verifies PGHOST's name).\n"
    "mysql: MYSQL_HOST MYSQL_TCP_PORT MYSQL_PWD (read by the mysql / mariadb clients),\n"
    "  LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN=1, and MYSQL_USER MYSQL_SSL_CA for your command\n"
    "  line: the clients take TLS settings only as flags, e.g.\n"
    '  mariadb -u "$MYSQL_USER" --ssl-ca="$MYSQL_SSL_CA" --ssl-verify-server-cert\n'
    "\n"
    "The token is valid for 15 minutes (for new logins; open sessions stay). sh output is\n"
    "quoted for any POSIX shell; dotenv values are unquoted when safe, else single-quoted."
)
EPILOG = """examples:
  eval "$(rds-iam-auth env --hostname mydb.abc123.us-east-1.rds.amazonaws.com --username jane)"
  psql -c 'select current_user'

  rds-iam-auth env --hostname H --username jane --format dotenv > .env
  rds-iam-auth env --hostname H --port 3306 --username jane --format json
"""

_DOTENV_BARE = re.compile(r"[A-Za-z0-9_./:?&=%+@,-]*")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's flags."""
    add_target(parser, engine=True, dbname=True, address=True)
    parser.add_argument(
        "--format",
        choices=("sh", "dotenv", "json"),
        default="sh",
        help="sh: export lines for eval / source (default); dotenv: NAME=value; json: an object",
    )


def mysql_dial(target: Target, address: str | None) -> tuple[str, int]:
    """Where a MySQL client dials: the endpoint, or ``--address`` when only the port differs.

    MySQL clients verify the name they dial; they cannot dial one host and verify another.

    Raises:
        ConfigurationError: ``--address`` names another host.
    """
    endpoint = target.endpoint
    if address is None:
        return endpoint.host, endpoint.port
    from .._address import parse_address

    dial = parse_address(address, endpoint.port)
    if dial.host.rstrip(".").lower() != endpoint.key_host:
        raise ConfigurationError(
            "--address with another host is not possible for MySQL clients: they verify the "
            "name they dial. Map the endpoint's name to the tunnel (e.g. in /etc/hosts) and "
            f"pass --address {endpoint.host}:<local port>, or use postgres / the library"
        )
    return endpoint.host, dial.port


def variables(
    target: Target, token: Token, ca_path: str, dbname: str | None, address: str | None
) -> dict[str, str]:
    """The variables for ``target``'s engine, in the order they are printed."""
    endpoint = target.endpoint
    if target.engine == "mysql":
        host, port = mysql_dial(target, address)
        found = {
            "MYSQL_HOST": host,
            "MYSQL_TCP_PORT": str(port),
            "MYSQL_USER": target.user,
            "MYSQL_PWD": token.value,
            "MYSQL_SSL_CA": ca_path,
            "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN": "1",
        }
        if dbname:
            found["MYSQL_DATABASE"] = dbname
        return found
    found = {
        "PGHOST": endpoint.host,
        "PGPORT": str(endpoint.port),
        "PGUSER": target.user,
        "PGPASSWORD": token.value,
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": ca_path,
        "PGGSSENCMODE": "disable",
    }
    if dbname:
        found["PGDATABASE"] = dbname
    if address is not None:
        from .._address import parse_address, resolve_numeric

        dial = parse_address(address, endpoint.port)
        found["PGHOSTADDR"] = resolve_numeric(dial)
        found["PGPORT"] = str(dial.port)  # libpq dials PGHOSTADDR:PGPORT; the token keeps its own
    return found


def _sh_quote(value: str) -> str:
    # Single quotes keep everything literal in every POSIX shell; a single quote itself is
    # closed, escaped and reopened. Always quoted: the token has & and ?, which sh would act on.
    return "'" + value.replace("'", "'\\''") + "'"


def _dotenv_value(name: str, value: str) -> str:
    if _DOTENV_BARE.fullmatch(value):
        return value
    if "'" in value or "\n" in value or "\r" in value:
        raise ConfigurationError(
            f"{name} contains a quote or a line break, which .env files cannot carry portably; "
            "use --format sh or --format json"
        )
    return f"'{value}'"


def format_variables(found: dict[str, str], style: str, comment: str) -> str:
    """``found`` as sh ``export`` lines, ``.env`` lines or a JSON object.

    Raises:
        ConfigurationError: A value cannot be written in that style.
    """
    if style == "json":
        return json.dumps(found, indent=2) + "\n"
    lines = [f"# {comment}"]
    if style == "sh":
        lines += [f"export {name}={_sh_quote(value)}" for name, value in found.items()]
    else:
        lines += [f"{name}={_dotenv_value(name, value)}" for name, value in found.items()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign a token and print the variables."""
    target = resolve(args, ctx)
    ca_path = ca_file(args.ca, target.endpoint)
    if target.engine == "mysql":
        mysql_dial(target, args.address)  # refuse before signing
    token = target.sign(ctx)
    found = variables(target, token, ca_path, args.dbname, args.address)
    expires = token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    comment = (
        f"rds-iam-auth env: IAM token for {target.user} at {target.endpoint.host}:"
        f"{target.endpoint.port}, valid for new logins until {expires}"
    )
    text = format_variables(found, args.format, comment)
    ctx.out.write(text)
    ctx.out.flush()
    if target.engine == "mysql" and args.format == "sh":
        ctx.status(
            'mysql clients take TLS only as flags: mariadb -u "$MYSQL_USER" '
            '--ssl-ca="$MYSQL_SSL_CA" --ssl-verify-server-cert (MySQL 8: --ssl-mode='
            "VERIFY_IDENTITY) --enable-cleartext-plugin"
        )
    return 0
