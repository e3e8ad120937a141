"""``manage.py dbshell`` for the MySQL backend: ``mysql`` with a current IAM token.

Django's client (``django/db/backends/mysql/client.py``, 5.2 and 6.x) passes the password as
``MYSQL_PWD`` and the CA as ``--ssl-ca`` but never ``--ssl-verify-server-cert``: the client
encrypts without checking whom it talks to, and sends the token. Here:

- the token goes into an option file readable by its owner only (mode 0600, in a private
  temporary directory removed when the client exits), named with ``--defaults-file``, which
  must be the first option and makes the client read no other option file (a ``~/.my.cnf`` or
  ``/etc/mysql`` file could otherwise turn verification off);
- TLS is verified: MariaDB's client gets ``--ssl --ssl-ca=... --ssl-verify-server-cert``,
  MySQL's (which removed that flag in 8.0) ``--ssl-mode=VERIFY_IDENTITY --ssl-ca=...``;
  ``--enable-cleartext-plugin`` lets MySQL's client answer the IAM plugin (MariaDB's answers
  without it, and warns that the flag is obsolete);
- ``MYSQL_PWD``, ``MYSQL_HOST`` and the other ``MYSQL_*`` variables of the caller are removed
  from the client's environment.

There is no ``settings_to_cmd_args_env()``: the option file exists only while
:meth:`DatabaseClient.runshell` runs the client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from django.db.backends.mysql import client as _django

from ....errors import ConfigurationError
from .._options import OURS, parse

__all__ = ["DatabaseClient", "client_args", "option_file_text"]

_DRIVER = "mysqlclient"
# The mysqlclient keywords that mean something to the command-line client.
_CHARSET = "charset"
_NOT_FOR_MYSQL = frozenset({"isolation_level"})


def option_file_text(password: str) -> str:
    """The ``[client]`` option file that carries the token."""
    # A token is percent-encoded (no quote, backslash, space or newline); refuse anything else
    # rather than write an option file that means something other than it says.
    if any(c in password for c in '"\\\n\r') or not password.isprintable():
        raise ConfigurationError("the token contains characters an option file cannot hold")
    return f'[client]\npassword="{password}"\n'


def client_args(
    executable: str,
    option_file: str,
    kwargs: Mapping[str, Any],
    parameters: Iterable[str],
    *,
    mariadb: bool,
) -> list[str]:
    """The client's command line for mysqlclient ``kwargs`` (from ``connect_kwargs``)."""
    ca = kwargs["ssl"]["ca"]
    if mariadb:
        # MariaDB's client sends the cleartext password when asked (inside this verified
        # TLS) and warns that --enable-cleartext-plugin is obsolete.
        tls = ["--ssl", f"--ssl-ca={ca}", "--ssl-verify-server-cert"]
    else:
        tls = [f"--ssl-mode={kwargs['ssl_mode']}", f"--ssl-ca={ca}", "--enable-cleartext-plugin"]
    args = [
        executable,
        f"--defaults-file={option_file}",  # first: the client insists
        f"--host={kwargs['host']}",
        f"--port={kwargs['port']}",
        f"--user={kwargs['user']}",
        *tls,
    ]
    if kwargs.get(_CHARSET):
        args.append(f"--default-character-set={kwargs[_CHARSET]}")
    if kwargs.get("database"):
        args.append(str(kwargs["database"]))
    return [*args, *parameters]


def _is_mariadb(executable: str) -> bool:
    # FileNotFoundError propagates: dbshell turns it into "you appear not to have mysql".
    out = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return "mariadb" in out.lower()


class DatabaseClient(_django.DatabaseClient):  # type: ignore[misc]  # Django ships no types
    """Starts ``mysql`` with a current token in a private option file and verified TLS."""

    @classmethod
    def settings_to_cmd_args_env(
        cls, settings_dict: Mapping[str, Any], parameters: Iterable[str]
    ) -> NoReturn:
        """Not available: the token's option file lives only while :meth:`runshell` runs."""
        raise ConfigurationError(
            "rds_iam_auth's MySQL dbshell writes the token to an option file that exists only "
            "while the client runs: call runshell() (manage.py dbshell)"
        )

    def runshell(self, parameters: Iterable[str]) -> None:
        """Run the client; Ctrl-C goes to it (it cancels the query), as with Django's."""
        settings_dict = self.connection.settings_dict
        target = parse(settings_dict, driver=_DRIVER, alias=None, mysql=True)
        options = settings_dict.get("OPTIONS") or {}
        extra = {k: v for k, v in options.items() if k not in OURS and k not in _NOT_FOR_MYSQL}
        if settings_dict.get("NAME"):
            extra.setdefault("database", settings_dict["NAME"])
        kwargs = target.connect_kwargs(extra)
        mariadb = _is_mariadb(self.executable_name)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL_")}
        with tempfile.TemporaryDirectory(prefix="rds-iam-dbshell-") as private:  # mode 0700
            path = Path(private) / "client.cnf"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(option_file_text(str(kwargs["password"])))
            args = client_args(self.executable_name, str(path), kwargs, parameters, mariadb=mariadb)
            sigint_handler = signal.getsignal(signal.SIGINT)
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                subprocess.run(args, env=environ, check=True)
            finally:
                signal.signal(signal.SIGINT, sigint_handler)
