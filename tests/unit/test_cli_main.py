"""The command line as a whole: help with an example on every command, the version, one-line
errors with exit status 2, ``python -m rds_iam_auth``, a closed stdout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rds_iam_auth import __version__
from rds_iam_auth.cli import COMMANDS
from tests.unit.cli_helpers import AKID, HOST, SECRET, child_env, run_cli, run_process

EVERY_COMMAND = [[c] for c in COMMANDS if c != "ca"] + [
    ["ca", s] for s in ("path", "update", "show")
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = run_cli([*command, "--help"])
    assert result.status == 0
    assert result.out.startswith(f"usage: rds-iam-auth {' '.join(command)}")
    assert "example" in result.out
    assert "rds-iam-auth " + command[0] in result.out.split("example")[1]


def test_top_level_help_and_version() -> None:
    result = run_cli(["--help"])
    assert result.status == 0
    for command in COMMANDS:
        assert f"\n  {command} " in result.out
    assert run_cli(["--version"]).out == f"rds-iam-auth {__version__}\n"


@pytest.mark.parametrize(
    "argv", [[], ["nope"], ["--debugx"], ["token", "--hostname"], ["doctor", "--engine", "oracle"]]
)
def test_usage_errors_are_one_line_and_exit_2(argv: list[str]) -> None:
    result = run_cli(argv)
    assert result.status == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert ": error: " in result.err


def test_options_before_the_command_use_the_full_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    result = run_cli(["--debug", "token", "--hostname", HOST, "--port", "5432", "--username", "u"])
    assert result.status == 0
    assert result.out.startswith(f"{HOST}:5432/?Action=connect&")


def test_python_dash_m_runs_the_same_command_line() -> None:
    env = child_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
    done = run_process(["token", "--hostname", HOST, "--port", "5432", "--username", "u"], env)
    assert done.returncode == 0
    assert done.stdout.startswith(f"{HOST}:5432/?Action=connect&")
    bad = run_process(["token"], env)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr


def test_a_reader_that_goes_away_is_not_a_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: every write gets EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rds_iam_auth", "ca", "show"],
            env=child_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
