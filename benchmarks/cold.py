"""Items 1-3: cold processes (``python -c``) that sign one token or only import."""

from __future__ import annotations

from .common import HOST, PORT, REGION, USER, AwsFiles, Row, alternate, ratio_row, run_child

OURS_TOKEN = (
    "import rds_iam_auth\n"
    f"t = rds_iam_auth.generate_auth_token({HOST!r}, {PORT}, {USER!r}, region={REGION!r})\n"
    f"assert t.startswith({HOST!r})\n"
)
RECIPE_TOKEN = (
    "import boto3\n"
    f"client = boto3.client('rds', region_name={REGION!r})\n"
    f"t = client.generate_db_auth_token({HOST!r}, {PORT}, {USER!r}, Region={REGION!r})\n"
    f"assert t.startswith({HOST!r})\n"
)
_WATCHED = ("boto3", "botocore", "psycopg", "pymysql")
_MODULES = f"print('BENCH:mods=' + ','.join(m for m in {_WATCHED!r} if m in sys.modules))\n"
OURS_IMPORT = "import sys\nimport rds_iam_auth\n" + _MODULES
RECIPE_IMPORT = "import sys\nimport boto3\n" + _MODULES
EMPTY = "pass\n"


def run(repeats: int) -> list[Row]:
    files = AwsFiles()
    try:
        return _run(files, repeats)
    finally:
        files.close()


def _pair(ours_code: str, recipe_code: str, env: dict[str, str], repeats: int):
    return alternate(
        lambda: run_child(ours_code, env), lambda: run_child(recipe_code, env), repeats
    )


def _run(files: AwsFiles, repeats: int) -> list[Row]:
    rows: list[Row] = []
    env_keys = files.env_keys()
    env_profile = files.env_profile()

    baseline = [run_child(EMPTY, env_keys) for _ in range(repeats)]
    key_ours, key_recipe = _pair(OURS_TOKEN, RECIPE_TOKEN, env_keys, repeats)
    prof_ours, prof_recipe = _pair(OURS_TOKEN, RECIPE_TOKEN, env_profile, repeats)
    imp_ours, imp_recipe = _pair(OURS_IMPORT, RECIPE_IMPORT, env_keys, repeats)

    def ms(samples):
        return [s["wall_s"] * 1000 for s in samples]

    def mib(samples):
        return [s["hwm_mib"] for s in samples]

    rows.append(
        Row(
            item="0",
            metric="baseline: `python -c pass` (interpreter start)",
            ours=ratio_row("", "", ms(baseline), ms(baseline), "", None).ours,
            unit="ms",
            note=f"peak RSS {mib(baseline)[0]:.1f} MiB; included in every cold-process time",
            samples={"ours": ms(baseline), "hwm_mib": mib(baseline)},
        )
    )
    rows.append(
        ratio_row(
            "1",
            "cold process -> first token, env credentials",
            ms(key_ours),
            ms(key_recipe),
            "ms",
            0.45,
        )
    )
    rows.append(
        ratio_row(
            "1",
            "cold process -> first token, AWS_PROFILE file",
            ms(prof_ours),
            ms(prof_recipe),
            "ms",
            0.6,
        )
    )
    rows.append(
        ratio_row(
            "2", "peak RSS (VmHWM), env credentials", mib(key_ours), mib(key_recipe), "MiB", 0.6
        )
    )
    rows.append(
        ratio_row(
            "2", "peak RSS (VmHWM), AWS_PROFILE file", mib(prof_ours), mib(prof_recipe), "MiB", 0.6
        )
    )
    rows.append(
        ratio_row(
            "3",
            "cold `import rds_iam_auth` vs `import boto3`",
            ms(imp_ours),
            ms(imp_recipe),
            "ms",
            None,
        )
    )
    rows.append(
        ratio_row("3", "peak RSS after import only", mib(imp_ours), mib(imp_recipe), "MiB", None)
    )
    loaded = sorted({m for s in imp_ours for m in s.get("mods", "").split(",") if m})
    recipe_loaded = sorted({m for s in imp_recipe for m in s.get("mods", "").split(",") if m})
    rows.append(
        Row(
            item="3",
            metric="modules loaded by `import rds_iam_auth` (of boto3/botocore/psycopg/pymysql)",
            ours=float(len(loaded)),
            recipe=float(len(recipe_loaded)),
            unit="modules",
            goal="none",
            met=not loaded,
            note=f"ours: {loaded or 'none'}; `import boto3`: {recipe_loaded or 'none'}",
        )
    )
    return rows
