"""SigV4 query presigning of ``GET https://host[:port]/?params``, byte-identical to botocore.

Both token kinds are such a presign: RDS (``rds-db``, ``Action=connect&DBUser=...``, with the
port) and Aurora DSQL (``dsql``, ``Action=DbConnect`` or ``DbConnectAdmin``, no port). For the
host names AWS issues (letters, digits, ``.``, ``-``, ``_``) the signature is computed with
``hashlib``/``hmac``: importing ``botocore.auth`` alone costs more than the rest of a cold
start. Any other host goes through botocore's own ``SigV4QueryAuth`` steps on a bare
``AWSRequest``. Both paths take the signing time as an argument and write nothing to botocore's
DEBUG log, from which a token could be rebuilt; the parity tests hold both to botocore's bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .credentials import FrozenCredentials

__all__ = ["presign"]

_SCHEME = "https://"
_ALGORITHM = "AWS4-HMAC-SHA256"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Hosts whose canonical form is simply their lower-case spelling (urlsplit agrees).
_PLAIN_HOST = re.compile(r"[A-Za-z0-9._-]+\Z")

_auth_class: Any = None


def _quiet_query_auth() -> Any:
    """Build (once) a SigV4QueryAuth subclass that signs at a given time, without logging."""
    global _auth_class  # noqa: PLW0603 - lazily built so importing us does not import botocore
    if _auth_class is None:
        from botocore.auth import SigV4QueryAuth

        class _QuietSigV4QueryAuth(SigV4QueryAuth):
            # add_auth() would take the time itself and log the canonical request, string to
            # sign and signature at DEBUG; these are its steps with neither.
            def sign_at(self, request: Any, timestamp: str) -> None:
                request.context["timestamp"] = timestamp
                self._modify_request_before_signing(request)  # type: ignore[attr-defined]
                canonical_request = self.canonical_request(request)
                string_to_sign = self.string_to_sign(request, canonical_request)
                signature = self.signature(string_to_sign, request)
                self._inject_signature_to_request(request, signature)  # type: ignore[attr-defined]

        _auth_class = _QuietSigV4QueryAuth
    return _auth_class


def presign(
    creds: FrozenCredentials,
    *,
    host: str,
    port: int | None,
    params: Sequence[tuple[str, str]],
    service: str,
    region: str,
    amz_date: str,
    expires_in_s: int,
) -> str:
    """Presign ``GET https://host[:port]/?params`` and return it without the ``https://``.

    Args:
        creds: The frozen credentials to sign with.
        host: The host, signed exactly as given (its lower-case form is the signed header).
        port: Written after the host; ``None`` leaves it out (DSQL), 443 is kept in the URL
            but left out of the signed ``host`` header, as botocore does.
        params: The request's own query parameters, in order, not yet percent-encoded.
        service: The SigV4 service name (``rds-db``, ``dsql``).
        region: The signing region.
        amz_date: The signing time as ``YYYYMMDDTHHMMSSZ``.
        expires_in_s: ``X-Amz-Expires``.
    """
    sign = _presign_plain if _PLAIN_HOST.match(host) else _presign_botocore
    return sign(
        creds,
        host=host,
        port=port,
        request_params=params,
        service=service,
        region=region,
        amz_date=amz_date,
        expires_in_s=expires_in_s,
    )


def _quote(value: str) -> str:
    # botocore.utils.percent_encode: UTF-8, everything but RFC 3986 unreserved escaped.
    return quote(value, safe="-_.~")


def _presign_plain(
    creds: FrozenCredentials,
    *,
    host: str,
    port: int | None,
    request_params: Sequence[tuple[str, str]],
    service: str,
    region: str,
    amz_date: str,
    expires_in_s: int,
) -> str:
    """The presign computed with hashlib/hmac, for hosts of ``[A-Za-z0-9._-]`` only."""
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    # Query order of the URL botocore builds: the request's own parameters, then the auth ones.
    params = [(name, _quote(value)) for name, value in request_params]
    params += [
        ("X-Amz-Algorithm", _ALGORITHM),
        ("X-Amz-Credential", _quote(f"{creds.access_key}/{scope}")),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires_in_s)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if creds.token is not None:
        params.append(("X-Amz-Security-Token", _quote(creds.token)))
    query = "&".join(f"{k}={v}" for k, v in params)
    netloc = host if port is None else f"{host}:{port}"
    signed_host = host.lower()
    if port is not None and port != 443:  # the default https port is left out of the header
        signed_host = f"{signed_host}:{port}"
    canonical_request = (
        f"GET\n/\n{'&'.join(f'{k}={v}' for k, v in sorted(params))}\n"
        f"host:{signed_host}\n\nhost\n{_EMPTY_SHA256}"
    )
    string_to_sign = (
        f"{_ALGORITHM}\n{amz_date}\n{scope}\n"
        f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    )
    key = f"AWS4{creds.secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{netloc}/?{query}&X-Amz-Signature={signature}"


def _presign_botocore(
    creds: FrozenCredentials,
    *,
    host: str,
    port: int | None,
    request_params: Sequence[tuple[str, str]],
    service: str,
    region: str,
    amz_date: str,
    expires_in_s: int,
) -> str:
    """The same presign through botocore's SigV4QueryAuth, for hosts the plain path refuses."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    netloc = host if port is None else f"{host}:{port}"
    request = AWSRequest(method="GET", url=f"{_SCHEME}{netloc}/", data=dict(request_params))
    auth = _quiet_query_auth()(
        ReadOnlyCredentials(creds.access_key, creds.secret_key, creds.token),
        service,
        region,
        expires=expires_in_s,
    )
    auth.sign_at(request, amz_date)
    url: str = request.url or ""
    return url[len(_SCHEME) :]
