"""The scripts in examples/ work as written, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("script", "engine"),
    [
        ("connect_psycopg.py", "postgres"),
        ("connect_pymysql.py", "mariadb"),
        ("sqlalchemy_creator.py", "postgres"),
    ],
)
def test_example_runs(script: str, engine: str, emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg if engine == "postgres" else emulator.mysql
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RDS_"))}
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
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert info.user in result.stdout
