"""Integration fixtures: one local RDS IAM emulator (real PostgreSQL + MariaDB) per session.

Where the servers cannot start (not root, packages missing) every integration test skips with
one reason; under ``CI=true`` or ``RDS_IAM_AUTH_REQUIRE_EMULATOR=1`` that is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.emulator import (
    LONG_TERM,
    TEMPORARY,
    Emulator,
    EmulatorUnavailable,
    FakeKey,
    ServerInfo,
    unavailable_reason,
)

from .drivers import PROFILES, Profile


def _emulator_required() -> bool:
    return (
        os.environ.get("CI", "").lower() in ("1", "true", "yes")
        or os.environ.get("RDS_IAM_AUTH_REQUIRE_EMULATOR") == "1"
    )


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The running emulator (both servers), stopped by PID when the session ends."""
    reason = unavailable_reason()
    if reason is None:
        try:
            emu = Emulator().start()
        except EmulatorUnavailable as exc:
            reason = str(exc)
        else:
            try:
                yield emu
            finally:
                emu.stop()
            return
    if _emulator_required():
        pytest.fail(f"the local RDS IAM emulator is required here but unavailable: {reason}")
    pytest.skip(f"local RDS IAM emulator unavailable: {reason}")


@pytest.fixture
def pg_endpoint(emulator: Emulator) -> ServerInfo:
    """The PostgreSQL server: host, port, CA path, user, database, region."""
    return emulator.pg


@pytest.fixture
def mysql_endpoint(emulator: Emulator) -> ServerInfo:
    """The MariaDB server: host, port, CA path, user, database, region."""
    return emulator.mysql


@pytest.fixture
def long_term_key(emulator: Emulator) -> FakeKey:
    """The fake long-term key pair the servers accept (``.botocore_credentials()``)."""
    assert LONG_TERM in emulator.keys
    return LONG_TERM


@pytest.fixture
def temporary_key(emulator: Emulator) -> FakeKey:
    """The fake temporary key the servers accept only with its session token."""
    assert TEMPORARY in emulator.keys
    return TEMPORARY


@dataclass(frozen=True)
class Target:
    """One server and the driver that talks to it."""

    info: ServerInfo
    profile: Profile

    @property
    def driver(self) -> str:
        return self.profile.driver

    @property
    def engine(self) -> str:
        return self.profile.engine

    @property
    def db_kwargs(self) -> dict[str, str]:
        return {self.profile.db_key: self.info.database}


def _installed(driver: str) -> bool:
    # mysqlclient needs C headers to build; `nox -s tests` leaves it out on a machine without
    # them (never in CI, where every driver must be there).
    if driver != "mysqlclient" or _emulator_required():
        return True
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=[d for d in PROFILES if _installed(d)])
def target(request: pytest.FixtureRequest, emulator: Emulator) -> Target:
    """Each driver with its server: the PostgreSQL drivers → PostgreSQL, MySQL → MariaDB."""
    profile = PROFILES[request.param]
    return Target(emulator.pg if profile.engine == "postgres" else emulator.mysql, profile)
