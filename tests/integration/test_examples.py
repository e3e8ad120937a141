"""The scripts in examples/ work as written, against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator import Emulator

from .examples_runner import run_example

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("script", "engine"),
    [
        ("connect_psycopg.py", "postgres"),
        ("connect_pymysql.py", "mariadb"),
        ("sqlalchemy_creator.py", "postgres"),
        ("async_engine_and_pool.py", "postgres"),
    ],
)
def test_example_runs(script: str, engine: str, emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg if engine == "postgres" else emulator.mysql
    result = run_example(script, info, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert info.user in result.stdout
