"""The socket plumbing the decoy protocols share: one :class:`Session` per client connection
and one :class:`Recorder` per decoy that keeps everything a client revealed.

The protocol modules (``_pg_decoy``, ``_mysql_decoy``) only parse and write messages; reading
exactly ``n`` bytes, switching to TLS mid-stream and recording what arrived live here, so both
protocols record the same way (everything received after TLS is decrypted before recording).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading

__all__ = ["MAX_RECORDED_BYTES", "Abort", "Recorder", "Session"]

MAX_RECORDED_BYTES = 1 << 20
"""Received bytes kept per decoy: enough for hundreds of logins, bounded for fuzzing."""


class Abort(Exception):
    """The client went away or sent something the decoy does not follow: drop the connection."""


class Recorder:
    """Thread-safe store of what clients sent one decoy (handler threads write, tests read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passwords: list[str] = []
        self._auth_responses: list[bytes] = []
        self._startups: list[dict[str, str]] = []
        self._raw = bytearray()
        self._errors: list[str] = []
        self.connections = 0
        self.tls_handshakes_completed = 0
        self.tls_handshakes_failed = 0

    def password(self, raw: bytes) -> None:
        """Record a cleartext password (one trailing NUL, as both protocols send it, dropped)."""
        if raw.endswith(b"\0"):
            raw = raw[:-1]
        with self._lock:
            self._passwords.append(raw.decode("utf-8", "replace"))

    def auth_response(self, raw: bytes) -> None:
        with self._lock:
            self._auth_responses.append(bytes(raw))

    def startup(self, params: dict[str, str]) -> None:
        with self._lock:
            self._startups.append(dict(params))

    def raw(self, data: bytes) -> None:
        with self._lock:
            room = MAX_RECORDED_BYTES - len(self._raw)
            if room > 0:
                self._raw += data[:room]

    def error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    def count(self, attribute: str) -> None:
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + 1)

    @property
    def passwords(self) -> list[str]:
        with self._lock:
            return list(self._passwords)

    @property
    def auth_responses(self) -> list[bytes]:
        with self._lock:
            return list(self._auth_responses)

    @property
    def startups(self) -> list[dict[str, str]]:
        with self._lock:
            return [dict(s) for s in self._startups]

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._raw)

    @property
    def errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)


class Session:
    """One accepted client connection, plaintext until :meth:`start_tls` is called.

    Args:
        sock: The accepted socket (its timeout bounds every read and the TLS handshake).
        tls_context: The server context for TLS modes, ``None`` for a plaintext decoy.
        recorder: Where received bytes, handshakes and passwords are recorded.
    """

    def __init__(
        self, sock: socket.socket, tls_context: ssl.SSLContext | None, recorder: Recorder
    ) -> None:
        self.sock = sock
        self.tls_context = tls_context
        self.recorder = recorder
        self.in_tls = False

    @property
    def offers_tls(self) -> bool:
        return self.tls_context is not None

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes (or fewer) without consuming them: plaintext sockets only."""
        try:
            return self.sock.recv(n, socket.MSG_PEEK)
        except OSError as exc:
            raise Abort(f"peek: {exc}") from None

    def recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (OSError, ValueError) as exc:  # ValueError: socket closed under us
                raise Abort(f"recv: {exc}") from None
            if not chunk:
                raise Abort("client closed the connection")
            buf += chunk
        self.recorder.raw(bytes(buf))
        return bytes(buf)

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (OSError, ValueError) as exc:
            raise Abort(f"send: {exc}") from None

    def start_tls(self) -> None:
        """Run the server side of a TLS handshake on this connection (counted either way)."""
        if self.tls_context is None or self.in_tls:
            raise Abort("TLS not offered here")
        try:
            self.sock = self.tls_context.wrap_socket(self.sock, server_side=True)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            self.recorder.count("tls_handshakes_failed")
            raise Abort(f"TLS handshake: {exc}") from None
        self.in_tls = True
        self.recorder.count("tls_handshakes_completed")

    def interrupt(self) -> None:
        """Unblock a handler stuck in recv (teardown): shut the descriptor down, not the TLS."""
        # The base-class method: SSLSocket.shutdown would drop its SSL object under the
        # handler thread that is still reading through it.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()
