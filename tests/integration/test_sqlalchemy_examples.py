"""examples/sqlalchemy_*.py work as written against the emulator, warnings as errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator import LONG_TERM, Emulator

from .examples_runner import run_example
from .token_lifetimes import Logins

pytestmark = pytest.mark.integration


def test_install_example(emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg
    logins = Logins(emulator, "postgres")
    result = run_example("sqlalchemy_install.py", info, tmp_path, PYTHONWARNINGS="error")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"psycopg  {info.user}", f"asyncpg  {info.user}"]
    assert lines[2].startswith("Stats(signings=1, ")  # one token for both engines
    assert logins.verdicts() == [f"ACCEPTED user={info.user!r} key={LONG_TERM.access_key}"] * 2


def test_url_plugin_example(emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg
    logins = Logins(emulator, "postgres")
    result = run_example("sqlalchemy_url_plugin.py", info, tmp_path, PYTHONWARNINGS="error")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    url, driver_url, user = result.stdout.splitlines()
    assert "plugin=rds_iam" in url
    assert f"rds_iam_region={info.region}" in url
    assert "rds_iam" not in driver_url
    assert user == f"user     {info.user}"
    assert logins.accepted() == 1
