"""Decoy database servers on loopback that record any password a client sends them.

An IAM token is a bearer credential sent as a cleartext password, so the only thing standing
between it and an impostor is the client's TLS verification. Each decoy is an impostor of one
kind; a test points a client at it and then asks the decoy what it received:

- ``plaintext``: offers no TLS at all;
- ``wrong-name``: TLS with a certificate for ``other.example`` only, from the CA the client is
  told to trust (only a host name check stops it);
- ``untrusted``: TLS with a certificate for the right names, from a different ("rogue") CA
  (only a chain check stops it);
- ``good``: TLS, right names, trusted CA: a stand-in for the real server, for positive-path
  checks (it receives the token, then refuses the login);
- ``ip-only``: TLS, trusted CA, a certificate for ``127.0.0.1``/``localhost`` only: fine for a
  client that dials 127.0.0.1, an impostor for one that dials it as ``address=`` of
  ``db.example.com`` (it must verify the endpoint's name, not the address's).

Both protocols are served (``"pg"``, ``"mysql"``: see ``_pg_decoy`` and ``_mysql_decoy``), on
``127.0.0.1`` at a free port, or on a Unix socket. A decoy is a context manager; closing it
closes the listening socket, interrupts open connections and joins every thread.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

from . import _mysql_decoy, _pg_decoy
from ._wire import Abort, Recorder, Session

__all__ = ["ATTACK_MODES", "GOOD_NAMES", "LOOPBACK_MODES", "MODES", "PROTOCOLS", "Decoy", "Pki"]

MODES = ("plaintext", "wrong-name", "untrusted", "good", "ip-only")
ATTACK_MODES = ("plaintext", "wrong-name", "untrusted")
"""The modes a client that verifies TLS for 127.0.0.1 must never hand a token to."""
LOOPBACK_MODES = (*ATTACK_MODES, "good")
"""What a client dialling 127.0.0.1 may meet: the impostors and the real server."""
PROTOCOLS = ("pg", "mysql")
GOOD_NAMES = ("127.0.0.1", "localhost", "db.example.com", "db.decoy.invalid")
"""Names in the ``good`` and ``untrusted`` certificates. ``db.decoy.invalid`` can never resolve
(RFC 2606), so tests that must not dial by name use it and stay off the network."""
WRONG_NAMES = ("other.example",)
_SERVE = {"pg": _pg_decoy.serve, "mysql": _mysql_decoy.serve}


@dataclass(frozen=True)
class Pki:
    """A trusted CA (its PEM at ``trusted_ca_path`` is what clients get as ``ca=``), a rogue
    CA, and one server certificate per TLS mode."""

    trusted: trustme.CA
    rogue: trustme.CA
    trusted_ca_path: str
    rogue_ca_path: str
    leaves: dict[str, trustme.LeafCert]

    @classmethod
    def create(cls, directory: Path) -> Pki:
        trusted, rogue = trustme.CA(), trustme.CA()
        trusted_path, rogue_path = directory / "trusted-ca.pem", directory / "rogue-ca.pem"
        trusted.cert_pem.write_to_path(str(trusted_path))
        rogue.cert_pem.write_to_path(str(rogue_path))
        leaves = {
            "good": trusted.issue_cert(*GOOD_NAMES),
            "wrong-name": trusted.issue_cert(*WRONG_NAMES),
            "untrusted": rogue.issue_cert(*GOOD_NAMES),
            "ip-only": trusted.issue_cert("127.0.0.1", "localhost"),
        }
        return cls(trusted, rogue, str(trusted_path), str(rogue_path), leaves)

    def server_context(self, mode: str, protocol: str) -> ssl.SSLContext | None:
        """The decoy's TLS context for ``mode`` (``None`` for plaintext)."""
        if mode == "plaintext":
            return None
        # Not create_default_context(): that honours SSLKEYLOGFILE, and the keylog tests must
        # see only what the client under test writes.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.leaves[mode].configure_cert(context)
        if protocol == "pg":
            context.set_alpn_protocols(_pg_decoy.ALPN)
        return context


class Decoy:
    """One decoy server; see the module docstring for ``protocol`` and ``mode``.

    Args:
        protocol: ``"pg"`` or ``"mysql"``.
        mode: One of :data:`MODES`.
        pki: The certificates to serve and the CA file clients should trust.
        max_connections: Connections accepted beyond this are closed unanswered.
        timeout_s: Per-connection bound on every read, write and TLS handshake.
        unix: Listen on a Unix socket (``.unix_path``) instead of 127.0.0.1.

    Attributes:
        host, port: Where it listens (``port`` is 0 for a Unix socket).
        unix_path: The Unix socket path, or ``None``.
        ca_path: The CA file a client should be told to trust (the trusted CA).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        protocol: str,
        mode: str,
        pki: Pki,
        *,
        max_connections: int = 32,
        timeout_s: float = 5.0,
        unix: bool = False,
    ) -> None:
        if protocol not in PROTOCOLS or mode not in MODES:
            raise ValueError(f"unknown decoy {protocol!r}/{mode!r}")
        self.protocol, self.mode = protocol, mode
        self.ca_path = pki.trusted_ca_path
        self._serve = _SERVE[protocol]
        self._context = pki.server_context(mode, protocol)
        self._max_connections = max_connections
        self._timeout_s = timeout_s
        self._recorder = Recorder()
        self._lock = threading.Lock()
        self._sessions: set[Session] = set()
        self._threads: list[threading.Thread] = []
        self._tmpdir: str | None = None
        self.unix_path: str | None = None
        if unix:
            # Short and private: AF_UNIX paths are limited to ~107 bytes.
            self._tmpdir = tempfile.mkdtemp(prefix="decoy-")
            self.unix_path = os.path.join(self._tmpdir, "mysql.sock")
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(self.unix_path)
            self.port = 0
        else:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.bind((self.host, 0))
            self.port = self._listener.getsockname()[1]
        self._listener.listen(16)
        self._wake_r, self._wake_w = socket.socketpair()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"decoy-{protocol}-{mode}", daemon=True
        )
        self._acceptor.start()

    def __repr__(self) -> str:
        where = self.unix_path or f"{self.host}:{self.port}"
        return f"Decoy({self.protocol}/{self.mode} at {where}, connections={self.connections})"

    def __enter__(self) -> Decoy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # What clients revealed -------------------------------------------------------------------
    # Each reading first settles: a client that gave up may still have bytes in flight to the
    # decoy (a TLS alert, a password), and the counters must include them.

    def settle(self) -> None:
        """Wait (at most ``timeout_s`` + 1 s) until no connection is pending or being served."""
        deadline = time.monotonic() + self._timeout_s + 1
        while time.monotonic() < deadline:
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                busy = list(self._threads)
                pending = self._listener.fileno() >= 0 and bool(
                    select.select([self._listener], [], [], 0)[0]
                )
            if not busy and not pending:
                return
            for thread in busy:
                thread.join(max(0.0, deadline - time.monotonic()))
            if pending:
                time.sleep(0.002)  # the acceptor thread is about to take it

    def mark(self) -> tuple[int, int]:
        """(passwords, received bytes) so far: pass to ``assert_no_leak(since=...)``."""
        return len(self.passwords), len(self.received)

    @property
    def passwords(self) -> list[str]:
        """Every cleartext password received, in order."""
        self.settle()
        return self._recorder.passwords

    @property
    def auth_responses(self) -> list[bytes]:
        """MySQL only: the auth bytes of each HandshakeResponse41 (a scramble, normally)."""
        self.settle()
        return self._recorder.auth_responses

    @property
    def startups(self) -> list[dict[str, str]]:
        """PostgreSQL StartupMessage parameters / MySQL user and plugin, per login."""
        self.settle()
        return self._recorder.startups

    @property
    def received(self) -> bytes:
        """Every byte received (decrypted, for TLS sessions), up to 1 MiB."""
        self.settle()
        return self._recorder.received

    @property
    def errors(self) -> list[str]:
        """Why each connection ended early (for debugging a failing test)."""
        self.settle()
        return self._recorder.errors

    @property
    def connections(self) -> int:
        self.settle()
        return self._recorder.connections

    @property
    def tls_handshakes_completed(self) -> int:
        self.settle()
        return self._recorder.tls_handshakes_completed

    @property
    def tls_handshakes_failed(self) -> int:
        self.settle()
        return self._recorder.tls_handshakes_failed

    # Serving ---------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            ready, _, _ = select.select([self._listener, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            # Under the lock from accept() to start(): settle() sees each connection either
            # still in the backlog or as a live handler thread, never in between.
            with self._lock:
                self._accept_one()

    def _accept_one(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self._recorder.count("connections")
        if self._recorder.connections > self._max_connections:
            conn.close()
            return
        conn.settimeout(self._timeout_s)
        if not self.unix_path:  # small writes, answered at once: no 40 ms delayed-ACK stalls
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = Session(conn, self._context, self._recorder)
        thread = threading.Thread(target=self._handle, args=(session,), daemon=True)
        self._sessions.add(session)
        self._threads.append(thread)
        thread.start()

    def _handle(self, session: Session) -> None:
        try:
            self._serve(session)
        except Abort as exc:
            self._recorder.error(str(exc))
        except Exception as exc:  # a decoy bug must not become an unhandled-thread warning
            self._recorder.error(f"decoy bug: {type(exc).__name__}: {exc}")
        finally:
            session.close()
            with self._lock:
                self._sessions.discard(session)

    def close(self) -> None:
        """Stop accepting, interrupt open connections, join every thread, free the socket."""
        if self._acceptor.is_alive():
            self._wake_w.send(b"x")
            self._acceptor.join()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        with self._lock:
            sessions, threads = list(self._sessions), list(self._threads)
        for session in sessions:
            session.interrupt()
        for thread in threads:
            thread.join(self._timeout_s + 1)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
