"""``python -m benchmarks [--quick] [--only 1,4,9]``: run, print the table, write JSON."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # `tests.emulator` and (without an install) `rds_iam_auth` live at the repository root.
    sys.path.insert(0, str(ROOT))

from benchmarks import cli, cold, contexts, report, server, warm  # noqa: E402
from benchmarks.common import Row  # noqa: E402

TIME_LIMIT_S = 300
ALL_ITEMS = [str(i) for i in range(1, 14)]
FULL = {
    "cold": 9,
    "rounds": 7,
    "sign_n": 2000,
    "hit_n": 20000,
    "contention": 5,
    "server": 7,
    "blocks": 4,
    "per_block": 50,
    "threaded": 2,
}
QUICK = {
    "cold": 7,
    "rounds": 5,
    "sign_n": 1000,
    "hit_n": 10000,
    "contention": 3,
    "server": 5,
    "blocks": 2,
    "per_block": 100,
    "threaded": 1,
}


def _default_output(*, partial: bool) -> Path:
    # A partial run must not replace the full results the README quotes.
    return ROOT / "benchmarks" / "results" / ("partial.json" if partial else "latest.json")


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one flat list of phases
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (same counts)")
    parser.add_argument("--only", default="", help="comma-separated items, e.g. 1,4,9")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON file to write (default results/latest.json; results/partial.json with --only)",
    )
    args = parser.parse_args(argv)
    args.output = args.output or _default_output(partial=bool(args.only))
    items = set(args.only.split(",")) - {""} if args.only else set(ALL_ITEMS)
    unknown = items - set(ALL_ITEMS)
    if unknown:
        parser.error(f"unknown items {sorted(unknown)}; choose from 1..13")
    s = QUICK if args.quick else FULL
    started = time.perf_counter()
    rows: list[Row] = []

    def phase(name: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {name}", file=sys.stderr, flush=True)

    def guarded(name: str, fn: Callable[[], list[Row]], phase_items: set[str]) -> None:
        # One failing phase is reported as an error row; the others still run.
        phase(name)
        try:
            rows.extend(fn())
        except Exception as exc:
            reason = f"error: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[-1]}"
            rows.extend(
                Row(item=i, metric=name, ours=None, status=reason)
                for i in sorted(phase_items & items)
            )

    def cold_rows() -> list[Row]:
        return [r for r in cold.run(s["cold"]) if r.item in items or r.item == "0"]

    def warm_rows() -> list[Row]:
        sign_rows, sign_us = warm.signing(s["rounds"], s["sign_n"])
        out = sign_rows if "4" in items else []
        if "5" in items:
            out += warm.cache_hits(s["rounds"], s["hit_n"], sign_us)
        return out

    if items & {"1", "2", "3"}:
        guarded("items 1-3: cold processes", cold_rows, {"1", "2", "3"})
    if items & {"4", "5"}:
        guarded("items 4-5: warm signing and cache hits", warm_rows, {"4", "5"})
    if items & {"6", "7", "8", "11", "12"}:
        guarded(
            "items 6-8, 11-12: emulator (PostgreSQL, MariaDB)",
            lambda: server.run(s["server"], s["blocks"], s["per_block"], items),
            {"6", "7", "8", "11", "12"},
        )
    if "9" in items:
        guarded("item 9: contention", lambda: warm.contention(s["contention"]), {"9"})
    if "10" in items:
        guarded("item 10: TLS context per connect", lambda: contexts.run(s["rounds"]), {"10"})
    if "13" in items:
        guarded("item 13: rds-iam-auth token vs aws CLI", lambda: cli.run(s["cold"]), {"13"})
    runtime = time.perf_counter() - started
    phase("done")
    rows.append(
        Row(
            item="0",
            metric="total benchmark runtime",
            ours=runtime,
            unit="s",
            goal=f"<= {TIME_LIMIT_S} s",
            met=runtime <= TIME_LIMIT_S,
        )
    )

    rows.sort(key=lambda r: int(r.item))
    print()
    print(report.table(rows))
    print()
    print(report.summary(rows))
    info = report.machine_info()
    print(
        f"\nmachine: {info['cpu_count']} CPUs ({info['cpu_model']}), {info['platform']}, "
        f"Python {sys.version.split()[0]}; load avg {info['load_average_at_end']}"
    )
    print("packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v))
    print(f"total runtime: {runtime:.1f} s ({'quick' if args.quick else 'full'})")
    report.write_json(
        args.output, rows, {"quick": args.quick, "items": sorted(items), **s}, runtime
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
