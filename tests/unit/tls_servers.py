"""Tiny loopback servers that speak just enough PostgreSQL / MySQL to start TLS, for the tests of
the failed-verification notes. They never authenticate anyone; they record what arrives after
the TLS handshake (which must be nothing from our probe)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import trustme

_CAPS = 0x1 | 0x200 | 0x800 | 0x8000 | 0x80000  # long password, 4.1, SSL, secure conn, plugin


def mysql_greeting(ssl_offered: bool = True) -> bytes:
    caps = _CAPS if ssl_offered else _CAPS & ~0x800
    payload = (
        b"\x0a8.0.36-fake\0"
        + struct.pack("<I", 7)
        + b"abcdefgh\0"
        + struct.pack("<HBHH", caps & 0xFFFF, 45, 2, caps >> 16)
        + bytes([21])
        + b"\0" * 10
        + b"ijklmnopqrst\0mysql_native_password\0"
    )
    return len(payload).to_bytes(3, "little") + b"\0" + payload


class TlsServer:
    """Accepts connections on 127.0.0.1 until closed; each one asks for TLS and handshakes."""

    def __init__(self, protocol: str, ca: trustme.CA, *names: str, offer_tls: bool = True) -> None:
        self.protocol = protocol
        self.offer_tls = offer_tls
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(self.context)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.handshakes = 0
        self.after_handshake: list[bytes] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                # OSError: the client gave up (a failed verification), which is expected.
                with contextlib.suppress(OSError, ValueError):
                    self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        if self.protocol == "pg":
            if conn.recv(8) != struct.pack("!ii", 8, 80877103):
                return
            conn.sendall(b"S" if self.offer_tls else b"N")
        else:
            conn.sendall(mysql_greeting(self.offer_tls))
            header = conn.recv(4)
            conn.recv(int.from_bytes(header[:3], "little"))
        if not self.offer_tls:
            return
        with self.context.wrap_socket(conn, server_side=True) as tls:
            self.handshakes += 1
            received = b""
            try:
                while chunk := tls.recv(4096):
                    received += chunk
            except OSError:
                pass  # a close without close_notify (Python 3.13 reports it as SSLEOFError)
            self.after_handshake.append(received)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress (Linux)
        self.listener.close()
        self._thread.join(10)


@contextmanager
def tls_server(protocol: str, ca: trustme.CA, *names: str, **options: bool) -> Iterator[TlsServer]:
    server = TlsServer(protocol, ca, *names, **options)
    try:
        yield server
    finally:
        server.close()
