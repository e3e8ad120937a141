"""The result table (stdout) and benchmarks/results/latest.json."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from .common import Row

PACKAGES = (
    "rds-iam-auth",
    "botocore",
    "boto3",
    "psycopg",
    "psycopg-binary",
    "PyMySQL",
    "certifi",
    "trustme",
)


def machine_info() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if versions["rds-iam-auth"] is None:
        # Run from a checkout without an install (PYTHONPATH=.): the package's own version.
        try:
            from rds_iam_auth import __version__

            versions["rds-iam-auth"] = f"{__version__} (not installed, from source)"
        except ImportError:
            pass
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": sys.version,
        "python_executable": sys.executable,
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average_at_end": load,
        "packages": versions,
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[Row]) -> str:
    headers = ("item", "metric", "ours", "recipe", "unit", "ratio", "goal", "status")
    body = [
        (
            r.item,
            r.metric,
            _fmt(r.ours),
            _fmt(r.recipe),
            r.unit,
            "-" if r.ratio is None else f"{r.ratio:.3f}x",
            r.goal or "-",
            r.status,
        )
        for r in rows
    ]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    align_right = {2, 3, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in align_right else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ).rstrip()

    out = [line(headers), line(tuple("-" * w for w in widths))]
    for r, cells in zip(rows, body, strict=True):
        out.append(line(cells))
        if r.note:
            out.append(" " * (widths[0] + 2) + "  note: " + r.note)
    return "\n".join(out)


def summary(rows: list[Row]) -> str:
    goals = [r for r in rows if r.met is not None]
    missed = [r for r in goals if not r.met]
    skipped = [r for r in rows if r.status.startswith("skipped")]
    text = f"goals: {len(goals) - len(missed)}/{len(goals)} met"
    errors = [r for r in rows if r.status.startswith("error")]
    if skipped:
        text += f", {len(skipped)} rows skipped"
    if errors:
        text += f", {len(errors)} rows failed with an error"
    if missed:
        text += "\nNOT met:\n" + "\n".join(
            f"  [{r.item}] {r.metric}: {_fmt(r.ratio if r.ratio is not None else r.ours)}"
            f" (goal {r.goal})"
            for r in missed
        )
    return text


def write_json(path: Path, rows: list[Row], settings: dict[str, Any], runtime_s: float) -> None:
    data = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runtime_s": round(runtime_s, 2),
        "settings": settings,
        "machine": machine_info(),
        "method": (
            "ours = rds_iam_auth; recipe = the AWS guide's boto3 recipe (one "
            "boto3.client('rds') per process, generate_db_auth_token per connect, then the "
            "driver). Runs alternate ours, recipe, ours, recipe...; ratio = median(ours) / "
            "median(recipe). Cold-process times are wall from spawn to exit of `python -c`; "
            "peak RSS is the child's own VmHWM."
        ),
        "goals": {
            "met": sum(1 for r in rows if r.met),
            "not_met": sum(1 for r in rows if r.met is False),
            "skipped": sum(1 for r in rows if r.status.startswith("skipped")),
        },
        "results": [asdict(r) for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)
