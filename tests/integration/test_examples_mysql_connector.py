"""examples/aws_guide_mysql_connector.py works as written, against the emulator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator

from .examples_runner import run_example

pytestmark = pytest.mark.integration

SCRIPT = "aws_guide_mysql_connector.py"


def run(emulator: Emulator, tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    return run_example(SCRIPT, emulator.mysql, tmp_path, **overrides)


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
