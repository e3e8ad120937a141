"""Items 6-8: IAM logins to the local emulator (real PostgreSQL and MariaDB servers)."""

from __future__ import annotations

import time
from typing import Any

from . import asyncio_loop, drivers
from .common import AwsFiles, Row, alternate, median, ratio_row, run_child, skipped_rows

ITEM6 = ["psycopg: cold process -> SELECT 1", "pymysql: cold process -> SELECT 1"]
ITEM7 = ["signings", "client CPU per connect", "wall per connect"]
ITEM8 = ["signings", "errors", "client CPU"]


def _ours_cold(driver: str, info: Any, *, explicit_region: bool = True) -> str:
    # An RDS host name carries its region; the emulator's 127.0.0.1 does not, so pass it
    # like the recipe passes region_name=. Without it the region comes from AWS_REGION.
    db = "dbname" if driver == "psycopg" else "database"
    region = f", region={info.region!r}" if explicit_region else ""
    code = (
        "import rds_iam_auth\n"
        f"c = rds_iam_auth.connect({info.host!r}, {info.user!r}, driver={driver!r}, "
        f"port={info.port}, {db}={info.database!r}{region})\n"
    )
    return code + _select(driver)


def _select(driver: str) -> str:
    if driver == "psycopg":
        return "assert c.execute('SELECT 1').fetchone()[0] == 1\nc.close()\n"
    return "cur = c.cursor()\ncur.execute('SELECT 1')\nassert cur.fetchone()[0] == 1\nc.close()\n"


def _recipe_connect(driver: str, info: Any) -> str:
    token_expr = "token"  # the variable holding the token in the child script
    if driver == "psycopg":
        return (
            f"c = psycopg.connect(host={info.host!r}, port={info.port}, user={info.user!r}, "
            f"password={token_expr}, dbname={info.database!r}, sslmode='verify-full', "
            f"sslrootcert={info.ca_path!r})\n"
        )
    return (
        f"c = pymysql.connect(host={info.host!r}, port={info.port}, user={info.user!r}, "
        f"password={token_expr}, database={info.database!r}, ssl_ca={info.ca_path!r}, "
        "ssl_verify_identity=True)\n"
    )


def _recipe_token(info: Any, client: str = "client") -> str:
    return (
        f"token = {client}.generate_db_auth_token({info.host!r}, {info.port}, {info.user!r}, "
        f"Region={info.region!r})\n"
    )


def _recipe_cold(driver: str, info: Any) -> str:
    return (
        f"import boto3\nimport {driver}\n"
        f"client = boto3.client('rds', region_name={info.region!r})\n"
        + _recipe_token(info)
        + _recipe_connect(driver, info)
        + _select(driver)
    )


def _server_env(files: AwsFiles, info: Any) -> dict[str, str]:
    from tests.emulator import LONG_TERM

    env = files.env_keys(LONG_TERM.access_key, LONG_TERM.secret_key)
    env["AWS_REGION"] = info.region
    env["RDS_IAM_AUTH_CA_BUNDLE"] = info.ca_path
    return env


def cold_select(emu: Any, files: AwsFiles, repeats: int) -> list[Row]:
    """Item 6: cold process to the first SELECT 1, ours vs the recipe, per driver."""
    rows = []
    for driver, info in (("psycopg", emu.pg), ("pymysql", emu.mysql)):
        env = _server_env(files, info)
        codes = {
            "ours": _ours_cold(driver, info),
            "recipe": _recipe_cold(driver, info),
        }
        if driver == "psycopg":
            codes["ours_env_region"] = _ours_cold(driver, info, explicit_region=False)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
        for code in codes.values():
            run_child(code, env)  # warm-up: page cache, .pyc files
        for _ in range(repeats):
            for name, code in codes.items():  # ours, recipe, (ours without region=), ...
                samples[name].append(run_child(code, env))

        def ms(name: str, samples: dict[str, list[dict[str, Any]]] = samples) -> list[float]:
            return [s["wall_s"] * 1000 for s in samples[name]]

        def mib(name: str, samples: dict[str, list[dict[str, Any]]] = samples) -> list[float]:
            return [s["hwm_mib"] for s in samples[name]]

        rows.append(
            ratio_row(
                "6",
                f"{driver}: cold process -> first SELECT 1",
                ms("ours"),
                ms("recipe"),
                "ms",
                0.7,
                note="ours passes region= (as an RDS host name would supply it)",
            )
        )
        rows.append(
            ratio_row(
                "6",
                f"{driver}: peak RSS of that process",
                mib("ours"),
                mib("recipe"),
                "MiB",
                0.8,
            )
        )
        if "ours_env_region" in samples:
            rows.append(
                ratio_row(
                    "6",
                    f"{driver}: same, region only from AWS_REGION (no region=)",
                    ms("ours_env_region"),
                    ms("recipe"),
                    "ms",
                    None,
                    note=f"peak RSS {median(mib('ours_env_region')):.1f} MiB",
                )
            )
    return rows


def sequential(emu: Any, blocks: int, per_block: int, driver: str = "psycopg") -> list[Row]:
    """Item 7: sequential connect + SELECT 1 + close, one creator() vs a token per connect."""
    import boto3

    import rds_iam_auth
    from tests.emulator import LONG_TERM

    info = emu.pg if driver == "psycopg" else emu.mysql
    db = {"dbname": info.database} if driver == "psycopg" else {"database": info.database}
    connector = rds_iam_auth.Connector(
        credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=info.ca_path
    )
    create = connector.creator(info.host, info.user, driver=driver, port=info.port, **db)
    client = boto3.client(
        "rds",
        region_name=info.region,
        aws_access_key_id=LONG_TERM.access_key,
        aws_secret_access_key=LONG_TERM.secret_key,
    )
    drv: Any = __import__(driver)
    recipe_signings = 0

    def select(conn: Any) -> None:
        cur = conn.cursor()
        cur.execute("SELECT 1")
        assert cur.fetchone()[0] == 1
        cur.close()
        conn.close()

    def recipe_connect() -> Any:
        nonlocal recipe_signings
        token = client.generate_db_auth_token(info.host, info.port, info.user, Region=info.region)
        recipe_signings += 1
        if driver == "psycopg":
            return drv.connect(
                host=info.host,
                port=info.port,
                user=info.user,
                password=token,
                sslmode="verify-full",
                sslrootcert=info.ca_path,
                **db,
            )
        return drv.connect(
            host=info.host,
            port=info.port,
            user=info.user,
            password=token,
            ssl_ca=info.ca_path,
            ssl_verify_identity=True,
            **db,
        )

    def block(connect: Any) -> Any:
        def run() -> tuple[float, float]:
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(per_block):
                select(connect())
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return cpu / per_block * 1000, wall / per_block * 1000

        return run

    ours, recipe = alternate(block(create), block(recipe_connect), blocks, warmup=0)
    total = blocks * per_block
    return [
        Row(
            item="7",
            metric=f"{driver}: {total} sequential connects via one creator(): signings",
            ours=float(connector.stats.signings),
            recipe=float(recipe_signings),
            unit="signings",
            goal="1",
            met=connector.stats.signings == 1,
        ),
        ratio_row(
            "7",
            f"{driver}: client CPU per connect+SELECT 1+close",
            [o[0] for o in ours],
            [r[0] for r in recipe],
            "ms CPU",
            0.95,
            note=f"medians of {blocks} alternating blocks of {per_block}",
        ),
        ratio_row(
            "7",
            f"{driver}: wall per connect+SELECT 1+close",
            [o[1] for o in ours],
            [r[1] for r in recipe],
            "ms",
            1.0,
        ),
    ]


THREADS = 32
PER_THREAD = 5

_THREADED_TAIL = f"""
threads = [threading.Thread(target=work) for _ in range({THREADS})]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
print('BENCH:inner_wall_s=%f' % (time.perf_counter() - start))
print('BENCH:errors=%d' % len(errors))
print('BENCH:first_error=' + (errors[0] if errors else ''))
print('BENCH:cpu_s=%f' % time.process_time())
"""


def _ours_threaded(info: Any) -> str:
    return (
        "import threading, time\nimport rds_iam_auth\n"
        f"connector = rds_iam_auth.Connector(region={info.region!r})\n"
        "errors = []\n"
        "def work():\n"
        f"    for _ in range({PER_THREAD}):\n"
        "        try:\n"
        f"            c = connector.connect({info.host!r}, {info.user!r}, driver='psycopg', "
        f"port={info.port}, dbname={info.database!r})\n"
        "            assert c.execute('SELECT 1').fetchone()[0] == 1\n"
        "            c.close()\n"
        "        except Exception as exc:\n"
        "            errors.append(repr(exc)[:200])\n"
        + _THREADED_TAIL
        + "print('BENCH:signings=%d' % connector.stats.signings)\n"
    )


def _recipe_threaded(info: Any) -> str:
    # The AWS guide's recipe, per thread: its own boto3 client, a new token per connect.
    body = [
        _recipe_token(info).strip(),
        "signings.append(1)",
        _recipe_connect("psycopg", info).strip(),
        "assert c.execute('SELECT 1').fetchone()[0] == 1",
        "c.close()",
    ]
    return (
        "import threading, time\nimport boto3, psycopg\n"
        "errors = []\nsignings = []\n"
        "def work():\n"
        "    try:\n"
        f"        client = boto3.client('rds', region_name={info.region!r})\n"
        "    except Exception as exc:\n"
        f"        errors.extend([repr(exc)[:200]] * {PER_THREAD})\n"
        "        return\n"
        f"    for _ in range({PER_THREAD}):\n"
        "        try:\n"
        + "".join(f"            {line}\n" for line in body)
        + "        except Exception as exc:\n"
        "            errors.append(repr(exc)[:200])\n"
        + _THREADED_TAIL
        + "print('BENCH:signings=%d' % len(signings))\n"
    )


def threaded(emu: Any, files: AwsFiles, repeats: int) -> list[Row]:
    """Item 8: 32 threads x 5 connects from a cold process (psycopg)."""
    info = emu.pg
    env = _server_env(files, info)
    ours_code, recipe_code = _ours_threaded(info), _recipe_threaded(info)
    ours, recipe = alternate(
        lambda: run_child(ours_code, env, timeout=120),
        lambda: run_child(recipe_code, env, timeout=120),
        repeats,
        warmup=0,
    )
    total = THREADS * PER_THREAD
    ours_sign = [int(s["signings"]) for s in ours]
    recipe_sign = [int(s["signings"]) for s in recipe]
    ours_err = [int(s["errors"]) for s in ours]
    recipe_err = [int(s["errors"]) for s in recipe]
    first_errors = [s["first_error"] for s in ours + recipe if s.get("first_error")]
    label = f"{THREADS} threads x {PER_THREAD} connects, cold process"
    return [
        Row(
            item="8",
            metric=f"{label}: signings",
            ours=float(max(ours_sign)),
            recipe=float(median(recipe_sign)),
            unit="signings",
            goal="1",
            met=max(ours_sign) == 1,
            samples={"ours": ours_sign, "recipe": recipe_sign},
        ),
        Row(
            item="8",
            metric=f"{label}: errors (of {total})",
            ours=float(max(ours_err)),
            recipe=float(max(recipe_err)),
            unit="errors",
            goal="0",
            met=max(ours_err) == 0,
            note=f"first error: {first_errors[0]}" if first_errors else "",
            samples={"ours": ours_err, "recipe": recipe_err},
        ),
        ratio_row(
            "8",
            f"{label}: client CPU (whole process)",
            [float(s["cpu_s"]) * 1000 for s in ours],
            [float(s["cpu_s"]) * 1000 for s in recipe],
            "ms CPU",
            None,
            note="recipe: boto3.client('rds') per thread",
        ),
        ratio_row(
            "8",
            f"{label}: wall (spawn to exit)",
            [s["wall_s"] * 1000 for s in ours],
            [s["wall_s"] * 1000 for s in recipe],
            "ms",
            None,
        ),
    ]


def run(repeats: int, blocks: int, per_block: int, items: set[str]) -> list[Row]:
    from tests.emulator import Emulator, EmulatorUnavailable, unavailable_reason

    reason = unavailable_reason()
    started = time.perf_counter()
    if reason is None:
        files = AwsFiles()
        try:
            with Emulator() as emu:
                setup_s = time.perf_counter() - started
                rows: list[Row] = []
                if "6" in items:
                    rows += cold_select(emu, files, repeats)
                if "7" in items:
                    rows += sequential(emu, blocks, per_block)
                if "8" in items:
                    rows += threaded(emu, files, max(1, repeats // 3))
                if "11" in items:
                    rows += drivers.run(emu, files, max(3, repeats // 2), blocks, per_block)
                if "12" in items:
                    rows += asyncio_loop.run(emu, max(2, repeats // 2))
                if rows:
                    rows[0].note = (rows[0].note + f"; emulator setup {setup_s:.1f} s").lstrip("; ")
                return rows
        except EmulatorUnavailable as exc:
            reason = str(exc).splitlines()[0]
        finally:
            files.close()
    rows = []
    for item, metrics in (
        ("6", ITEM6),
        ("7", ITEM7),
        ("8", ITEM8),
        ("11", drivers.DRIVERS),
        ("12", ("async",)),
    ):
        if item in items:
            rows += skipped_rows(item, metrics, reason)
    return rows
