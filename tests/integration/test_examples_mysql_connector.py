"""examples/aws_guide_mysql_connector.py works as written, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "aws_guide_mysql_connector.py"


def run(emulator: Emulator, tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    info = emulator.mysql
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RDS_", "LIBMYSQL"))}
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
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_aws_guide_program_logs_in(emulator: Emulator, tmp_path: Path) -> None:
    before = len(emulator.verifier_log("mariadb"))
    result = run(emulator, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"'{emulator.mysql.user}@%'" in result.stdout
    assert emulator.verifier_log("mariadb")[before:] == [
        f"ACCEPTED user='{emulator.mysql.user}' key={LONG_TERM.access_key}"
    ]


def test_aws_guide_program_reports_a_refusal_without_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    result = run(emulator, tmp_path, RDS_REGION="eu-west-1")  # signed for the wrong region
    assert result.returncode == 1
    assert "Database connection failed due to 1045 (28000)" in result.stderr
    assert "refused the IAM token twice" in result.stderr
    assert "region eu-west-1 (from region=)" in result.stderr
    assert "X-Amz-Signature" not in result.stdout + result.stderr
