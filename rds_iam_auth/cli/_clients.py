"""Running psql and the mysql / mariadb client: finding them, which of their own arguments
may follow ``--``, a cleaned environment, and waiting for them with signals passed on.

The client's arguments are allowlisted: an option that names another host, port, user or
database, a socket, an option file or a TLS setting would send the token elsewhere or weaken
verification, and so would a positional argument (psql reads one as the database, possibly a
whole connection string). Unknown options are refused too (fail closed), abbreviations
included; the message says which flag of ours to use instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping

from ..errors import ConfigurationError

__all__ = ["MYSQL_OPTIONS", "PSQL_OPTIONS", "check_client_args", "clean_env", "find", "run"]


class Options:
    """A client's allowed options: short letters and long names, each with or without value."""

    def __init__(
        self,
        short_flags: str,
        short_values: str,
        long_flags: Iterable[str],
        long_values: Iterable[str],
    ) -> None:
        self.short_flags = frozenset(short_flags)
        self.short_values = frozenset(short_values)
        self.long_flags = frozenset(long_flags)
        self.long_values = frozenset(long_values)


PSQL_OPTIONS = Options(
    short_flags="abeEnqsSX1AHtxz0wlV?",
    short_values="cfvPoLFRT",
    long_flags=(
        "echo-all",
        "echo-errors",
        "echo-queries",
        "echo-hidden",
        "no-readline",
        "quiet",
        "single-step",
        "single-line",
        "no-psqlrc",
        "single-transaction",
        "no-align",
        "csv",
        "html",
        "tuples-only",
        "expanded",
        "field-separator-zero",
        "record-separator-zero",
        "no-password",
        "list",
        "version",
        "help",
    ),
    long_values=(
        "command",
        "file",
        "set",
        "variable",
        "pset",
        "output",
        "log-file",
        "field-separator",
        "record-separator",
        "table-attr",
    ),
)

MYSQL_OPTIONS = Options(
    short_flags="BNstvEXHrAfnqUcLV?",
    short_values="eD",
    long_flags=(
        "batch",
        "skip-column-names",
        "column-names",
        "silent",
        "table",
        "verbose",
        "vertical",
        "xml",
        "html",
        "raw",
        "no-auto-rehash",
        "auto-rehash",
        "force",
        "unbuffered",
        "quick",
        "safe-updates",
        "i-am-a-dummy",
        "comments",
        "skip-comments",
        "skip-line-numbers",
        "line-numbers",
        "show-warnings",
        "binary-mode",
        "no-beep",
        "skip-pager",
        "no-tee",
        "sigint-ignore",
        "version",
        "help",
    ),
    long_values=(
        "execute",
        "database",
        "default-character-set",
        "delimiter",
        "pager",
        "tee",
        "prompt",
        "init-command",
        "max-allowed-packet",
        "net-buffer-length",
        "connect-timeout",
        "max-join-size",
        "select-limit",
        "character-sets-dir",
    ),
)

_OURS = {
    "psql": "--hostname, --port, --username, --dbname, --address, --ca",
    "mysql": "--hostname, --port, --username, --dbname, --ca",
}


def _refuse(client: str, arg: str, why: str) -> ConfigurationError:
    shown = arg if len(arg) <= 40 else arg[:37] + "..."
    return ConfigurationError(
        f"{client} argument {shown!r} after -- is not passed on: {why}. The connection and TLS "
        f"are set by rds-iam-auth ({_OURS[client]}); other {client} options go after --"
    )


def check_client_args(client: str, args: list[str], options: Options) -> list[str]:
    """Return ``args`` if every one is an allowed option (with its value); else refuse.

    Raises:
        ConfigurationError: An argument is not an allowed option (or is a positional one).
    """
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg.startswith("--") and len(arg) > 2:
            name, has_value, _ = arg[2:].partition("=")
            if name in options.long_values:
                index += 0 if has_value else 1
            elif name not in options.long_flags or has_value:
                raise _refuse(client, arg, "not an option rds-iam-auth passes through")
        elif arg.startswith("-") and len(arg) > 1:
            for position, letter in enumerate(arg[1:], 1):
                if letter in options.short_values:
                    index += 0 if position < len(arg) - 1 else 1  # value attached or next
                    break
                if letter not in options.short_flags:
                    raise _refuse(client, arg, f"-{letter} is not an option rds-iam-auth passes")
        else:
            raise _refuse(
                client,
                arg,
                "positional arguments (a database, user or connection string) are not passed",
            )
    if index > len(args):
        raise _refuse(client, args[-1], "it needs a value")
    return args


# Display and session settings a client may keep; every other PG* variable could name a host,
# a service file, a password file or TLS settings.
_PG_KEPT = frozenset(
    {
        "PGAPPNAME",
        "PGCLIENTENCODING",
        "PGDATESTYLE",
        "PGTZ",
        "PGGEQO",
        "PGOPTIONS",
        "PGCONNECT_TIMEOUT",
    }
)
_MYSQL_DROPPED = frozenset(
    {
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
        "MARIADB_UNIX_PORT",
        "MARIADB_TLS_DISABLE_PEER_VERIFICATION",
        "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN",
        "LIBMYSQL_PLUGINS",
        "LIBMYSQL_PLUGIN_DIR",
        "MARIADB_PLUGIN_DIR",
    }
)


def clean_env(environ: Mapping[str, str], engine: str) -> dict[str, str]:
    """The caller's environment without the variables that would redirect the client or
    change its TLS settings (PG*: all but display settings; MySQL: host, port, password,
    plugins, MARIADB_TLS_DISABLE_PEER_VERIFICATION)."""
    if engine == "postgres":
        return {k: v for k, v in environ.items() if not k.startswith("PG") or k in _PG_KEPT}
    return {k: v for k, v in environ.items() if k not in _MYSQL_DROPPED}


def find(override_env: str, names: tuple[str, ...]) -> str:
    """The client to run: ``$<override_env>`` if set, else the first of ``names`` on PATH.

    Raises:
        ConfigurationError: None is installed (or the override is not an executable).
    """
    override = os.environ.get(override_env)
    if override:
        found = shutil.which(override)
        if found is None:
            raise ConfigurationError(f"{override_env}={override!r} is not an executable program")
        return found
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ConfigurationError(
        f"{' or '.join(names)} is not installed (not on PATH): install the client (e.g. apt "
        f"install postgresql-client / mariadb-client) or point {override_env} at it"
    )


def run(argv: list[str], env: dict[str, str], cleanup: Callable[[], None] | None) -> int:
    """Run the client and return its exit status (128 + N if it died of signal N).

    Without ``cleanup`` the client replaces this process (POSIX ``exec``): its status,
    signals and job control are exactly those of the client. With one, the client runs as a
    child while this process ignores SIGINT / SIGQUIT (the terminal sends them to the client
    too) and passes SIGTERM / SIGHUP on; ``cleanup`` runs once the client has exited, or if
    it could not be started.
    """
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    if cleanup is None and os.name == "posix":
        os.execve(argv[0], argv, env)  # noqa: S606 - the client from PATH, allowlisted args
    try:
        return _wait_for(argv, env)
    finally:
        if cleanup is not None:
            cleanup()


def _wait_for(argv: list[str], env: dict[str, str]) -> int:
    import signal
    import subprocess
    import threading

    proc = subprocess.Popen(argv, env=env)
    previous: dict[int, object] = {}

    def forward(signum: int, frame: object) -> None:
        proc.send_signal(signum)

    try:
        if threading.current_thread() is threading.main_thread():
            # Handlers, unlike SIG_IGN, are reset by exec: the child keeps the defaults.
            for name in ("SIGINT", "SIGQUIT"):
                if hasattr(signal, name):
                    sig = getattr(signal, name)
                    previous[sig] = signal.signal(sig, lambda *_: None)
            for name in ("SIGTERM", "SIGHUP"):
                if hasattr(signal, name):
                    sig = getattr(signal, name)
                    previous[sig] = signal.signal(sig, forward)
        code = proc.wait()
    finally:
        if proc.poll() is None:  # leaving early (an exception): do not orphan the client
            proc.terminate()
            proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
    return 128 - code if code < 0 else code
