"""Item 13: ``rds-iam-auth token`` against ``aws rds generate-db-auth-token`` (the AWS CLI from
PyPI, which prints only the token and a newline): whole processes, spawn to exit, alternating,
in one run; keys from the environment and from a profile in the shared credentials file.

Both are the console scripts next to this interpreter. Both children get bytecode as an
installed wheel has it: ``PYTHONDONTWRITEBYTECODE`` is dropped and ``PYTHONPYCACHEPREFIX``
points at a fresh directory that the warm-up runs fill (otherwise a source checkout run with
``PYTHONDONTWRITEBYTECODE=1`` recompiles the package in every run while botocore's wheel has
its .pyc files). Where ``rds-iam-auth`` is not installed
there (an editable install made before the entry point existed), an identical wrapper is
written to a temporary directory: pip's console-script template, same interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import HOST, PORT, REGION, USER, AwsFiles, Row, alternate, ratio_row, skipped_rows

ITEM = "13"
GOAL = 0.12
METRICS = (
    "`rds-iam-auth token` vs `aws rds generate-db-auth-token`, env credentials",
    "`rds-iam-auth token` vs `aws rds generate-db-auth-token`, AWS_PROFILE file",
)
# pip's console-script template (what `pip install` writes for [project.scripts]).
_WRAPPER = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from rds_iam_auth.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def _script(name: str) -> Path | None:
    path = Path(sys.executable).parent / name
    return path if path.exists() else None


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0 or not done.stdout.startswith(f"{HOST}:{PORT}/?Action=connect&"):
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall * 1000, done.stdout


def run(repeats: int) -> list[Row]:
    """Rows for both credential sources (goal: ours <= 0.12 x the AWS CLI)."""
    aws = _script("aws") or (Path(found) if (found := shutil.which("aws")) else None)
    if aws is None:
        return skipped_rows(ITEM, METRICS, "the AWS CLI is not installed (pip install awscli)")
    files = AwsFiles()
    with tempfile.TemporaryDirectory(prefix="rds-iam-bench-cli-") as scratch:
        ours = _script("rds-iam-auth")
        note = "console script"
        if ours is None:
            ours = Path(scratch) / "rds-iam-auth"
            ours.write_text(_WRAPPER.format(python=sys.executable))
            ours.chmod(0o755)
            note = "pip's console-script wrapper (rds-iam-auth not installed next to python)"
        flags = ["--hostname", HOST, "--port", str(PORT), "--username", USER]
        ours_argv = [str(ours), "token", *flags]
        aws_argv = [str(aws), "rds", "generate-db-auth-token", *flags, "--region", REGION]
        rows = []
        try:
            for metric, env in zip(METRICS, (files.env_keys(), files.env_profile()), strict=True):
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
                a, b = alternate(
                    lambda env=env: _timed(ours_argv, env),
                    lambda env=env: _timed(aws_argv, env),
                    repeats,
                )
                # Same credentials and region: the tokens differ at most in their second.
                same = {x[1].split("&X-Amz-Date=")[0] for x in a + b}
                rows.append(
                    ratio_row(
                        ITEM,
                        metric,
                        [x[0] for x in a],
                        [x[0] for x in b],
                        "ms",
                        GOAL,
                        note=f"{note}; same token prefix: {len(same) == 1}",
                    )
                )
        finally:
            files.close()
    return rows


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 9):
        print(
            f"{row.metric}: ours {row.ours:.1f} ms, aws {row.recipe:.1f} ms, "
            f"ratio {row.ratio:.3f} (goal <= {GOAL}) {row.status}; {row.note}"
        )
