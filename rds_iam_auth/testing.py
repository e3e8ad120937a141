"""Helpers for unit-testing code that connects through rds_iam_auth, without AWS.

A :class:`~rds_iam_auth.Connector` built with ``signer=StaticSigner(...)`` resolves no AWS
credentials and signs nothing, so such tests need no AWS configuration::

    from datetime import datetime, timezone
    from rds_iam_auth import Connector
    from rds_iam_auth.testing import FakeClock, StaticSigner

    clock = FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    signer = StaticSigner(["t1", "t2"])
    c = Connector(signer=signer, clock=clock, region="us-east-1", ca="certifi")
    assert c.token("db.example.com", 5432, "app").value == "t1"
    clock.advance(900)                       # past the token's expiry
    assert c.token("db.example.com", 5432, "app").value == "t2"
    assert len(signer.calls) == 2

With pytest, the plugin :mod:`rds_iam_auth.pytest_plugin` gives these as fixtures. Enable it
in your top-level ``conftest.py`` (it is not loaded just because rds_iam_auth is installed)::

    pytest_plugins = ["rds_iam_auth.pytest_plugin"]

    def test_token_is_cached(rds_iam_connector, rds_iam_clock, rds_iam_signer):
        rds_iam_connector.token("db.example.com", 5432, "app")
        rds_iam_clock.advance(60)
        rds_iam_connector.token("db.example.com", 5432, "app")
        assert len(rds_iam_signer.calls) == 1

``rds_iam_clock`` is a FakeClock at 2024-01-01T00:00:00Z, ``rds_iam_signer`` a
``StaticSigner("rds-iam-test-token")`` (override either fixture in your conftest.py), and
``rds_iam_connector`` a Connector on both (``region="us-east-1"``, ``ca="certifi"``).

For tests against real servers, ``pytest --rds-iam-emulator`` enables ``rds_iam_emulator``
(session: PostgreSQL and MariaDB on loopback that verify SigV4 tokens over TLS, as RDS does),
``rds_iam_emulator_clock`` (a FakeClock that moves the servers' clock with it) and
``rds_iam_emulator_connector``. The emulator needs root, the ``postgresql``,
``mariadb-server`` and ``libpam-script`` packages and ``trustme``, and is not part of the
wheel: copy ``tests/emulator`` from the source distribution and name it with the ini option
``rds_iam_emulator_module``. Without the option those tests are skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from .endpoint import Endpoint
from .errors import ConfigurationError, TokenGenerationError
from .signer import MAX_EXPIRES_IN_S, to_utc, validate_expires_in
from .token import Token

__all__ = ["FakeClock", "StaticSigner"]


class StaticSigner:
    """A :class:`~rds_iam_auth.Signer` that hands out fixed token strings.

    Args:
        tokens: One string, returned for every call, or a sequence handed out in order
            (asking for more than it holds raises ``TokenGenerationError``).
        expires_in_s: Lifetime given to each Token (``expires_at = now + expires_in_s``).

    Attributes:
        calls: ``(endpoint, user, now)`` for every ``sign`` call, in order.
    """

    def __init__(
        self, tokens: str | Sequence[str], *, expires_in_s: int = MAX_EXPIRES_IN_S
    ) -> None:
        if isinstance(tokens, str):
            self._tokens: list[str] | None = None
            self._single = tokens
        else:
            self._tokens = list(tokens)
            self._single = ""
            if not self._tokens or not all(isinstance(t, str) for t in self._tokens):
                raise ConfigurationError("tokens must be a string or a non-empty list of strings")
        self._expires_in_s = validate_expires_in(expires_in_s)
        self._lock = threading.Lock()
        self.calls: list[tuple[Endpoint, str, datetime]] = []

    def __repr__(self) -> str:
        return f"StaticSigner(calls={len(self.calls)})"

    def sign(self, endpoint: Endpoint, user: str, *, now: datetime) -> Token:
        """Return the next token, recording the call."""
        signed_at = to_utc(now)
        with self._lock:
            index = len(self.calls)
            self.calls.append((endpoint, user, now))
            if self._tokens is None:
                value = self._single
            elif index < len(self._tokens):
                value = self._tokens[index]
            else:
                raise TokenGenerationError(
                    f"StaticSigner was asked for token #{index + 1} but holds {len(self._tokens)}"
                )
        return Token(
            value=value,
            host=endpoint.host,
            port=endpoint.port,
            user=user,
            region=endpoint.region,
            signed_at=signed_at,
            expires_at=signed_at + timedelta(seconds=self._expires_in_s),
        )


class FakeClock:
    """A settable clock for ``Connector(clock=...)``: calling it returns epoch seconds.

    Args:
        start: The initial time (timezone-aware).
    """

    def __init__(self, start: datetime) -> None:
        self._now = to_utc(start, "start").timestamp()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self.now().isoformat()})"

    def now(self) -> datetime:
        """The current fake time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, timezone.utc)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        with self._lock:
            self._now = to_utc(when, "when").timestamp()
