"""``manage.py iam_steps``: run the steps a test sends, one JSON object per line.

The test process keeps the emulator (and its clock offset); this process keeps Django, the
backend's Connector and its FakeClock. Requests on stdin, one answer per request on stdout:

- ``{"op": "prepare"}``: create the PostgreSQL schema if one is configured, then ``migrate``;
  answers which tables existed before and after.
- ``{"op": "advance", "seconds": s}``: move the Connector's FakeClock.
- ``{"op": "work", "connections": n}``: n times: close the connection (and the pool, if any)
  so that the next query opens a new one, write a Note, read the count and ``current_user``.
- ``{"op": "finish"}``: unapply the migration (drop the schema on PostgreSQL).

Every answer carries the Connector's stats. An exception is answered as ``{"error": ...}``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from tests.django_project.connectors import CLOCK
from tests.django_project.iamapp.models import Note


def _fresh_connection() -> None:
    connection.close()
    if connection.vendor == "postgresql" and connection.pool is not None:
        connection.close_pool()  # the next query builds a new pool, which logs in anew


def _current_user() -> str:
    with connection.cursor() as cursor:
        sql = "SELECT current_user" if connection.vendor == "postgresql" else "SELECT USER()"
        cursor.execute(sql)
        return str(cursor.fetchone()[0])


def _tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names() if "note" in t)


def _prepare() -> dict[str, Any]:
    schema = os.environ.get("RIA_DJANGO_SCHEMA")
    if schema:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    before = _tables()
    call_command("migrate", verbosity=0, interactive=False)
    return {"before": before, "after": _tables(), "driver": _driver()}


def _driver() -> str:
    connection.ensure_connection()
    return type(connection.connection).__module__.split(".")[0]


def _work(connections: int) -> dict[str, Any]:
    users, pooled = set(), set()
    for i in range(connections):
        _fresh_connection()
        Note.objects.create(text=f"note {i}")
        users.add(_current_user())
        # psycopg_pool marks the connections it hands out with the pool they belong to.
        pooled.add(getattr(connection.connection, "_pool", None) is not None)
    return {"count": Note.objects.count(), "users": sorted(users), "pooled": sorted(pooled)}


def _finish() -> dict[str, Any]:
    schema = os.environ.get("RIA_DJANGO_SCHEMA")
    if schema:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        call_command("migrate", "iamapp", "zero", verbosity=0, interactive=False)
    after = _tables()
    _fresh_connection()
    return {"after": after}


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "prepare":
        result = _prepare()
    elif op == "advance":
        CLOCK.advance(float(request["seconds"]))
        result = {}
    elif op == "work":
        result = _work(int(request["connections"]))
    elif op == "finish":
        result = _finish()
    else:
        raise ValueError(f"unknown op {op!r}")
    stats = connection.rds_iam.connector.stats
    return {**result, "signings": stats.signings, "retries": stats.retries}


class Command(BaseCommand):
    help = "Run test steps read as JSON lines from stdin."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in sys.stdin:
            try:
                answer = _answer(json.loads(line))
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
