"""``rds-iam-auth token``: the token on one line, as ``aws rds generate-db-auth-token`` prints it.

Same flags (``--hostname --port --username``, ``--region``, ``--profile``) and the same bytes
for the same second, credentials and region; with env keys or a profile's static keys it
imports neither botocore nor a driver, so it starts in a fraction of the AWS CLI's time.
Aurora DSQL hosts need neither ``--port`` nor ``--username``; ``--admin`` signs the
``DbConnectAdmin`` token of the ``admin`` role (as ``aws dsql
generate-db-connect-admin-auth-token``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._common import resolve
from ._output import UsageError

if TYPE_CHECKING:
    import argparse

    from ._output import Context

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "configure", "fast_args", "run"]

HELP = "print an IAM authentication token (drop-in for `aws rds generate-db-auth-token`)"
DESCRIPTION = (
    "Print an IAM authentication token for the database user on one line, exactly as\n"
    "`aws rds generate-db-auth-token` does (same flags, same bytes for the same second,\n"
    "credentials and region). Use it as the password, over verified TLS only.\n"
    "\n"
    "Region: --region, else the region in an RDS host name, else the profile's region /\n"
    "AWS_DEFAULT_REGION, else AWS_REGION. (The AWS CLI signs for the profile's region even\n"
    "when the host name says otherwise; RDS refuses such a token.)\n"
    "\n"
    "Aurora DSQL (<cluster>.dsql.<region>.on.aws): --port and --username are optional;\n"
    "the token is DbConnectAdmin with --admin or --username admin, else DbConnect."
)
EPILOG = """examples:
  export PGPASSWORD="$(rds-iam-auth token --hostname mydb.abc123.us-east-1.rds.amazonaws.com \\
      --port 5432 --username jane)"
  rds-iam-auth token --hostname abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws --admin
"""


# The flags fast_args() reads without argparse: flag -> (destination, takes a value).
_FAST = {
    "--hostname": ("hostname", True),
    "--port": ("port", True),
    "--username": ("username", True),
    "--region": ("region", True),
    "--profile": ("profile", True),
    "--expires-in": ("expires_in", True),
    "--admin": ("admin", False),
}
_INTS = ("port", "expires_in")


def fast_args(argv: list[str]) -> Any:
    """``argv`` parsed as argparse would, for the plain forms scripts use (``--flag value``,
    ``--flag=value``, each flag once); None for anything else (``--help``, abbreviations,
    a value that looks like an option, a bad number...), which then goes to argparse.

    Importing argparse and building the parser is a tenth of this command's start-up.
    """
    from types import SimpleNamespace

    found: dict[str, Any] = {}
    index = 0
    while index < len(argv):
        name, has_value, value = argv[index].partition("=")
        dest, takes_value = _FAST.get(name, ("", False))
        if not dest or dest in found or (has_value and not takes_value):
            return None
        index += 1
        if takes_value and not has_value:
            if index == len(argv) or argv[index].startswith("-"):
                return None
            value, index = argv[index], index + 1
        if dest in _INTS:
            if not value.isascii() or not value.isdigit():
                return None
            found[dest] = int(value)
        else:
            found[dest] = value if takes_value else True
    if "hostname" not in found:
        return None
    defaults: dict[str, Any] = {"port": None, "username": None, "region": None, "profile": None}
    defaults.update(expires_in=900, admin=False, debug=False, client_args=[], _command="token")
    return SimpleNamespace(**{**defaults, **found})


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's flags."""
    from ._parser import add_target

    add_target(parser, ca=False, user_required=False)
    parser.add_argument(
        "--admin",
        action="store_true",
        help="Aurora DSQL: sign DbConnectAdmin, for the admin role",
    )
    parser.add_argument(
        "--expires-in",
        type=int,
        default=900,
        metavar="SECONDS",
        help="token lifetime: 1..900 (default 900); Aurora DSQL up to 604800",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign and print the token."""
    dsql = _is_dsql(args.hostname)
    if not dsql:
        missing = [
            flag
            for flag, value in (("--port", args.port), ("--username", args.username))
            if value is None
        ]
        if missing:
            raise UsageError(f"the following arguments are required: {', '.join(missing)}")
        if args.admin:
            raise UsageError("--admin is for Aurora DSQL hosts (<cluster>.dsql.<region>.on.aws)")
    limit = 604_800 if dsql else 900
    if not 1 <= args.expires_in <= limit:
        raise UsageError(
            f"--expires-in must be 1..{limit} seconds for this host, got {args.expires_in}"
        )
    user = args.username
    if dsql and (args.admin or user is None):
        user = "admin" if args.admin else "(any role)"
    target = resolve(args, ctx, engine="postgres", user=user)
    action = None
    if dsql and (args.admin or args.username is None):
        action = "DbConnectAdmin" if args.admin else "DbConnect"
    token = target.sign(ctx, expires_in_s=args.expires_in, dsql_action=action)
    ctx.out.write(token.value + "\n")
    ctx.out.flush()
    return 0


def _is_dsql(host: str) -> bool:
    from ..endpoint import parse_endpoint

    # The kind comes from the host name alone; a bad host is reported by resolve() below.
    try:
        return parse_endpoint(host, 5432, "us-east-1").kind == "dsql"
    except ValueError:
        return False
