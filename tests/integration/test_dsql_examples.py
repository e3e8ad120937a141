"""The DSQL examples work as written, against the emulator's DSQL mode (through address=)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from tests.emulator import Emulator

from .examples_runner import EXAMPLES, run_example

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("script", "role", "setting"),
    [
        ("dsql_sqlalchemy.py", "admin", "RECYCLE_S"),  # SQLAlchemy pool_recycle=
        ("dsql_psycopg_pool.py", "role", "MAX_LIFETIME_S"),  # psycopg_pool max_lifetime=
    ],
)
def test_dsql_example_runs(
    script: str, role: str, setting: str, emulator: Emulator, tmp_path: Path
) -> None:
    dsql = emulator.dsql
    user = dsql.admin_user if role == "admin" else dsql.role_user
    before = len(emulator.verifier_log("postgres"))
    result = run_example(
        script,
        emulator.pg,
        tmp_path,
        DSQL_HOST=dsql.host,
        DSQL_USER=user,
        DSQL_ADDRESS=dsql.address,
        DSQL_CA=dsql.ca_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == user
    assert "signings=1" in result.stdout
    assert "Warning" not in result.stderr, result.stderr[-2000:]
    # The pool retires connections before DSQL's one-hour server limit, as the docs ask.
    settings = runpy.run_path(str(EXAMPLES / script), run_name="example")
    assert 0 < settings[setting] < 3600
    verdicts = emulator.verifier_log("postgres")[before:]
    assert verdicts
    assert all(v.startswith(f"ACCEPTED user={user!r}") for v in verdicts), verdicts
