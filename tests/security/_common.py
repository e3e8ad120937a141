"""What every security test shares: the token, what counts as a refusal, the leak checks."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
import trustme

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.testing import StaticSigner

from .decoys import Decoy, Pki

__all__ = [
    "REFUSALS",
    "SIGNATURE",
    "TOKEN",
    "USER",
    "Kit",
    "assert_attempt_refused",
    "assert_empty",
    "assert_no_leak",
    "connect_to",
    "psycopg",
    "pymysql",
    "unverified_context",
]

SIGNATURE = hashlib.sha256(b"rds_iam_auth security decoy").hexdigest()
"""Not repetitive, so any 12-character slice of it found at a decoy is a partial leak."""
TOKEN = f"127.0.0.1:5432/?Action=connect&DBUser=app&X-Amz-Signature={SIGNATURE}"
USER = "app"
_SLICE = 12

REFUSALS: tuple[type[BaseException], ...] = (
    ConfigurationError,  # ours, before dialling
    TypeError,  # PyMySQL on a keyword it does not know
    psycopg.Error,  # libpq: unknown option, or the connection failed
    pymysql.err.Error,  # PyMySQL: the connection failed
)
"""Acceptable outcomes of a connection attempt aimed at a decoy that is not verified."""

Attempt = Callable[[], Any]


def assert_no_leak(decoy: Decoy, since: tuple[int, int] = (0, 0)) -> None:
    """Neither the token nor any slice of its signature reached ``decoy``.

    Args:
        since: A :meth:`Decoy.mark` taken earlier: only look at what arrived after it (for
            decoys shared by many attempts, so each failure is blamed on its own attempt).
    """
    passwords = decoy.passwords[since[0] :]
    assert TOKEN not in passwords, f"{decoy!r} received the token"
    seen = "\n".join([*passwords, decoy.received[since[1] :].decode("latin-1")])
    for start in range(len(SIGNATURE) - _SLICE + 1):
        piece = SIGNATURE[start : start + _SLICE]
        assert piece not in seen, f"{decoy!r} received part of the token's signature"


def _call_and_close(attempt: Attempt) -> None:
    attempt().close()  # a decoy refuses every login, so this close is never reached


def assert_attempt_refused(attempt: Attempt, *decoys: Decoy) -> BaseException:
    """Run ``attempt`` (a connect call); it must raise one of :data:`REFUSALS` and leak nothing.

    Returns the exception, for tests that look closer at it.
    """
    with pytest.raises(REFUSALS) as info:
        _call_and_close(attempt)
    for decoy in decoys:
        assert_no_leak(decoy)
    return info.value


def assert_empty(path: Path) -> None:
    """A key log file named in an attack holds no keys: absent, empty, or only comments
    (Python writes a ``#`` header line as soon as a context's ``keylog_filename`` is set)."""
    if not path.exists():
        return
    keys = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    assert not keys, f"TLS session keys written to {path}: {keys[0].split()[0]} ..."


def connect_to(connector: Connector, decoy: Decoy, driver: str, **kwargs: Any) -> Callable[[], Any]:
    """``connector.connect`` aimed at ``decoy`` (as a thunk for :func:`assert_attempt_refused`)."""

    def attempt() -> Any:
        return connector.connect(decoy.host, USER, driver=driver, port=decoy.port, **kwargs)

    return attempt


def unverified_context() -> ssl.SSLContext:
    """A client context that checks nothing: what a careless app would pass to a driver."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Kit:
    """One test's tools (the ``kit`` fixture): a decoy factory, a Connector trusting the
    trusted CA with :data:`TOKEN` as its only token, the PKI and scratch paths."""

    pki: Pki
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    signer: StaticSigner = field(default_factory=lambda: StaticSigner(TOKEN))
    _decoys: list[Decoy] = field(default_factory=list)
    _connectors: list[Connector] = field(default_factory=list)
    _connector: Connector | None = None

    @property
    def rogue_ca(self) -> str:
        return self.pki.rogue_ca_path

    @property
    def keylog(self) -> Path:
        """Where an attack asks for TLS session keys to go; must stay free of keys."""
        return self.tmp_path / "keys.log"

    @property
    def connector(self) -> Connector:
        if self._connector is None:
            self._connector = self.new_connector()
        return self._connector

    def decoy(self, protocol: str, mode: str, **options: Any) -> Decoy:
        decoy = Decoy(protocol, mode, self.pki, **options)
        self._decoys.append(decoy)
        return decoy

    def new_connector(self, ca: str | None = None) -> Connector:
        """Another Connector (same signer) trusting ``ca``, by default the trusted CA."""
        connector = Connector(
            signer=self.signer, ca=ca or self.pki.trusted_ca_path, region="us-east-1"
        )
        self._connectors.append(connector)
        return connector

    def private_ca(self) -> str:
        """A CA bundle of this test's own (the trusted CA + a throwaway one): a distinct path
        and content, so a context the library builds for it (and a test mutates) is private."""
        path = self.tmp_path / "private-ca.pem"
        if not path.exists():
            path.write_bytes(self.pki.trusted.cert_pem.bytes() + trustme.CA().cert_pem.bytes())
        return str(path)

    def close(self) -> None:
        for connector in self._connectors:
            connector.close()
        for decoy in self._decoys:
            decoy.close()
