#!/usr/bin/python3 -IS
"""RDS IAM and Aurora DSQL token verifier, run by pam_script for each login (stdlib only).

pam_script passes the login in the environment (``PAM_USER``, ``PAM_AUTHTOK``); the exit status
is the verdict. ``config.json`` next to this script names the accepted endpoint, region and
keys. The reason for each refusal is appended to the configured log (never the token), so a
failing integration test can say why the server said no.

A token whose host (with no port) is one of ``dsql_hosts`` is checked as Aurora DSQL checks it:
service ``dsql``, no ``DBUser``, ``Action=DbConnectAdmin`` for the ``dsql_admin`` role and
``DbConnect`` for every other role, ``X-Amz-Expires`` up to one week. Any other token as RDS.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import os
import sys
import time
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rds-db"
MAX_EXPIRES_S = 900
DSQL_SERVICE = "dsql"
DSQL_MAX_EXPIRES_S = 604_800
MAX_CLOCK_SKEW_S = 300
REQUIRED = (
    "Action",
    "DBUser",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
OPTIONAL = ("X-Amz-Security-Token",)
DSQL_REQUIRED = tuple(name for name in REQUIRED if name != "DBUser")


class Kind:
    """What one kind of token must look like: RDS or DSQL."""

    def __init__(self, service: str, required: tuple[str, ...], max_expires_s: int) -> None:
        self.service = service
        self.required = required
        self.max_expires_s = max_expires_s


RDS = Kind(SERVICE, REQUIRED, MAX_EXPIRES_S)
DSQL = Kind(DSQL_SERVICE, DSQL_REQUIRED, DSQL_MAX_EXPIRES_S)


class Refused(Exception):
    """The token is not valid for this login; the message says why."""


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _parse_query(query: str, kind: Kind) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if not sep:
            raise Refused(f"malformed query parameter {name[:40]!r}")
        name = unquote(name)
        if name in params:
            raise Refused(f"duplicate parameter {name}")
        if name not in kind.required and name not in OPTIONAL:
            raise Refused(f"unexpected parameter {name[:40]}")
        params[name] = unquote(value)
    missing = [name for name in kind.required if name not in params]
    if missing:
        raise Refused(f"missing parameters {', '.join(missing)}")
    return params


def verify(token: str, pam_user: str, config: dict[str, object], now: float) -> str:
    """Return the access key id if ``token`` is valid for ``pam_user``, else raise Refused."""
    host_port, sep, query = token.partition("/?")
    if not sep:
        raise Refused("not a token: no '/?'")
    allowed = {str(h).lower() for h in config["endpoints"]}  # type: ignore[attr-defined]
    dsql_hosts = {str(h).lower() for h in config.get("dsql_hosts", ())}  # type: ignore[attr-defined]
    if host_port.lower() in dsql_hosts:
        kind = DSQL
    elif host_port.lower() in allowed:
        kind = RDS
    else:
        raise Refused(
            f"signed for endpoint {host_port[:80]!r}, this server is {sorted(allowed | dsql_hosts)}"
        )
    params = _parse_query(query, kind)
    _check_request(params, pam_user, kind, config)
    access_key = _check_scope(params, config, kind)
    _check_time(params, now, kind)
    _check_session_token(params, config, access_key)
    _check_signature(params, config, host_port, access_key, kind)
    return access_key


def _check_request(
    params: dict[str, str], pam_user: str, kind: Kind, config: dict[str, object]
) -> None:
    if kind is DSQL:
        # The admin role needs DbConnectAdmin, every other role DbConnect, as on DSQL.
        want = "DbConnectAdmin" if pam_user == config.get("dsql_admin") else "DbConnect"
        if params["Action"] != want:
            raise Refused(f"Action is {params['Action'][:20]!r}, not {want!r} for {pam_user!r}")
    elif params["Action"] != "connect":
        raise Refused(f"Action is {params['Action'][:20]!r}, not 'connect'")
    elif params["DBUser"] != pam_user:
        raise Refused(f"DBUser {params['DBUser'][:60]!r} is not the login user {pam_user!r}")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise Refused("wrong algorithm")
    if params["X-Amz-SignedHeaders"] != "host":
        raise Refused("SignedHeaders must be 'host'")


def _check_scope(params: dict[str, str], config: dict[str, object], kind: Kind) -> str:
    scope_parts = params["X-Amz-Credential"].split("/")
    if len(scope_parts) != 5:
        raise Refused("malformed credential scope")
    access_key, date, region, service, terminator = scope_parts
    keys: dict[str, dict[str, str | None]] = config["keys"]  # type: ignore[assignment]
    key = keys.get(access_key)
    if key is None:
        raise Refused(f"unknown access key {access_key[:24]!r}")
    if region != config["region"]:
        raise Refused(f"signed for region {region[:30]!r}, this server is in {config['region']}")
    if service != kind.service or terminator != "aws4_request":
        raise Refused(f"credential scope must end in {kind.service}/aws4_request")
    if date != params["X-Amz-Date"][:8]:
        raise Refused("credential scope date differs from X-Amz-Date")
    return access_key


def _check_time(params: dict[str, str], now: float, kind: Kind) -> None:
    amz_date = params["X-Amz-Date"]
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise Refused("malformed X-Amz-Date") from None
    expires_text = params["X-Amz-Expires"]
    if not expires_text.isdigit():
        raise Refused("X-Amz-Expires is not a number")
    expires = int(expires_text)
    if not 0 < expires <= kind.max_expires_s:
        raise Refused(f"X-Amz-Expires {expires} outside 1..{kind.max_expires_s}")
    if signed_at - now > MAX_CLOCK_SKEW_S:
        raise Refused(f"signed {signed_at - now:.0f} s in the future")
    if now > signed_at + expires:
        raise Refused(f"expired {now - signed_at - expires:.0f} s ago")


def _check_session_token(
    params: dict[str, str], config: dict[str, object], access_key: str
) -> None:
    keys: dict[str, dict[str, str | None]] = config["keys"]  # type: ignore[assignment]
    key = keys[access_key]
    session_token = params.get("X-Amz-Security-Token")
    expected_token = key.get("token")
    if expected_token is None and session_token is not None:
        raise Refused("security token given for a long-term key")
    if expected_token is not None:
        if session_token is None:
            raise Refused("temporary key used without its session token")
        if not hmac.compare_digest(session_token.encode(), str(expected_token).encode()):
            raise Refused("wrong session token")


def _check_signature(
    params: dict[str, str], config: dict[str, object], host_port: str, access_key: str, kind: Kind
) -> None:
    keys: dict[str, dict[str, str | None]] = config["keys"]  # type: ignore[assignment]
    key = keys[access_key]
    date, region = params["X-Amz-Credential"].split("/")[1:3]
    amz_date = params["X-Amz-Date"]
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(params[name], safe='-_.~')}"
        for name in sorted(params)
        if name != "X-Amz-Signature"
    )
    host = host_port.lower()
    if host.endswith(":443"):
        host = host[: -len(":443")]
    canonical_request = "\n".join(
        (
            "GET",
            "/",
            canonical_query,
            f"host:{host}",
            "",
            "host",
            hashlib.sha256(b"").hexdigest(),
        )
    )
    scope = f"{date}/{region}/{kind.service}/aws4_request"
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    signing_key = _hmac(f"AWS4{key['secret']}".encode(), date)
    for part in (region, kind.service, "aws4_request"):
        signing_key = _hmac(signing_key, part)
    expected = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise Refused("signature does not match")


def _log(config: dict[str, object], line: str) -> None:
    path = config.get("log")
    if not path:
        return
    try:
        with open(str(path), "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except OSError:
        pass


def _now(config: dict[str, object]) -> float:
    """Real time plus the offset a test wrote (``Emulator.set_clock_offset``): tests that move a
    FakeClock across token lifetimes move the server's clock with it."""
    path = config.get("clock_offset_file")
    offset = 0.0
    if path:
        try:
            with open(str(path), encoding="utf-8") as f:
                offset = float(f.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
    return time.time() + offset


def main() -> int:
    """pam_script entry point: exit 0 to accept the login, 1 to refuse it."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    user = os.environ.get("PAM_USER", "")
    token = os.environ.get("PAM_AUTHTOK", "")
    try:
        access_key = verify(token, user, config, _now(config))
    except Refused as exc:
        _log(config, f"REFUSED user={user!r}: {exc}")
        return 1
    except Exception as exc:  # a verifier bug must refuse, not accept
        _log(config, f"ERROR user={user!r}: {type(exc).__name__}")
        return 1
    _log(config, f"ACCEPTED user={user!r} key={access_key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
