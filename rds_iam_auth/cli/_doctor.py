"""``rds-iam-auth doctor``: why is the IAM login refused?

It shows what would be signed (host, port, region and where it came from, user, key id and
credential expiry; never a secret), resolves the host name, asks STS who the credentials
belong to (which also dates this machine's clock), checks the server's certificate against
the bundle, tries one login and, when it fails, lists the likely causes, most likely first,
each with how to check it (``_doctor_causes``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import CredentialsError
from . import _doctor_probe
from ._common import ca_file, resolve
from ._doctor_causes import rank
from ._doctor_report import render
from ._output import Marks
from ._parser import add_target

if TYPE_CHECKING:
    import argparse

    from ._common import Target
    from ._output import Context

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "configure", "diagnose", "render", "run"]

HELP = "check everything an IAM login needs and say why one is refused"
DESCRIPTION = (
    "Check what an IAM login needs, try one, and if it is refused list the likely causes,\n"
    "most likely first, with how to check each: the region, the host name signed for, the\n"
    "database user's grant, the IAM policy's resource ARN, expired or unknown credentials,\n"
    "an ECS execution role, the clock, the CA bundle, TLS and cleartext-plugin settings.\n"
    "\n"
    "Asks sts:GetCallerIdentity (endpoint: AWS_ENDPOINT_URL_STS if set) unless --no-sts:\n"
    "a key AWS does not know and a policy that denies look the same at the database.\n"
    "Exit status: 0 when the login works, 1 when it does not, 2 for bad arguments."
)
EPILOG = """examples:
  rds-iam-auth doctor --hostname mydb.abc123.us-east-1.rds.amazonaws.com --username jane
  rds-iam-auth doctor --hostname mydb.abc123.eu-west-1.rds.amazonaws.com --port 3306 \\
      --username jane --json | jq '.causes[0]'
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's flags."""
    add_target(parser, engine=True, dbname=True, address=True)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--no-sts", action="store_true", help="do not call sts:GetCallerIdentity")
    parser.add_argument("--driver", help="the driver for the login (default: the first installed)")


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _credentials(target: Target) -> tuple[dict[str, Any], Any]:
    try:
        creds = target.source.get()
    except CredentialsError as exc:
        text = str(exc)
        return {"ok": False, "error": text, "expired": "expired" in text.lower()}, None
    expiry = creds.expiry.timestamp() if creds.expiry is not None else None
    facts = {
        "ok": True,
        "key_id": creds.access_key,
        "origin": target.source.origin(),
        "temporary": creds.token is not None,
        "expiry": _iso(expiry),
        "expired": False,
        "error": None,
    }
    return facts, creds


def _rds_alias(dns: dict[str, Any], host: str) -> tuple[str | None, str | None]:
    from ..endpoint import region_from_host

    for name in (*dns.get("aliases", ()), dns.get("canonical")):
        if name and name.rstrip(".").lower() != host.rstrip(".").lower():
            region = region_from_host(name)
            if region is not None:
                return name, region
    return None, None


def diagnose(target: Target, args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    """Gather every fact and rank the causes (the JSON ``doctor --json`` prints)."""
    from .._address import parse_address
    from ..endpoint import region_from_host

    endpoint = target.endpoint
    dial = parse_address(args.address, endpoint.port) if args.address else None
    facts: dict[str, Any] = {
        "target": {
            "host": endpoint.host,
            "port": endpoint.port,
            "user": target.user,
            "engine": target.engine,
            "kind": endpoint.kind,
            "region": endpoint.region,
            "region_source": target.region_source,
            "host_region": region_from_host(endpoint.host),
            "address": args.address,
        }
    }
    facts["credentials"], creds = _credentials(target)
    # The name signed for: its CNAME chain may show the endpoint RDS knows it by.
    facts["dns"] = _doctor_probe.dns(endpoint.host)
    facts["dns"]["rds_alias"], facts["dns"]["rds_region"] = _rds_alias(facts["dns"], endpoint.host)
    if creds is None or args.no_sts:
        why = "--no-sts" if args.no_sts else "no credentials"
        facts["identity"] = {"checked": False, "ok": None, "error": why, "date": None}
    else:
        facts["identity"] = _doctor_probe.identity(creds, endpoint.region)
    ca_path = ca_file(args.ca, endpoint)
    where = (dial.host, dial.port) if dial else (endpoint.host, endpoint.port)
    facts["tls"] = _doctor_probe.tls(where, endpoint.host, target.engine, ca_path)
    if creds is None:
        facts["login"] = {"status": "skipped", "reason": "no usable credentials to sign with"}
    elif not facts["tls"]["ok"]:
        facts["login"] = {"status": "skipped", "reason": "TLS failed: a token is never sent"}
    else:
        facts["login"] = _login(target, args, ctx, ca_path)
    facts["clock"] = _clock(facts, ctx.clock())
    facts["causes"] = rank(facts)
    facts["ok"] = facts["login"]["status"] == "ok"
    return facts


def _login(target: Target, args: argparse.Namespace, ctx: Context, ca_path: str) -> dict[str, Any]:
    from ..errors import DriverNotInstalledError
    from ._doctor_login import login

    try:
        return login(
            target,
            ctx,
            ca_path=ca_path,
            address=args.address,
            dbname=args.dbname,
            driver=args.driver,
        )
    except DriverNotInstalledError as exc:
        return {"status": "skipped", "reason": str(exc), "driver": None}


def _clock(facts: dict[str, Any], local: float) -> dict[str, Any]:
    login = facts["login"]
    if login.get("server_time") is not None:
        return {"skew_s": login["server_time"] - login["local_time"], "against": "the database"}
    date = facts["identity"].get("date")
    if date is not None:
        # STS's Date has whole seconds: a second either way is no skew.
        skew = date - local
        return {"skew_s": 0.0 if abs(skew) < 2 else skew, "against": "STS"}
    return {"skew_s": None, "against": None}


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Diagnose and print the checklist (or JSON); 0 if the login works, else 1."""
    target = resolve(args, ctx)
    facts = diagnose(target, args, ctx)
    if args.json:
        ctx.out.write(json.dumps(facts, indent=2, default=str) + "\n")
    else:
        ctx.out.write(render(facts, Marks(ctx.out)))
    ctx.out.flush()
    return 0 if facts["ok"] else 1
