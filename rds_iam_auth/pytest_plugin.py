"""pytest fixtures for testing code that connects through rds_iam_auth.

Enable the plugin in your top-level ``conftest.py`` (or with ``pytest -p
rds_iam_auth.pytest_plugin``); installing rds_iam_auth does not load it into every pytest run::

    pytest_plugins = ["rds_iam_auth.pytest_plugin"]

No AWS, no network:

- ``rds_iam_clock``: a :class:`~rds_iam_auth.testing.FakeClock` at 2024-01-01T00:00:00Z.
- ``rds_iam_signer``: a :class:`~rds_iam_auth.testing.StaticSigner` handing out
  ``"rds-iam-test-token"`` (override the fixture for other tokens).
- ``rds_iam_connector``: a :class:`~rds_iam_auth.Connector` with that signer and clock,
  ``region="us-east-1"`` and ``ca="certifi"``; closed after the test.

Opt-in, against real servers that verify SigV4 tokens over TLS (the local RDS IAM emulator:
PostgreSQL 15 and MariaDB with PAM, needs root, ``apt`` packages and ``trustme``): pass
``--rds-iam-emulator`` (or set ``rds_iam_emulator = true`` in the ini file). Without it, tests
that use these fixtures are skipped; with it, an emulator that cannot start is an error.

- ``rds_iam_emulator`` (session): the running emulator (``.pg`` / ``.mysql``: host, port,
  user, database, region, CA path). It is not in the wheel: the plugin imports it from the
  module named by the ini option ``rds_iam_emulator_module`` (default ``tests.emulator``, the
  directory of that name in rds_iam_auth's source distribution, which you can copy).
- ``rds_iam_emulator_clock``: a FakeClock at the real time that moves the servers' clock with
  it (``advance(900)`` expires every token for both); put back after the test.
- ``rds_iam_emulator_connector``: a Connector signing real tokens with the emulator's fake
  key, its CA and region, on ``rds_iam_emulator_clock``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from .connector import Connector
from .testing import FakeClock, StaticSigner

__all__ = ["EmulatorClock"]

OPTION = "--rds-iam-emulator"
INI = "rds_iam_emulator"
INI_MODULE = "rds_iam_emulator_module"
MARKER = "rds_iam_emulator"
STATIC_TOKEN = "rds-iam-test-token"  # noqa: S105 - a placeholder, never a real token
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--rds-iam-emulator`` and its ini twins."""
    group = parser.getgroup("rds_iam_auth")
    group.addoption(
        OPTION,
        action="store_true",
        default=None,
        help="run tests that use the local RDS IAM emulator fixtures (root, PostgreSQL, "
        "MariaDB, libpam-script, trustme)",
    )
    parser.addini(INI, "run the RDS IAM emulator fixtures (like --rds-iam-emulator)", "bool")
    parser.addini(
        INI_MODULE,
        "module providing the RDS IAM emulator (Emulator, LONG_TERM, unavailable_reason)",
        default="tests.emulator",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker given to every test that uses the emulator fixtures."""
    config.addinivalue_line(
        "markers", f"{MARKER}: uses the local RDS IAM emulator (run with {OPTION})"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark emulator tests, so that ``-m "not rds_iam_emulator"`` leaves them out."""
    for item in items:
        if any(name.startswith("rds_iam_emulator") for name in getattr(item, "fixturenames", ())):
            item.add_marker(MARKER)


@pytest.fixture
def rds_iam_clock() -> FakeClock:
    """A FakeClock at 2024-01-01T00:00:00Z; ``advance(s)`` moves token expiry, no sleeping."""
    return FakeClock(START)


@pytest.fixture
def rds_iam_signer() -> StaticSigner:
    """A StaticSigner: every token is ``"rds-iam-test-token"``; ``.calls`` records signings."""
    return StaticSigner(STATIC_TOKEN)


@pytest.fixture
def rds_iam_connector(rds_iam_signer: Any, rds_iam_clock: FakeClock) -> Iterator[Connector]:
    """A Connector on ``rds_iam_signer`` and ``rds_iam_clock``: no AWS credentials at all."""
    with Connector(
        signer=rds_iam_signer, clock=rds_iam_clock, region="us-east-1", ca="certifi"
    ) as connector:
        yield connector


class EmulatorClock(FakeClock):
    """A FakeClock that moves the emulator's clock with it.

    The emulator's servers read real time plus an offset and refuse tokens dated more than
    300 s ahead of it, so a FakeClock moved alone would make every token invalid. This one
    starts at the real time and keeps the offset equal to how far it has moved.
    """

    def __init__(self, emulator: Any) -> None:
        super().__init__(datetime.now(timezone.utc))
        self._emulator = emulator
        self._start_s = self()

    def advance(self, seconds: float) -> None:
        """Move this clock and the servers' clock ``seconds`` ahead."""
        super().advance(seconds)
        self._emulator.set_clock_offset(self() - self._start_s)

    def set(self, when: datetime) -> None:
        """Jump to ``when``; the servers' clock jumps by as much."""
        super().set(when)
        self._emulator.set_clock_offset(self() - self._start_s)


def _emulator_module(config: pytest.Config) -> Any:
    name = str(config.getini(INI_MODULE))
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(
            f"{OPTION}: cannot import the RDS IAM emulator from {name!r} ({exc}); it is not "
            f"part of the wheel: copy tests/emulator from rds_iam_auth's source distribution "
            f"and name it with the ini option {INI_MODULE}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def rds_iam_emulator(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The running emulator, started once per session (per xdist worker) and stopped after."""
    config = request.config
    # default=None: a plugin loaded from a test module (not conftest.py) misses the parsing.
    if not (config.getoption(OPTION, default=None) or config.getini(INI)):
        pytest.skip(f"uses the local RDS IAM emulator: run with {OPTION}")
    module = _emulator_module(config)
    reason = module.unavailable_reason()
    if reason is not None:
        pytest.fail(f"{OPTION}: the RDS IAM emulator cannot run here: {reason}", pytrace=False)
    emulator = module.Emulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def rds_iam_emulator_clock(rds_iam_emulator: Any) -> Iterator[EmulatorClock]:
    """An :class:`EmulatorClock`; the servers' clock is put back when the test ends."""
    try:
        yield EmulatorClock(rds_iam_emulator)
    finally:
        rds_iam_emulator.set_clock_offset(0)


@pytest.fixture
def rds_iam_emulator_connector(
    request: pytest.FixtureRequest, rds_iam_emulator: Any, rds_iam_emulator_clock: EmulatorClock
) -> Iterator[Connector]:
    """A Connector that signs real tokens the emulator accepts, on the emulator's clock."""
    key = _emulator_module(request.config).LONG_TERM
    with Connector(
        credentials=key.botocore_credentials(),
        region=rds_iam_emulator.pg.region,
        ca=rds_iam_emulator.pg.ca_path,
        clock=rds_iam_emulator_clock,
    ) as connector:
        yield connector
