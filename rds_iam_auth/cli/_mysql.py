"""``rds-iam-auth mysql``: the mysql or mariadb client, logged in with a fresh token over
verified TLS with the cleartext plugin enabled.

The token goes into a temporary option file (mode 0600, in a fresh 0700 directory under
``$XDG_RUNTIME_DIR`` when it is private, else the temp directory) named by
``--defaults-extra-file``, which must be the client's first argument. The client runs as a
child and the file is deleted once it exits, whatever the exit; only a SIGKILL of this process
leaves it behind (still 0600, still only valid for 15 minutes). Not a FIFO: a client that
reads its option files twice, or not at all after an early error, would block or lose it.

Host, port, user, CA, server-certificate verification and the cleartext plugin are flags on
the command line (they win over every option file); only the password is in the file. The
clients read ``~/.my.cnf`` after the extra file, so a ``password=`` there would replace the
token: when ``--print-defaults`` shows one, ``--defaults-file`` (only our file) is used instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from . import _clients
from ._common import ca_file, resolve
from ._env import mysql_dial
from ._parser import add_target

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from ._output import Context

__all__ = ["CLIENT_ENV", "DESCRIPTION", "EPILOG", "HELP", "configure", "option_file", "run"]

CLIENT_ENV = "RDS_IAM_AUTH_MYSQL"
HELP = "run the mysql / mariadb client logged in with an IAM token over verified TLS"
DESCRIPTION = (
    "Run the mysql or mariadb client logged in as --username with a fresh IAM token over\n"
    "verified TLS (the server certificate and its name are checked against the RDS CA\n"
    "bundle) with the cleartext plugin enabled, as IAM authentication requires. The token\n"
    "goes to the client in a 0600 temporary option file, deleted when the client exits;\n"
    "never on its command line. The client's own options go after --. The exit status is\n"
    "the client's.\n"
    "\n"
    f"The client is mariadb, else mysql, from PATH; set {CLIENT_ENV} to run another one."
)
EPILOG = """example:
  rds-iam-auth mysql --hostname mydb.abc123.us-east-1.rds.amazonaws.com --username jane \\
      --dbname app -- -e 'select current_user()'
"""
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~%&=/+:?-]+")
_PASSWORD_DEFAULT = re.compile(r"(?:^|\s)--password(?:=|\s|$)")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's flags."""
    add_target(parser, dbname=True, address=True)


def _private_runtime_dir() -> str | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return None
    try:
        st = os.stat(runtime)
    except OSError:
        return None
    # A tmpfs only we can enter keeps the token off disk and away from other users.
    if not hasattr(os, "geteuid") or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    return runtime


def option_file(token: str) -> tuple[str, Callable[[], None]]:
    """Write ``[client] password=<token>`` to a new 0600 file; return its path and the
    function that deletes it (and its private directory)."""
    if not _TOKEN_CHARS.fullmatch(token):  # never true for SigV4; the file has no escaping
        raise ConfigurationError("the token has characters an option file cannot hold")
    directory = tempfile.mkdtemp(prefix="rds-iam-auth-", dir=_private_runtime_dir())  # 0700
    path = os.path.join(directory, "client.cnf")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, f'[client]\npassword="{token}"\n'.encode("ascii"))
    finally:
        os.close(fd)

    def cleanup() -> None:
        for remove, name in ((os.unlink, path), (os.rmdir, directory)):
            with contextlib.suppress(FileNotFoundError):
                remove(name)

    return path, cleanup


def _ask(client: str, *args: str) -> str:
    try:
        done = subprocess.run(
            [client, *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigurationError(f"cannot run {client} {' '.join(args)}: {exc}") from None
    return done.stdout


def _tls_flags(client: str, ca_path: str) -> list[str]:
    """The flags that verify the server and allow the cleartext plugin, per client.

    MariaDB's client (``mariadb --help``, 10.11): ``--ssl-verify-server-cert`` checks the
    chain and the name; it always allows mysql_clear_password (``--enable-cleartext-plugin``
    is "obsolete, exists only for MySQL compatibility" and prints a warning). MySQL 8's:
    ``--ssl-mode=VERIFY_IDENTITY`` and ``--enable-cleartext-plugin``.
    """
    version = _ask(client, "--version")
    if "mariadb" in version.lower():
        return [f"--ssl-ca={ca_path}", "--ssl-verify-server-cert"]
    return [f"--ssl-ca={ca_path}", "--ssl-mode=VERIFY_IDENTITY", "--enable-cleartext-plugin"]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Sign a token and run the client with it; return the client's status."""
    target = resolve(args, ctx, engine="mysql")
    host, port = mysql_dial(target, args.address)
    client_args = _clients.check_client_args("mysql", args.client_args, _clients.MYSQL_OPTIONS)
    client = _clients.find(CLIENT_ENV, ("mariadb", "mysql"))
    flags = [
        f"--host={host}",
        f"--port={port}",
        "--protocol=TCP",
        f"--user={target.user}",
        *_tls_flags(client, ca_file(args.ca, target.endpoint)),
    ]
    if args.dbname:
        flags.append(f"--database={args.dbname}")
    defaults = "--defaults-extra-file"
    if _PASSWORD_DEFAULT.search(_ask(client, "--print-defaults")):
        ctx.warn(
            "your MySQL option files set a password, which the client would read after the "
            "token: using only rds-iam-auth's settings (--defaults-file) for this run"
        )
        defaults = "--defaults-file"
    token = target.sign(ctx)
    path, cleanup = option_file(token.value)
    env = _clients.clean_env(os.environ, "mysql")
    return _clients.run([client, f"{defaults}={path}", *flags, *client_args], env, cleanup)
