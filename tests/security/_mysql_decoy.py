"""A MySQL-protocol decoy: it switches every client to ``mysql_clear_password`` and keeps it.

RDS (like any MySQL server using PAM) receives the IAM token through the
``mysql_clear_password`` plugin, so a hostile server only has to ask for it. The decoy sends a
HandshakeV10 (``mysql_native_password``, a 20-byte scramble, ``CLIENT_SSL`` only in its TLS
modes), follows a client's SSLRequest into TLS, records the HandshakeResponse41's auth bytes,
answers with an AuthSwitchRequest to ``mysql_clear_password``, records the reply as the password
and refuses the login with error 1045 (which the connector retries once, as it would on RDS).

Like the PostgreSQL decoy it also accepts a client that skips TLS in a TLS mode.
"""

from __future__ import annotations

import random
import string
import struct

from ._wire import Abort, Session

__all__ = ["CLIENT_SSL", "serve"]

CLIENT_LONG_PASSWORD = 1
CLIENT_LONG_FLAG = 4
CLIENT_CONNECT_WITH_DB = 8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
_BASE_CAPABILITIES = (
    CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_PLUGIN_AUTH
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
)
SERVER_VERSION = b"5.7.99-decoy"
_SSL_REQUEST_LEN = 32
_MAX_PACKET = 1 << 16
_UTF8_GENERAL_CI = 33
_SERVER_STATUS_AUTOCOMMIT = 2
_CLEAR = b"mysql_clear_password"
_NATIVE = b"mysql_native_password"
# No NUL bytes: clients treat the scramble's tail as NUL-terminated.
_SCRAMBLE_CHARS = (string.ascii_letters + string.digits).encode()


def _read(session: Session) -> tuple[int, bytes]:
    header = session.recv_exact(4)
    length = header[0] | header[1] << 8 | header[2] << 16
    if length > _MAX_PACKET:
        raise Abort(f"packet length {length}")
    return header[3], session.recv_exact(length)


def _write(session: Session, seq: int, payload: bytes) -> None:
    session.send(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)


def _handshake(capabilities: int, scramble: bytes) -> bytes:
    return (
        b"\x0a"
        + SERVER_VERSION
        + b"\0"
        + struct.pack("<I", 4242)  # connection id
        + scramble[:8]
        + b"\0"
        + struct.pack("<H", capabilities & 0xFFFF)
        + bytes([_UTF8_GENERAL_CI])
        + struct.pack("<H", _SERVER_STATUS_AUTOCOMMIT)
        + struct.pack("<H", capabilities >> 16)
        + bytes([len(scramble) + 1])
        + b"\0" * 10
        + scramble[8:]
        + b"\0"
        + _NATIVE
        + b"\0"
    )


def _lenenc(data: bytes, i: int) -> tuple[int, int]:
    first = data[i]
    if first < 0xFB:
        return first, i + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if width is None:
        raise Abort("bad length-encoded integer")
    return int.from_bytes(data[i + 1 : i + 1 + width], "little"), i + 1 + width


def _parse_response(payload: bytes) -> tuple[str, bytes, bytes]:
    """HandshakeResponse41 → (user, auth response, client plugin name)."""
    (caps,) = struct.unpack("<I", payload[:4])
    i = 32
    end = payload.index(b"\0", i)
    user = payload[i:end].decode("utf-8", "replace")
    i = end + 1
    if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        n, i = _lenenc(payload, i)
    elif caps & CLIENT_SECURE_CONNECTION:
        n, i = payload[i], i + 1
    else:
        n = payload.index(b"\0", i) - i
    auth, i = payload[i : i + n], i + n
    if caps & CLIENT_CONNECT_WITH_DB and i < len(payload):
        i = payload.index(b"\0", i) + 1
    plugin = payload[i:].split(b"\0", 1)[0] if caps & CLIENT_PLUGIN_AUTH else b""
    return user, auth, plugin


def _error_1045(user: str) -> bytes:
    message = f"Access denied for user '{user}'@'localhost' (using password: YES)"
    return b"\xff" + struct.pack("<H", 1045) + b"#28000" + message.encode()


def serve(session: Session) -> None:
    """Run one client connection to its end (an :class:`Abort` ends it early)."""
    capabilities = _BASE_CAPABILITIES | (CLIENT_SSL if session.offers_tls else 0)
    scramble = bytes(random.choices(_SCRAMBLE_CHARS, k=20))
    _write(session, 0, _handshake(capabilities, scramble))
    seq, payload = _read(session)
    if len(payload) < _SSL_REQUEST_LEN:
        raise Abort("short handshake response")
    (client_caps,) = struct.unpack("<I", payload[:4])
    if len(payload) == _SSL_REQUEST_LEN and client_caps & CLIENT_SSL:
        session.start_tls()  # Abort in plaintext mode: the server never offered TLS
        seq, payload = _read(session)
    try:
        user, auth, plugin = _parse_response(payload)
    except (ValueError, IndexError, struct.error) as exc:
        raise Abort(f"unparsable handshake response: {exc}") from None
    session.recorder.startup({"user": user, "plugin": plugin.decode("ascii", "replace")})
    session.recorder.auth_response(auth)
    if plugin == _CLEAR:  # a client that volunteers its cleartext password
        session.recorder.password(auth)
    _write(session, seq + 1, b"\xfe" + _CLEAR + b"\0")
    seq, reply = _read(session)
    session.recorder.password(reply)
    _write(session, seq + 1, _error_1045(user))
