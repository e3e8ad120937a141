"""Who issued a server's certificate, for the note on a failed verification.

libpq and the MySQL drivers report only "certificate verify failed", not which CA the server
presented. After such a failure this module dials the server once more, asks for TLS the way
the driver does (PostgreSQL's SSLRequest, MySQL's SSL request packet), completes a handshake
that checks nothing and sends nothing, reads the issuer name out of the certificate and
closes. No user name, password or token is ever sent; every step has a short timeout and any
failure just means "issuer unknown".
"""

from __future__ import annotations

import socket
import ssl
import struct

__all__ = ["issuer_name", "peer_issuer"]

PROBE_TIMEOUT_S = 2.0
_PG_SSL_REQUEST = struct.pack("!ii", 8, 80877103)
_MYSQL_CLIENT_SSL = 0x800
# CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION
_MYSQL_CLIENT_FLAGS = 0x1 | 0x200 | 0x800 | 0x8000
_MYSQL_UTF8MB4 = 45
# id-at-* attribute OIDs (2.5.4.x, DER-encoded) → short names
_ATTRIBUTES = {
    b"\x55\x04\x03": "CN",
    b"\x55\x04\x0b": "OU",
    b"\x55\x04\x0a": "O",
    b"\x55\x04\x07": "L",
    b"\x55\x04\x08": "ST",
    b"\x55\x04\x06": "C",
}
_STRING_CODECS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data


def _mysql_ask_for_tls(sock: socket.socket) -> bool:
    header = _recv_exact(sock, 4)
    length, sequence = int.from_bytes(header[:3], "little"), header[3]
    payload = _recv_exact(sock, length)
    if not payload or payload[0] != 10:  # protocol 10 greeting (0xff would be an error)
        return False
    pos = payload.index(b"\0", 1) + 1 + 4 + 8 + 1  # version, thread id, scramble 1, filler
    capabilities = int.from_bytes(payload[pos : pos + 2], "little")
    if not capabilities & _MYSQL_CLIENT_SSL:
        return False
    body = struct.pack("<IIB23x", _MYSQL_CLIENT_FLAGS, 1 << 24, _MYSQL_UTF8MB4)
    sock.sendall(len(body).to_bytes(3, "little") + bytes([(sequence + 1) & 0xFF]) + body)
    return True


def peer_issuer(
    host: str, port: int, server_name: str, engine: str, timeout_s: float = PROBE_TIMEOUT_S
) -> str | None:
    """The issuer of the certificate the server at ``host:port`` presents, or None.

    Args:
        host: Where to dial (the endpoint, or the ``address=`` host).
        port: Its port.
        server_name: The name sent as SNI (the endpoint's host name).
        engine: ``"postgresql"`` or ``"mysql"``: how to ask the server for TLS.
        timeout_s: Timeout of each network step.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # not create_default_context: no keylog
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we only read the certificate; nothing is sent
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            if engine == "postgresql":
                sock.sendall(_PG_SSL_REQUEST)
                if _recv_exact(sock, 1) != b"S":
                    return None
            elif not _mysql_ask_for_tls(sock):
                return None
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError, IndexError):
        return None
    return issuer_name(der) if der else None


def _element(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start, end) of the DER element at ``pos``: its content is ``der[start:end]``."""
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(der[pos : pos + size], "big")
        pos += size
    if pos + length > len(der):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    while start < end:
        item = _element(der, start)
        items.append(item)
        start = item[2]
    return items


def issuer_name(der: bytes) -> str | None:
    """The issuer of a DER certificate as ``CN=..., OU=..., O=..., C=...``, or None."""
    try:
        _, start, end = _element(der, 0)  # Certificate
        _, start, end = _element(der, start)  # TBSCertificate
        fields = _children(der, start, end)
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        _, start, end = fields[2]  # serialNumber, signature, issuer
        parts = []
        for _, rdn_start, rdn_end in _children(der, start, end):  # each RDN is a SET
            for _, atv_start, atv_end in _children(der, rdn_start, rdn_end):
                (_, oid_s, oid_e), (tag, val_s, val_e) = _children(der, atv_start, atv_end)[:2]
                short = _ATTRIBUTES.get(der[oid_s:oid_e])
                if short and tag in _STRING_CODECS:
                    parts.append(f"{short}={der[val_s:val_e].decode(_STRING_CODECS[tag])}")
    except (IndexError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    order = list(_ATTRIBUTES.values())
    parts.sort(key=lambda part: order.index(part.split("=", 1)[0]))
    return ", ".join(parts) or None
