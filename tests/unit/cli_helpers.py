"""Shared by the CLI tests: boto3's token at a frozen instant, and running the CLI in-process
or as a process (``python -m rds_iam_auth`` or a console-script wrapper like pip's)."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.auth
import pytest

from rds_iam_auth.cli import main

ROOT = Path(__file__).resolve().parents[2]
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TEMP_AKID = "ASIAIOSFODNN7EXAMPLE"
TEMP_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
TEMP_TOKEN = "FwoGZXIvYXdzE/+//Ab=="
HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
# pip's console-script template (pip/_internal/.../scripts): what `rds-iam-auth` runs.
CONSOLE_SCRIPT = """import re
import sys
from rds_iam_auth.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


@dataclass
class Result:
    """What one run of the command line printed and returned."""

    status: int
    out: str
    err: str


def run_cli(argv: list[str], clock: Callable[[], float] | None = None) -> Result:
    """``main(argv, clock=clock)`` in this process, with stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(argv, clock=clock)
    return Result(status, out.getvalue(), err.getvalue())


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment (conftest isolated the AWS settings) plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run_process(
    argv: list[str], env: dict[str, str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``python -m rds_iam_auth argv`` as a child process."""
    return subprocess.run(
        [sys.executable, "-m", "rds_iam_auth", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


def console_script(directory: Path) -> Path:
    """A ``rds-iam-auth`` script like the one pip installs for the console entry point."""
    path = directory / "rds-iam-auth"
    path.write_text(f"#!{sys.executable}\n{CONSOLE_SCRIPT}")
    path.chmod(0o755)
    return path


@functools.cache
def _client(akid: str, secret: str, token: str | None, region: str) -> Any:
    return boto3.session.Session().client(
        "rds",
        region_name=region,
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def freeze_botocore(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """Make botocore's SigV4 signers see ``when`` as the current time (as
    test_signer_parity.py does, for the oldest and newest botocore)."""
    naive = when.astimezone(timezone.utc).replace(tzinfo=None)
    if hasattr(botocore.auth, "get_current_datetime"):

        def frozen(remove_tzinfo: bool = True) -> datetime:
            return naive if remove_tzinfo else naive.replace(tzinfo=timezone.utc)

        monkeypatch.setattr(botocore.auth, "get_current_datetime", frozen)
    else:

        class _FrozenDatetime(datetime):
            @classmethod
            def utcnow(cls) -> datetime:  # type: ignore[override]
                return naive

        monkeypatch.setattr(botocore.auth, "datetime", SimpleNamespace(datetime=_FrozenDatetime))


def boto3_token(
    monkeypatch: pytest.MonkeyPatch,
    when: datetime,
    *,
    host: str,
    port: int,
    user: str,
    region: str,
    creds: tuple[str, str, str | None] = (AKID, SECRET, None),
) -> str:
    """``client("rds").generate_db_auth_token`` at ``when``."""
    client = _client(*creds, region)
    with monkeypatch.context() as m:
        freeze_botocore(m, when)
        token: str = client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
    return token
