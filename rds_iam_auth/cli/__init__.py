"""The ``rds-iam-auth`` command line (also ``python -m rds_iam_auth``).

Commands: ``token``, ``env``, ``psql``, ``mysql``, ``ca path|update|show`` and ``doctor``; each
has ``--help`` with an example. Results go to stdout, status lines and errors to stderr.

Exit status: 0 on success; 2 for a usage or configuration error (one line on stderr naming the
fix, no traceback unless ``--debug``); 1 for a failure at run time (credentials, CA bundle,
network, a refused login in ``doctor``); ``psql`` and ``mysql`` exit with the client's status.

When the command is the first argument only that command's parser is built and only its
modules imported: ``token`` with keys from the environment or a profile's static keys imports
no botocore, no TLS module and no driver.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from ._output import Context, UsageError

__all__ = ["COMMANDS", "main"]

# command → module (ca has its own sub-commands).
COMMANDS = {
    "token": "._token",
    "env": "._env",
    "psql": "._exec",
    "mysql": "._mysql",
    "ca": "._ca",
    "doctor": "._doctor",
}
_PASS_THROUGH = ("psql", "mysql")  # everything after `--` goes to the client
_TOP_EPILOG = """commands (each with --help and an example):
  token    rds-iam-auth token --hostname H --port 5432 --username jane
  env      eval "$(rds-iam-auth env --hostname H --username jane)"; psql
  psql     rds-iam-auth psql --hostname H --username jane -- -c 'select 1'
  mysql    rds-iam-auth mysql --hostname H --username jane -- -e 'select 1'
  ca       rds-iam-auth ca path | ca update --from global-bundle.pem | ca show
  doctor   rds-iam-auth doctor --hostname H --username jane

exit status: 0 ok, 1 runtime failure, 2 usage or configuration error; psql and mysql exit
with the client's status.
"""


def _module(command: str) -> Any:
    return import_module(COMMANDS[command], __name__)


def _configure(parser: Any, command: str) -> None:
    _module(command).configure(parser)
    parser.set_defaults(_command=command)


def _command_parser(command: str) -> Any:
    from ._parser import Parser

    module = _module(command)
    parser = Parser(
        prog=f"rds-iam-auth {command}",
        description=module.DESCRIPTION,
        epilog=module.EPILOG,
    )
    _configure(parser, command)
    return parser


def _full_parser() -> Any:
    from .._version import __version__
    from ._parser import Parser, add_debug

    parser = Parser(
        prog="rds-iam-auth",
        description="IAM database authentication for Amazon RDS, Aurora and RDS Proxy: tokens, "
        "environment variables, psql / mysql with verified TLS, CA bundles and a doctor.",
        epilog=_TOP_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"rds-iam-auth {__version__}")
    add_debug(parser)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        module = _module(command)
        child = sub.add_parser(
            command,
            help=module.HELP,
            description=module.DESCRIPTION,
            epilog=module.EPILOG,
        )
        _configure(child, command)
    return parser


def _wants_debug(argv: Sequence[str]) -> bool:
    own = argv[: argv.index("--")] if "--" in argv else argv
    return "--debug" in own


def _parse(argv: list[str]) -> tuple[Any, str]:
    command = argv[0] if argv and argv[0] in COMMANDS else None
    own, client = argv, list[str]()
    if command in _PASS_THROUGH or (command is None and any(a in _PASS_THROUGH for a in argv)):
        from ._parser import split_client_args

        own, client = split_client_args(argv)
    if command is not None:
        args = _command_parser(command).parse_args(own[1:])
    else:
        args = _full_parser().parse_args(own)
    chosen: str | None = getattr(args, "_command", None)
    if chosen is None:
        raise UsageError("choose a command: token, env, psql, mysql, ca or doctor")
    if client and chosen not in _PASS_THROUGH:
        raise UsageError(f"{chosen} takes no arguments after --")
    args.client_args = client
    return args, chosen


def _enable_debug_logging(ctx: Context) -> None:
    import logging

    handler = logging.StreamHandler(ctx.err)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("rds_iam_auth")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _fast_path(command: str | None, args: list[str]) -> Any:
    # token's plain flags without argparse (see _token.fast_args); None: use the parser.
    if command != "token":
        return None
    from ._token import fast_args

    return fast_args(args[1:])


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], float] | None = None) -> int:
    """Run one command and return its exit status.

    Args:
        argv: The arguments after the program name; default ``sys.argv[1:]``.
        clock: Returns epoch seconds (default ``time.time``): the signing time, credential
            and certificate ages and the clock checks of ``doctor`` all come from it.

    Returns:
        0 on success, 1 for a runtime failure, 2 for a usage or configuration error; the
        client's own status for ``psql`` and ``mysql``.
    """
    if clock is None:
        import time

        clock = time.time
    args = list(sys.argv[1:] if argv is None else argv)
    ctx = Context(clock, debug=_wants_debug(args))
    command = args[0] if args and args[0] in COMMANDS else None
    try:
        parsed = _fast_path(command, args)
        if parsed is None:
            parsed, command = _parse(args)
        if ctx.debug:
            _enable_debug_logging(ctx)
        status: int = _module(parsed._command).run(parsed, ctx)
        return status
    except SystemExit as exc:  # --help and --version print, then exit 0
        return exc.code if isinstance(exc.code, int) else 0
    except BaseException as exc:
        return _failed(ctx, command, exc)


def _failed(ctx: Context, command: str | None, exc: BaseException) -> int:
    from ..errors import ConfigurationError, RdsIamAuthError

    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()
        return 1
    if not isinstance(exc, Exception):
        raise exc
    if ctx.debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=ctx.err)
    if isinstance(exc, (UsageError, ConfigurationError)):
        ctx.error(command, str(exc))
        return 2
    if isinstance(exc, RdsIamAuthError):
        ctx.error(command, str(exc))
        return 1
    hint = "" if ctx.debug else " (rerun with --debug for the traceback)"
    ctx.error(command, f"unexpected {type(exc).__name__}: {exc}{hint}")
    return 1


def _silence_stdout() -> None:
    # The reader went away (`| head`): further writes, and the flush at exit, would raise again.
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
