"""Crossing token lifetimes against the emulator without waiting for them.

The verifier reads real time (plus the emulator's clock offset) and refuses tokens dated more
than 300 s ahead, so a FakeClock moved alone would make every token invalid. ``Lifetimes``
moves the Connector's FakeClock and the servers' clock offset together, and ``Logins`` counts
the verifier's verdicts, so a test can say "every new connection logged in with a token the
server accepted" from the server's side.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from rds_iam_auth import Connector
from rds_iam_auth.testing import FakeClock
from tests.emulator import LONG_TERM, Emulator, ServerInfo

LIFETIME_S = 900  # what the connector signs (expires_in_s) and the verifier allows


class Lifetimes:
    """A FakeClock for Connectors and the emulator's clock, moved together by :meth:`cross`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.clock = FakeClock(datetime.now(timezone.utc))
        self.crossed = 0
        self.offset_s = 0.0

    def connector(self, info: ServerInfo, **kwargs: Any) -> Connector:
        """A Connector signing real SigV4 tokens (long-term key) at the fake time."""
        kwargs.setdefault("region", info.region)
        return Connector(
            credentials=LONG_TERM.botocore_credentials(),
            ca=info.ca_path,
            clock=self.clock,
            **kwargs,
        )

    def cross(self) -> None:
        """Move both clocks one full token lifetime ahead: every cached token has expired."""
        self.crossed += 1
        self.advance(LIFETIME_S)

    def advance(self, seconds: float) -> None:
        """Move both clocks ``seconds`` ahead."""
        self.clock.advance(seconds)
        self.offset_s += seconds
        self.emulator.set_clock_offset(self.offset_s)


@contextmanager
def lifetimes(emulator: Emulator) -> Iterator[Lifetimes]:
    """:class:`Lifetimes` whose clock offset is reset afterwards (the emulator is shared)."""
    try:
        yield Lifetimes(emulator)
    finally:
        emulator.set_clock_offset(0)


class Logins:
    """The verifier's verdicts for one server from now on."""

    def __init__(self, emulator: Emulator, engine: str) -> None:
        self._emulator = emulator
        self._engine = engine
        self._start = len(emulator.verifier_log(engine))

    def verdicts(self) -> list[str]:
        """Every verdict since this object was made (or last :meth:`restart`)."""
        return self._emulator.verifier_log(self._engine)[self._start :]

    def accepted(self) -> int:
        """Logins the server accepted; fails if it refused or could not check any."""
        verdicts = self.verdicts()
        others = [v for v in verdicts if not v.startswith("ACCEPTED ")]
        assert not others, others
        return len(verdicts)

    def restart(self) -> None:
        """Count from now on."""
        self._start = len(self._emulator.verifier_log(self._engine))
