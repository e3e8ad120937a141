"""``token``'s fast path: plain flags parsed without argparse (a tenth of the command's
start-up), agreeing with argparse wherever it answers, and leaving everything else to it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rds_iam_auth.cli import _command_parser
from rds_iam_auth.cli._token import fast_args
from tests.unit.cli_helpers import AKID, HOST, SECRET, child_env

FLAGS = ["--hostname", HOST, "--port", "5432", "--username", "jane"]


@pytest.mark.parametrize(
    "argv",
    [
        FLAGS,
        ["--hostname=h", "--port=1", "--username=u", "--region=eu-west-1", "--profile=p"],
        ["--username", "u", "--hostname", "h", "--admin", "--expires-in", "60"],
        ["--hostname", "h", "--port", "05432", "--username", "u"],
    ],
)
def test_the_fast_parser_agrees_with_argparse(argv: list[str]) -> None:
    fast = vars(fast_args(argv))
    full = vars(_command_parser("token").parse_args(argv))
    assert {k: v for k, v in fast.items() if k != "client_args"} == full


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "h", "--port", "1", "--username", "u"],  # an abbreviation argparse takes
        [*FLAGS, "--port", "2"],  # twice: argparse keeps the last
        ["--hostname", "h", "--username", "-u"],  # argparse: "expected one argument"
        ["--hostname", "h", "--port", "\u0665"],  # ARABIC-INDIC FIVE: argparse's int() takes it
        ["--hostname", "h", "--admin=yes"],
        [*FLAGS, "--help"],
        ["--port", "1"],
    ],
)
def test_the_fast_parser_leaves_anything_else_to_argparse(argv: list[str]) -> None:
    assert fast_args(argv) is None


def test_the_fast_path_does_not_import_argparse() -> None:
    code = (
        "import sys\nfrom rds_iam_auth.cli import main\n"
        f"main(['token', *{FLAGS!r}])\nprint('argparse' in sys.modules)\n"
    )
    env = child_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "False"
