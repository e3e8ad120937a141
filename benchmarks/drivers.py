"""Item 11: psycopg2, pg8000, mysql.connector and mysqlclient against the AWS recipe.

Per driver, in one run against the emulator: a cold process to its first ``SELECT 1`` (ours:
``rds_iam_auth.connect``; the recipe: ``boto3.client("rds").generate_db_auth_token`` and the
driver's own verified-TLS keywords), and sequential pooled connects (ours: one ``creator()``;
the recipe: a new token per connect), client CPU per connect. Goals from the driver issue:
cold <= 0.6x, pooled CPU <= 0.95x, 1 signing.
"""

from __future__ import annotations

import time
from typing import Any

from .common import AwsFiles, Row, alternate, ratio_row, run_child

DRIVERS = ("psycopg2", "pg8000", "mysql.connector", "mysqlclient")
_DB = {"psycopg2": "dbname", "pg8000": "database", "mysql.connector": "database"}


def _db_key(driver: str) -> str:
    return _DB.get(driver, "database")


def _recipe_connect_code(driver: str, info: Any) -> str:
    """The driver's connect call with the token in ``token``, verified TLS as each driver
    spells it (the recipe a careful user writes)."""
    base = f"host={info.host!r}, port={info.port}, user={info.user!r}, password=token"
    ca = repr(info.ca_path)
    if driver == "psycopg2":
        return (
            f"c = psycopg2.connect({base}, dbname={info.database!r}, sslmode='verify-full', "
            f"sslrootcert={ca})\n"
        )
    if driver == "pg8000":
        return (
            f"c = pg8000.dbapi.connect({base}, database={info.database!r}, "
            f"ssl_context=ssl.create_default_context(cafile={ca}))\n"
        )
    if driver == "mysql.connector":
        return (
            f"c = mysql.connector.connect({base}, database={info.database!r}, "
            f"auth_plugin='mysql_clear_password', ssl_ca={ca}, ssl_verify_cert=True, "
            "ssl_verify_identity=True)\n"
        )
    return (
        f"c = MySQLdb.connect({base}, database={info.database!r}, ssl={{'ca': {ca}}}, "
        "ssl_mode='VERIFY_IDENTITY')\n"
    )


_IMPORTS = {
    "psycopg2": "import psycopg2\n",
    "pg8000": "import ssl\nimport pg8000.dbapi\n",
    "mysql.connector": "import mysql.connector\n",
    "mysqlclient": "import MySQLdb\n",
}
_SELECT = "cur = c.cursor()\ncur.execute('SELECT 1')\nassert cur.fetchone()[0] == 1\nc.close()\n"


def _cold_codes(driver: str, info: Any) -> tuple[str, str]:
    ours = (
        "import rds_iam_auth\n"
        f"c = rds_iam_auth.connect({info.host!r}, {info.user!r}, driver={driver!r}, "
        f"port={info.port}, region={info.region!r}, {_db_key(driver)}={info.database!r})\n"
        + _SELECT
    )
    recipe = (
        "import boto3\n"
        + _IMPORTS[driver]
        + f"client = boto3.client('rds', region_name={info.region!r})\n"
        + f"token = client.generate_db_auth_token({info.host!r}, {info.port}, {info.user!r}, "
        f"Region={info.region!r})\n" + _recipe_connect_code(driver, info) + _SELECT
    )
    return ours, recipe


def _server(emu: Any, driver: str) -> Any:
    return emu.mysql if driver in ("mysql.connector", "mysqlclient") else emu.pg


def cold(emu: Any, env_for: Any, repeats: int) -> list[Row]:
    """Cold process to the first SELECT 1, ours vs the recipe, per driver."""
    rows = []
    for driver in DRIVERS:
        info = _server(emu, driver)
        env = env_for(info)
        ours_code, recipe_code = _cold_codes(driver, info)
        run_child(ours_code, env)  # warm-up: page cache, .pyc files
        run_child(recipe_code, env)
        ours, recipe = alternate(
            lambda c=ours_code, e=env: run_child(c, e),
            lambda c=recipe_code, e=env: run_child(c, e),
            repeats,
            warmup=0,
        )
        rows.append(
            ratio_row(
                "11",
                f"{driver}: cold process -> first SELECT 1",
                [s["wall_s"] * 1000 for s in ours],
                [s["wall_s"] * 1000 for s in recipe],
                "ms",
                0.6,
                note=f"peak RSS {ours[-1]['hwm_mib']:.1f} vs {recipe[-1]['hwm_mib']:.1f} MiB",
            )
        )
    return rows


def pooled(emu: Any, blocks: int, per_block: int) -> list[Row]:
    """Sequential connect + SELECT 1 + close: one creator() vs a token per connect."""
    import boto3

    import rds_iam_auth
    from tests.emulator import LONG_TERM

    rows = []
    for driver in DRIVERS:
        info = _server(emu, driver)
        connector = rds_iam_auth.Connector(
            credentials=LONG_TERM.botocore_credentials(), region=info.region, ca=info.ca_path
        )
        db = {_db_key(driver): info.database}
        create = connector.creator(info.host, info.user, driver=driver, port=info.port, **db)
        client = boto3.client(
            "rds",
            region_name=info.region,
            aws_access_key_id=LONG_TERM.access_key,
            aws_secret_access_key=LONG_TERM.secret_key,
        )
        scope: dict[str, Any] = {}
        exec(_IMPORTS[driver], scope)  # noqa: S102 - our own fixed import lines
        connect_code = compile(_recipe_connect_code(driver, info), "<recipe>", "exec")
        signed = [0]

        def recipe_connect(
            scope: dict[str, Any] = scope,
            code: Any = connect_code,
            client: Any = client,
            info: Any = info,
            signed: list[int] = signed,
        ) -> Any:
            scope["token"] = client.generate_db_auth_token(
                info.host, info.port, info.user, Region=info.region
            )
            signed[0] += 1
            exec(code, scope)  # noqa: S102 - the recipe's connect line, compiled once
            return scope["c"]

        def block(connect: Any) -> Any:
            def run() -> float:
                cpu = time.process_time()
                for _ in range(per_block):
                    conn = connect()
                    cur = conn.cursor()
                    cur.execute("SELECT 1")
                    assert cur.fetchone()[0] == 1
                    conn.close()
                return (time.process_time() - cpu) / per_block * 1000

            return run

        ours, recipe = alternate(block(create), block(recipe_connect), blocks, warmup=0)
        total = blocks * per_block
        rows.append(
            Row(
                item="11",
                metric=f"{driver}: {total} pooled connects via one creator(): signings",
                ours=float(connector.stats.signings),
                recipe=float(signed[0]),
                unit="signings",
                goal="1",
                met=connector.stats.signings == 1,
            )
        )
        rows.append(
            ratio_row(
                "11",
                f"{driver}: client CPU per connect+SELECT 1+close",
                ours,
                recipe,
                "ms CPU",
                0.95,
                note=f"medians of {blocks} alternating blocks of {per_block}",
            )
        )
    return rows


def run(emu: Any, files: AwsFiles, repeats: int, blocks: int, per_block: int) -> list[Row]:
    """Item 11, both halves."""
    from .server import _server_env

    return cold(emu, lambda info: _server_env(files, info), repeats) + pooled(
        emu, blocks, per_block
    )
