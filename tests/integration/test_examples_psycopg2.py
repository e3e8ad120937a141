"""examples/aws_guide_psycopg2.py works as written, against the emulator, and fails cleanly."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator, ServerInfo

from .examples_runner import run_example

pytestmark = pytest.mark.integration

SCRIPT = "aws_guide_psycopg2.py"


def _run(
    info: ServerInfo, tmp_path: Path, *, drop: tuple[str, ...] = (), **overrides: str
) -> subprocess.CompletedProcess[str]:
    return run_example(SCRIPT, info, tmp_path, drop=drop, **overrides)


def test_aws_guide_program_runs(emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg
    before = len(emulator.verifier_log("postgres"))
    result = _run(info, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert info.user in result.stdout  # [(datetime..., 'jane')]
    assert [v.split()[0] for v in emulator.verifier_log("postgres")[before:]] == ["ACCEPTED"]


def test_aws_guide_program_uses_the_named_profile(emulator: Emulator, tmp_path: Path) -> None:
    # The guide's Session(profile_name=...) is silently ignored; the rewrite's is not.
    info = emulator.pg
    (tmp_path / "credentials").write_text(
        f"[RDSCreds]\naws_access_key_id = {LONG_TERM.access_key}\n"
        f"aws_secret_access_key = {LONG_TERM.secret_key}\n"
    )
    result = _run(
        info, tmp_path, drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), RDS_PROFILE="RDSCreds"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert info.user in result.stdout


def test_aws_guide_program_reports_a_refusal_without_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    info = emulator.pg
    result = _run(info, tmp_path, RDS_REGION="eu-west-1")  # signed for the wrong region
    assert result.returncode == 1
    assert "Database connection failed due to" in result.stderr
    assert "PAM authentication failed" in result.stderr
    assert "refused the IAM token twice" in result.stderr  # the notes are printed too
    assert "X-Amz-Signature" not in result.stderr + result.stdout
