"""examples/psycopg_pool_kwargs.py works as written against the emulator, warnings as errors
(psycopg_pool warns about pools opened implicitly; the example's open= is explicit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator import Emulator

from .examples_runner import run_example
from .token_lifetimes import Logins

pytestmark = pytest.mark.integration


def test_psycopg_pool_example(emulator: Emulator, tmp_path: Path) -> None:
    info = emulator.pg
    logins = Logins(emulator, "postgres")
    result = run_example("psycopg_pool_kwargs.py", info, tmp_path, PYTHONWARNINGS="error")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    sync, async_, stats = result.stdout.splitlines()
    assert (sync, async_) == (f"sync  {info.user}", f"async {info.user}")
    # Two pools of two: one signing (concurrent refills share it, so hits vary).
    assert stats.startswith("Stats(signings=1, ")
    assert stats.endswith("retries=0)")
    assert logins.accepted() == 4  # two connections per pool, each logged in
