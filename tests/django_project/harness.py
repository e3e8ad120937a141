"""The test side of the Django project: its environment and a ``manage.py`` child process.

Django's settings can be configured once per process, and each test needs other settings, so
each test runs Django in its own subprocess (parallel-safe: nothing is shared but the
per-worker emulator). :class:`Steps` drives the ``iam_steps`` command line by line.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from tests.emulator import LONG_TERM, ServerInfo

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, "-W", "error", "-m", "tests.django_project.manage"]
# Nothing of the caller's AWS, libpq or MySQL client configuration may reach Django.
_INHERITED_PREFIXES = ("AWS_", "RDS_", "RIA_", "PG", "MYSQL", "LIBMYSQL", "DJANGO_")
ANSWER_TIMEOUT_S = 120  # a hung child fails the test instead of hanging the run


def django_env(
    info: ServerInfo, tmp_path: Path, *, connector: str | None = None, **settings: str
) -> dict[str, str]:
    """The environment of a Django child for ``info``'s server.

    Args:
        info: The emulator server (its engine picks the backend).
        tmp_path: Where the (empty) AWS config files go.
        connector: ``OPTIONS["connector"]`` import path; None for ``OPTIONS`` region + ca.
        settings: More ``RIA_DJANGO_<NAME>`` values (``POOL="1"``, ``SCHEMA=...``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="tests.django_project.settings",
        AWS_ACCESS_KEY_ID=LONG_TERM.access_key,
        AWS_SECRET_ACCESS_KEY=LONG_TERM.secret_key,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        RDS_IAM_AUTH_CACHE_DIR=str(tmp_path / "ca-cache"),
        RIA_DJANGO_ENGINE="postgresql" if info.engine == "postgres" else "mysql",
        RIA_DJANGO_HOST=info.host,
        RIA_DJANGO_PORT=str(info.port),
        RIA_DJANGO_USER=info.user,
        RIA_DJANGO_NAME=info.database,
        RIA_DJANGO_REGION=info.region,
        RIA_DJANGO_CA=info.ca_path,
    )
    if connector is not None:
        env["RIA_DJANGO_CONNECTOR"] = connector
    env.update({f"RIA_DJANGO_{name}": value for name, value in settings.items()})
    return env


def manage(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one ``manage.py`` command to completion."""
    return subprocess.run(
        [*MANAGE, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def accepted_logins(lines: list[str]) -> int:
    """How many logins an emulator verifier log accepted."""
    return sum(line.startswith("ACCEPTED") for line in lines)


class Steps:
    """A running ``manage.py iam_steps``: :meth:`ask` sends one request, returns the answer."""

    def __init__(self, env: dict[str, str], stderr_path: Path) -> None:
        self._stderr_path = stderr_path
        self._stderr: IO[str] = open(stderr_path, "w")  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(
            [*MANAGE, "iam_steps"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,  # a file: a chatty child cannot fill a pipe and stall
            text=True,
        )

    def ask(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send ``{"op": op, **arguments}`` and return the answer; a failure is an error."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self._proc.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            if not selector.select(ANSWER_TIMEOUT_S):
                raise AssertionError(f"no answer to {op!r} within {ANSWER_TIMEOUT_S} s")
        line = self._proc.stdout.readline()
        if not line:
            raise AssertionError(f"the Django process exited: {self.stderr()[-3000:]}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"{op}: {answer['error']}\n{answer.get('trace', '')}")
        return answer

    def stderr(self) -> str:
        """What the child wrote to stderr so far."""
        self._stderr.flush()
        return self._stderr_path.read_text()

    def close(self) -> int:
        """End the child (end of input) and return its exit status."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            return self._proc.wait(timeout=60)
        finally:
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._stderr.close()
