"""Run a script from examples/ the way a user would, against one emulator server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.emulator import LONG_TERM, ServerInfo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Nothing of the caller's AWS, libpq or libmysqlclient configuration may reach the script.
_INHERITED_PREFIXES = ("AWS_", "RDS_", "PG", "LIBMYSQL")


def run_example(
    script: str,
    info: ServerInfo,
    tmp_path: Path,
    *,
    drop: tuple[str, ...] = (),
    **overrides: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<script>`` with a long-term key and ``RDS_*`` naming ``info``.

    Args:
        script: File name in examples/.
        info: The server the script connects to.
        tmp_path: Where the (empty) AWS config files go.
        drop: Environment variables to remove after the defaults are set.
        overrides: Environment variables to set or replace.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    env.update(
        AWS_ACCESS_KEY_ID=LONG_TERM.access_key,
        AWS_SECRET_ACCESS_KEY=LONG_TERM.secret_key,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        RDS_HOST=info.host,
        RDS_PORT=str(info.port),
        RDS_USER=info.user,
        RDS_DB=info.database,
        RDS_REGION=info.region,
        RDS_CA=info.ca_path,
    )
    env.update(overrides)
    for name in drop:
        del env[name]
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
