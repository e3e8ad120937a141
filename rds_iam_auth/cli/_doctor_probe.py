"""What ``doctor`` looks at besides the signing: the host name in DNS, the server's TLS
certificate, the caller's identity at STS and one login. Each returns a plain dict of facts
(JSON-ready) and never raises for what it finds; no token, secret key or session token goes
into any of them."""

from __future__ import annotations

import socket
import ssl
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..credentials import FrozenCredentials

__all__ = ["NoTls", "WrongEngine", "dns", "identity", "tls"]

TIMEOUT_S = 5.0
# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH: the chain verified, the name
# did not.
_NAME_MISMATCH = (62, 64)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def dns(host: str) -> dict[str, Any]:
    """The CNAME chain and addresses of ``host`` (as the system resolver reports them)."""
    if _is_ip(host):
        return {"ip": True, "canonical": None, "aliases": [], "addresses": [host], "error": None}
    try:
        canonical, aliases, addresses = socket.gethostbyname_ex(host)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return {"ip": False, "canonical": None, "aliases": [], "addresses": [], "error": reason}
    return {
        "ip": False,
        "canonical": canonical,
        "aliases": aliases,
        "addresses": addresses,
        "error": None,
    }


class WrongEngine(ConnectionError):
    """The server does not speak the protocol of ``--engine``."""


class NoTls(ConnectionError):
    """The server does not offer TLS."""


def _ask_for_tls(sock: socket.socket, engine: str) -> None:
    from .._tlsprobe import _PG_SSL_REQUEST, _mysql_ask_for_tls, _recv_exact

    if engine == "postgres":
        sock.sendall(_PG_SSL_REQUEST)
        answer = _recv_exact(sock, 1)
        if answer not in (b"S", b"N", b"E"):  # all a PostgreSQL server answers
            raise WrongEngine("the server does not answer like PostgreSQL: pass --engine mysql?")
        if answer != b"S":
            raise NoTls("the server does not offer TLS")
        return
    try:
        offered = _mysql_ask_for_tls(sock)
    except TimeoutError:
        # A PostgreSQL server waits for the client to speak first; MySQL greets at once.
        raise WrongEngine(
            "no MySQL greeting: a PostgreSQL server? pass --engine postgres"
        ) from None
    if not offered:
        raise NoTls("the server does not offer TLS")


def _handshake(
    dial: tuple[str, int], server_name: str, engine: str, context: ssl.SSLContext
) -> dict[str, Any]:
    with socket.create_connection(dial, timeout=TIMEOUT_S) as sock:
        _ask_for_tls(sock, engine)
        with context.wrap_socket(sock, server_hostname=server_name) as tls_sock:
            cert = tls_sock.getpeercert() or {}
            return {"version": tls_sock.version(), "cert": cert}


def _names(cert: dict[str, Any]) -> list[str]:
    names = [
        str(value)
        for kind, value in cert.get("subjectAltName", ())
        if kind in ("DNS", "IP Address")
    ]
    if not names:
        names = [str(v) for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    return names


def _issuer(cert: dict[str, Any]) -> str | None:
    parts = [
        f"{k}={v}"
        for rdn in cert.get("issuer", ())
        for k, v in rdn
        if k in ("commonName", "organizationName")
    ]
    return ", ".join(parts).replace("commonName", "CN").replace("organizationName", "O") or None


def tls(dial: tuple[str, int], server_name: str, engine: str, ca_path: str) -> dict[str, Any]:
    """Verify the server's certificate chain against ``ca_path`` and its name against
    ``server_name``, asking for TLS the way the driver does. Nothing is sent but the TLS
    request and the handshake."""
    facts: dict[str, Any] = {
        "ca_path": ca_path,
        "ok": False,
        "chain_ok": None,
        "name_ok": None,
        "names": [],
        "issuer": None,
        "reason": None,
        "reachable": True,
    }
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # not create_default_context: no keylog
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(ca_path)
    except (OSError, ssl.SSLError) as exc:
        facts["reason"] = f"cannot load {ca_path}: {exc}"
        return facts
    try:
        done = _handshake(dial, server_name, engine, context)
    except ssl.SSLCertVerificationError as exc:
        facts["reason"] = str(exc.verify_message or "certificate verify failed")
        if exc.verify_code in _NAME_MISMATCH:
            facts.update(chain_ok=True, name_ok=False)
            context.check_hostname = False
            try:
                cert = _handshake(dial, server_name, engine, context)["cert"]
            except (OSError, ssl.SSLError):
                cert = {}
            facts.update(names=_names(cert), issuer=_issuer(cert))
        else:
            from .._tlsprobe import peer_issuer

            facts["chain_ok"] = False
            facts["issuer"] = peer_issuer(
                *dial, server_name, "postgresql" if engine == "postgres" else "mysql"
            )
        return facts
    except (WrongEngine, NoTls) as exc:
        facts["refused_tls"] = "engine" if isinstance(exc, WrongEngine) else "no-tls"
        facts["reason"] = str(exc)
        return facts
    except (OSError, ssl.SSLError, ValueError, IndexError) as exc:
        facts["reachable"] = not isinstance(
            exc, (ConnectionRefusedError, TimeoutError, socket.gaierror)
        )
        facts["reason"] = f"{type(exc).__name__}: {exc}"
        return facts
    cert = done["cert"]
    facts.update(
        ok=True,
        chain_ok=True,
        name_ok=True,
        names=_names(cert),
        issuer=_issuer(cert),
        version=done["version"],
        not_after=cert.get("notAfter"),
    )
    return facts


def identity(creds: FrozenCredentials, region: str) -> dict[str, Any]:
    """``sts:GetCallerIdentity`` with these credentials (botocore honours
    ``AWS_ENDPOINT_URL_STS``), and the ``Date`` of STS's answer for the clock check."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.session import Session

    facts: dict[str, Any] = {"checked": True, "ok": None, "arn": None, "account": None}
    facts.update(code=None, error=None, date=None)
    config = Config(connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S, retries={"max_attempts": 1})
    failure: tuple[str | None, str, dict[str, Any]] | None = None
    try:
        client: Any = Session().create_client(
            "sts",
            region_name=region,
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.token,
            config=config,
        )
        answer = client.get_caller_identity()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        failure = (error.get("Code"), str(error.get("Message", "")), dict(exc.response))
    except BotoCoreError as exc:
        failure = (None, f"{type(exc).__name__}: {exc}", {})
    if failure is not None:
        code, message, response = failure
        facts.update(ok=False, code=code, error=message, date=_date(response))
        return facts
    facts.update(ok=True, arn=answer.get("Arn"), account=answer.get("Account"), date=_date(answer))
    return facts


def _date(response: dict[str, Any]) -> float | None:
    header = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None
