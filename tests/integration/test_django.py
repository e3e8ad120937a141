"""The Django backends against the emulator: ``migrate`` and queries across token lifetimes.

Each case runs a real Django project (``tests/django_project``) in a child process. Per
lifetime the servers' clock (``Emulator.set_clock_offset``) and the Connector's FakeClock move
900 s together, so the previous token is expired for the server too; every step opens new
connections (closed connection, ``CONN_MAX_AGE`` 0; with ``OPTIONS["pool"]`` a new pool), and
each one must log in (the verifier's log) with one signing per lifetime (Connector stats).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.django_project.harness import Steps, accepted_logins, django_env
from tests.emulator import Emulator

pytestmark = pytest.mark.integration

LIFETIME_S = 900
CONNECTIONS_PER_STEP = 3
CONNECTOR = "tests.django_project.connectors:emulator"


@pytest.fixture
def server_clock(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator, its clock offset put back to 0 however the test ends."""
    try:
        yield emulator
    finally:
        emulator.set_clock_offset(0)


@pytest.mark.parametrize(
    ("engine", "driver", "pool"),
    [
        ("postgres", "psycopg", False),
        ("postgres", "psycopg", True),
        ("postgres", "psycopg2", False),
        ("mariadb", "MySQLdb", False),
    ],
    ids=["psycopg", "psycopg-pool", "psycopg2", "mysqlclient"],
)
def test_migrate_and_queries_across_three_token_lifetimes(
    server_clock: Emulator, tmp_path: Path, engine: str, driver: str, pool: bool
) -> None:
    emu = server_clock
    info = emu.pg if engine == "postgres" else emu.mysql
    settings = {}
    if engine == "postgres":
        settings["SCHEMA"] = f"dj_{secrets.token_hex(4)}"  # its own tables in the shared db
        settings["PG_DRIVER"] = driver
    if pool:
        settings["POOL"] = "1"
    steps = Steps(django_env(info, tmp_path, connector=CONNECTOR, **settings), tmp_path / "err")
    try:
        prepared = steps.ask("prepare")
        assert prepared["driver"] == driver
        assert "iamapp_note" not in prepared["before"]
        assert "iamapp_note" in prepared["after"]  # migrate ran, through our backend
        for lifetime in range(3):
            if lifetime:
                emu.set_clock_offset(lifetime * LIFETIME_S)
                steps.ask("advance", seconds=LIFETIME_S)
            logins = accepted_logins(emu.verifier_log(engine))
            answer = steps.ask("work", connections=CONNECTIONS_PER_STEP)
            assert accepted_logins(emu.verifier_log(engine)) - logins == CONNECTIONS_PER_STEP
            assert answer["users"] == [info.user] or all(
                u.startswith(f"{info.user}@") for u in answer["users"]
            )
            assert answer["pooled"] == [pool]
            assert answer["count"] == CONNECTIONS_PER_STEP * (lifetime + 1)
            assert answer["signings"] == lifetime + 1  # one token per lifetime, shared
            assert answer["retries"] == 0
        assert "iamapp_note" not in steps.ask("finish")["after"]
    finally:
        status = steps.close()
    assert status == 0, steps.stderr()[-3000:]


def test_a_token_from_an_old_lifetime_is_refused_by_the_server(
    server_clock: Emulator, tmp_path: Path
) -> None:
    """The control for the test above: without a fresh token the step would fail."""
    emu = server_clock
    env = django_env(emu.pg, tmp_path, connector=CONNECTOR, SCHEMA=f"dj_{secrets.token_hex(4)}")
    steps = Steps(env, tmp_path / "err")
    try:
        steps.ask("prepare")
        emu.set_clock_offset(LIFETIME_S)  # the servers move on, the Connector's clock does not
        with pytest.raises(AssertionError, match="PAM authentication failed"):
            steps.ask("work", connections=1)
        emu.set_clock_offset(0)
        steps.ask("finish")
    finally:
        steps.close()


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_a_refused_token_is_retried_once_with_a_fresh_one(
    emulator: Emulator, tmp_path: Path, engine: str
) -> None:
    """Django's own connections go through Connector.connect: its retry applies."""
    info = emulator.pg if engine == "postgres" else emulator.mysql
    settings = {"SCHEMA": f"dj_{secrets.token_hex(4)}"} if engine == "postgres" else {}
    stale_first = "tests.django_project.connectors:stale_first"
    steps = Steps(django_env(info, tmp_path, connector=stale_first, **settings), tmp_path / "e")
    try:
        before = emulator.verifier_log(engine)
        steps.ask("prepare")  # the first login: refused, then retried with a fresh token
        verdicts = emulator.verifier_log(engine)[len(before) :]
        assert verdicts[0].startswith("REFUSED")
        assert verdicts[1].startswith("ACCEPTED")
        answer = steps.ask("finish")
        assert (answer["signings"], answer["retries"]) == (2, 1)
    finally:
        status = steps.close()
    assert status == 0, steps.stderr()[-3000:]
