"""The argument parser: one-line errors, the shared flags, ``--`` for the client's own
arguments. Not imported on ``token``'s fast path (see ``_token.fast_args``)."""

from __future__ import annotations

import argparse
import os
from typing import Any, NoReturn

from ._common import ENGINE_PORTS
from ._output import UsageError

__all__ = ["Parser", "add_debug", "add_target", "split_client_args"]


def _columns() -> int:
    # shutil.get_terminal_size's answer without importing shutil (and with it bz2, lzma and
    # zlib): argparse builds a formatter for every add_argument, not only for --help.
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(1).columns
    except OSError:
        return 80


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the descriptions' line breaks; the width as argparse would pick it."""

    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3 and kwargs.get("width") is None:
            kwargs["width"] = max(_columns() - 2, 20)
        super().__init__(prog, *args, **kwargs)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (exit status 2, through ``main``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` instead of printing the usage and exiting."""
        raise UsageError(f"{message} (see {self.prog} --help)")


def add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug``: tracebacks on errors and DEBUG logs of rds_iam_auth (never botocore's)."""
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and rds_iam_auth's DEBUG logs"
    )


def add_target(
    parser: argparse.ArgumentParser,
    *,
    port_required: bool = False,
    user_required: bool = True,
    engine: bool = False,
    dbname: bool = False,
    address: bool = False,
    ca: bool = True,
) -> None:
    """The flags that name a database and how to sign for it (``aws rds
    generate-db-auth-token``'s names where it has them)."""
    group = parser.add_argument_group("database")
    group.add_argument(
        "--hostname",
        required=True,
        metavar="HOST",
        help="the endpoint the token is signed for, exactly as RDS shows it",
    )
    default_port = "" if port_required else " (default 5432 for postgres, 3306 for mysql)"
    group.add_argument(
        "--port", type=int, required=port_required, help=f"the database port{default_port}"
    )
    group.add_argument(
        "--username", required=user_required, metavar="USER", help="the database user"
    )
    if engine:
        group.add_argument(
            "--engine",
            choices=sorted(ENGINE_PORTS),
            help="postgres or mysql (default: mysql for --port 3306, else postgres)",
        )
    if dbname:
        group.add_argument("--dbname", metavar="NAME", help="the database to open")
    if address:
        group.add_argument(
            "--address",
            metavar="HOST:PORT",
            help="dial here instead (SSH tunnel, port-forward, CNAME); the token is still "
            "signed for, and TLS still verifies, --hostname",
        )
    aws = parser.add_argument_group("AWS")
    aws.add_argument(
        "--region",
        help="signing region (default: the region in an RDS host name, then the profile's / "
        "AWS_DEFAULT_REGION, then AWS_REGION)",
    )
    aws.add_argument("--profile", help="a profile of the shared AWS config files")
    if ca:
        aws.add_argument(
            "--ca",
            metavar="PATH",
            help="CA bundle: a path, 'certifi' or 'system' (default: RDS_IAM_AUTH_CA_BUNDLE, "
            "then the RDS bundle in use, see `rds-iam-auth ca path`)",
        )
    add_debug(parser)


def split_client_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments and the client's: everything after the first ``--`` is the client's."""
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    return argv, []
