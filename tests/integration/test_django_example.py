"""examples/django_app.py works as written, against the emulator (both backends, pooled too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator import Emulator

from .examples_runner import run_example

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("engine", "overrides"),
    [
        ("postgres", {}),
        ("postgres", {"RDS_POOL": "1"}),
        ("mariadb", {"RDS_ENGINE": "mysql"}),
    ],
    ids=["postgresql", "postgresql-pool", "mysql"],
)
def test_django_example_runs(
    emulator: Emulator, tmp_path: Path, engine: str, overrides: dict[str, str]
) -> None:
    info = emulator.pg if engine == "postgres" else emulator.mysql
    result = run_example("django_app.py", info, tmp_path, **overrides)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # no warning either (a pool left open would say so)
    user, stats = result.stdout.splitlines()
    assert user.split("@")[0] == info.user
    assert stats.startswith("Stats(signings=1,")
