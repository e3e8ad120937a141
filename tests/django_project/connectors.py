"""Connectors the test settings name in ``OPTIONS["connector"]`` (``module:function``).

Each is built once per process (the backend calls the function once per import path); the
``iam_steps`` command moves :data:`CLOCK` with the emulator's clock offset.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from datetime import datetime, timedelta, timezone

from rds_iam_auth import Connector, Endpoint, SigV4Signer, Token
from rds_iam_auth.testing import FakeClock

# Starts at real time: the emulator's verifier compares a token's date with its own clock.
CLOCK = FakeClock(datetime.now(timezone.utc))


@functools.cache
def emulator() -> Connector:
    """Credentials from the environment (the emulator's fake key), clock :data:`CLOCK`."""
    return Connector(
        region=os.environ["RIA_DJANGO_REGION"], ca=os.environ["RIA_DJANGO_CA"], clock=CLOCK
    )


class StaleFirst:
    """Signs real tokens, but dates the first one a lifetime back (the server refuses it)
    while telling the cache it is fresh: what a revoked or rotated credential looks like."""

    def __init__(self) -> None:
        self._signer = SigV4Signer()
        self.calls = 0

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        self.calls += 1
        if self.calls > 1:
            return self._signer.sign(endpoint, user, now=now)
        stale = self._signer.sign(endpoint, user, now=now - timedelta(seconds=1000))
        return dataclasses.replace(stale, signed_at=now, expires_at=now + timedelta(seconds=900))


@functools.cache
def stale_first() -> Connector:
    """A Connector whose first cached token is refused by the server."""
    return Connector(
        signer=StaleFirst(), region=os.environ["RIA_DJANGO_REGION"], ca=os.environ["RIA_DJANGO_CA"]
    )
