"""Shared helpers: alternating runs, child processes and the rows of the result table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
PORT = 5432
USER = "app_user"
REGION = "us-east-1"
# AWS's documentation example key: fake, never valid.
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

MARK = "BENCH:"
# Appended to every child script: report the child's own peak RSS. ru_maxrss would include
# the parent's peak (inherited across fork+exec), VmHWM is this process's alone.
HWM_FOOTER = (
    "\nfor _line in open('/proc/self/status'):\n"
    "    if _line.startswith('VmHWM:'):\n"
    "        print('BENCH:hwm_kb=' + _line.split()[1])\n"
)


class ChildFailed(RuntimeError):
    """A benchmark child process exited non-zero."""


@dataclass
class Row:
    """One line of the result table."""

    item: str
    metric: str
    ours: float | None
    recipe: float | None = None
    unit: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    status: str = ""
    note: str = ""
    samples: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.status:
            if self.met is None:
                self.status = "info"
            else:
                self.status = "met" if self.met else "NOT met"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def ratio_row(  # noqa: PLR0917 - read like a table row
    item: str,
    metric: str,
    ours: Sequence[float],
    recipe: Sequence[float],
    unit: str,
    max_ratio: float | None,
    note: str = "",
) -> Row:
    """Compare medians of alternating samples; the goal is ours/recipe <= max_ratio."""
    m_ours, m_recipe = median(ours), median(recipe)
    ratio = m_ours / m_recipe if m_recipe else float("nan")
    return Row(
        item=item,
        metric=metric,
        ours=m_ours,
        recipe=m_recipe,
        unit=unit,
        ratio=ratio,
        goal="" if max_ratio is None else f"<= {max_ratio:g}x",
        met=None if max_ratio is None else ratio <= max_ratio,
        note=note,
        samples={"ours": list(ours), "recipe": list(recipe)},
    )


def skipped_rows(item: str, metrics: Sequence[str], reason: str) -> list[Row]:
    return [Row(item=item, metric=m, ours=None, status=f"skipped: {reason}") for m in metrics]


def alternate(
    ours: Callable[[], Any], recipe: Callable[[], Any], repeats: int, warmup: int = 1
) -> tuple[list[Any], list[Any]]:
    """Run ours, recipe, ours, recipe, ... ``repeats`` times each after unrecorded warm-ups."""
    for _ in range(warmup):
        ours()
        recipe()
    a: list[Any] = []
    b: list[Any] = []
    for _ in range(repeats):
        a.append(ours())
        b.append(recipe())
    return a, b


def base_env() -> dict[str, str]:
    """The parent's environment without AWS / rds_iam_auth settings, repo root on the path."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RDS_IAM_AUTH_", "BOTO_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


class AwsFiles:
    """Temporary shared config / credentials files: empty ones, and one with a profile."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="rds-iam-bench-")
        root = Path(self._dir.name)
        self.empty_config = root / "config"
        self.empty_credentials = root / "credentials"
        self.profile_credentials = root / "credentials-bench"
        self.empty_config.write_text("")
        self.empty_credentials.write_text("")
        self.profile_credentials.write_text(
            f"[bench]\naws_access_key_id = {FAKE_KEY_ID}\naws_secret_access_key = {FAKE_SECRET}\n"
        )

    def env_keys(self, key_id: str = FAKE_KEY_ID, secret: str = FAKE_SECRET) -> dict[str, str]:
        """Credentials from environment variables; config files empty."""
        env = base_env()
        env.update(
            AWS_ACCESS_KEY_ID=key_id,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_CONFIG_FILE=str(self.empty_config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.empty_credentials),
        )
        return env

    def env_profile(self) -> dict[str, str]:
        """No key variables: the default chain reads profile ``bench`` from a file."""
        env = base_env()
        env.update(
            AWS_PROFILE="bench",
            AWS_CONFIG_FILE=str(self.empty_config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.profile_credentials),
        )
        return env

    def close(self) -> None:
        self._dir.cleanup()


def run_child(code: str, env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """Run ``python -c code`` and return its wall time (spawn to exit) and BENCH: values."""
    argv = [sys.executable, "-c", code + HWM_FOOTER]
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise ChildFailed(f"child exited {proc.returncode}: {proc.stderr[-1500:]}")
    out: dict[str, Any] = {"wall_s": wall}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK) and "=" in line:
            key, _, value = line[len(MARK) :].partition("=")
            out[key] = value
    out["hwm_mib"] = int(out.get("hwm_kb", 0)) / 1024
    return out
