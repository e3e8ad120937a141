"""A PostgreSQL-protocol decoy: it asks every client for a cleartext password and keeps it.

A real server asks for whatever its ``pg_hba.conf`` says; a hostile one asks for the cleartext
password (``AuthenticationCleartextPassword``), which is exactly what an RDS IAM token is sent
as. So the decoy follows the client through every way libpq can open a session -- plaintext
``StartupMessage``, ``SSLRequest`` (``N`` in plaintext mode, ``S`` + TLS otherwise),
``GSSENCRequest`` (always ``N``) and libpq 17+'s direct TLS (``sslnegotiation=direct``: the first
byte is a TLS ClientHello) -- then asks for the password, records it and refuses the login with
``FATAL 28P01`` (which the connector does not treat as an IAM refusal, so it does not retry).

It accepts a plaintext ``StartupMessage`` even in its TLS modes: a client that skipped TLS has
leaked the token just the same, and the decoy must notice.
"""

from __future__ import annotations

import struct

from ._wire import Abort, Session

__all__ = ["ALPN", "serve"]

ALPN = ["postgresql"]
"""libpq 17+ requires this ALPN protocol for direct TLS; set on the decoy's server context."""

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
_TLS_RECORD_HANDSHAKE = b"\x16"
_MAX_STARTUP_BYTES = 10_000
_MAX_MESSAGE_BYTES = 100_000
_AUTH_CLEARTEXT = b"R" + struct.pack("!ii", 8, 3)


def _error_response(user: str) -> bytes:
    fields = (
        b"SFATAL\0VFATAL\0C28P01\0"
        + f'Mpassword authentication failed for user "{user}"\0'.encode()
        + b"\0"
    )
    return b"E" + struct.pack("!i", 4 + len(fields)) + fields


def _parse_params(body: bytes) -> dict[str, str]:
    parts = body.split(b"\0")
    params: dict[str, str] = {}
    for key, value in zip(parts[0::2], parts[1::2], strict=False):
        if not key:
            break
        params[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return params


def _startup(session: Session) -> dict[str, str]:
    """Answer SSL/GSS negotiation until the StartupMessage arrives; return its parameters."""
    if session.peek(1) == _TLS_RECORD_HANDSHAKE:  # direct TLS: no SSLRequest first
        session.start_tls()
    while True:
        (length,) = struct.unpack("!i", session.recv_exact(4))
        if not 8 <= length <= _MAX_STARTUP_BYTES:
            raise Abort(f"startup packet length {length}")
        body = session.recv_exact(length - 4)
        (code,) = struct.unpack("!i", body[:4])
        if code == SSL_REQUEST:
            if session.offers_tls and not session.in_tls:
                session.send(b"S")
                session.start_tls()
            else:
                session.send(b"N")
        elif code == GSSENC_REQUEST:
            session.send(b"N")
        elif code >> 16 == 3:  # protocol 3.x StartupMessage
            return _parse_params(body[4:])
        else:
            raise Abort(f"startup code {code}")


def serve(session: Session) -> None:
    """Run one client connection to its end (an :class:`Abort` ends it early)."""
    params = _startup(session)
    session.recorder.startup(params)
    session.send(_AUTH_CLEARTEXT)
    kind = session.recv_exact(1)
    (length,) = struct.unpack("!i", session.recv_exact(4))
    if not 4 <= length <= _MAX_MESSAGE_BYTES:
        raise Abort(f"message length {length}")
    body = session.recv_exact(length - 4)
    if kind != b"p":
        raise Abort(f"expected a PasswordMessage, got {kind!r}")
    session.recorder.password(body)
    session.send(_error_response(params.get("user", "")))
