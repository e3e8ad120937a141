"""``rds-iam-auth ca path | update | show``: the CA bundle in use, installing a newer one
(checked first, see ``rds_iam_auth._certs``), and its roots with their expiry dates."""

from __future__ import annotations

import json
import re
import ssl
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import CaBundleError, ConfigurationError
from ._parser import add_debug

if TYPE_CHECKING:
    import argparse

    from ..endpoint import Endpoint
    from ._output import Context

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "configure", "describe", "roots", "run"]

HELP = "the CA bundle in use: ca path, ca update [--from FILE], ca show"
DESCRIPTION = (
    "The RDS CA bundle that verifies the servers.\n"
    "\n"
    "  path    print the path of the bundle in use (stdout), and where it comes from (stderr)\n"
    "  update  check a newer RDS bundle (downloaded, or --from FILE) and install it in the\n"
    "          user cache: connections use it instead of the shipped one while it is valid\n"
    "  show    list the roots of the bundle in use with their expiry dates"
)
EPILOG = """examples:
  psql "host=H sslmode=verify-full sslrootcert=$(rds-iam-auth ca path) ..."
  curl -sO https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem  # where online
  rds-iam-auth ca update --from global-bundle.pem
  rds-iam-auth ca show --region us-gov-west-1
"""
_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the sub-commands and their flags."""
    from ._parser import Parser

    sub = parser.add_subparsers(
        title="sub-commands", dest="ca_command", metavar="path|update|show", parser_class=Parser
    )
    sub.required = True
    for name, summary in (
        ("path", "print the path of the bundle in use"),
        ("update", "check and install a newer RDS bundle"),
        ("show", "list the roots and their expiry dates"),
    ):
        child = sub.add_parser(name, help=summary, description=summary, epilog=EPILOG)
        if name == "update":
            child.add_argument("--from", dest="source", metavar="FILE", help="a PEM bundle")
            child.add_argument(
                "--partition",
                choices=("aws", "aws-us-gov", "aws-cn"),
                default="aws",
                help="aws (commercial, default), aws-us-gov (GovCloud) or aws-cn (China)",
            )
        else:
            child.add_argument("--hostname", metavar="HOST", help="the bundle for this endpoint")
            child.add_argument("--region", help="the bundle for this region (default us-east-1)")
            child.add_argument("--ca", metavar="PATH", help="a bundle path to use instead")
            if name == "show":
                child.add_argument("--json", action="store_true", help="one JSON object")
        add_debug(child)


def _endpoint(args: argparse.Namespace) -> Endpoint:
    from ..endpoint import Endpoint, parse_endpoint, region_from_host

    if args.hostname:
        if args.region is None and region_from_host(args.hostname) is None:
            raise ConfigurationError(
                f"{args.hostname!r} names no region: pass --region (the database's region)"
            )
        return parse_endpoint(args.hostname, 5432, args.region)
    from ..endpoint import validate_region

    return Endpoint("rds", 5432, validate_region(args.region or "us-east-1"), "instance")


def describe(path: str) -> str:
    """Where the bundle at ``path`` comes from, in words."""
    import os

    from .._tlsnotes import _bundle_description
    from ..tls import CA_BUNDLE_ENV

    if os.environ.get(CA_BUNDLE_ENV) == path:
        return f"from {CA_BUNDLE_ENV}"
    described, _ = _bundle_description(path)
    return described


def roots(path: str) -> list[dict[str, Any]]:
    """Each certificate of the PEM file at ``path``: subject, issuer, validity (file order).

    Raises:
        CaBundleError: The file cannot be read or holds no certificate.
    """
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaBundleError(f"cannot read the CA bundle {path!r}: {exc}") from None
    found = []
    for block in _BLOCK.findall(text):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=block)
        except (ssl.SSLError, ValueError):
            continue
        for cert in context.get_ca_certs():
            found.append(
                {
                    "subject": _name(cert.get("subject", ())),
                    "issuer": _name(cert.get("issuer", ())),
                    "not_before": _iso(str(cert["notBefore"])),
                    "not_after": _iso(str(cert["notAfter"])),
                }
            )
    if not found:
        raise CaBundleError(f"{path!r} holds no CA certificate")
    return found


def _name(rdns: Any) -> str:
    parts = {key: value for rdn in rdns for key, value in rdn}
    return str(parts.get("commonName") or parts.get("organizationName") or "(no name)")


def _iso(openssl_time: str) -> str:
    when = datetime.fromtimestamp(ssl.cert_time_to_seconds(openssl_time), timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _update(args: argparse.Namespace, ctx: Context) -> int:
    from .._bundle import PARTITIONS
    from .._certs import parse_bundle
    from ..tls import install_bundle

    partition = PARTITIONS[args.partition]
    if args.source:
        try:
            path = install_bundle(args.source, partition=partition.name)
        except CaBundleError as exc:
            # The file given was refused: a bad argument, not a failure at run time.
            raise ConfigurationError(f"--from {args.source}: {exc}") from None
    else:
        from .. import _bundle_cache

        ctx.status(f"downloading {partition.url}")
        failure = ""
        try:
            body = _bundle_cache._default_fetch(partition.url)
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
        if failure:
            raise CaBundleError(
                f"downloading {partition.url} failed ({failure}); download it where there is "
                "network access and run rds-iam-auth ca update --from global-bundle.pem"
            )
        path = install_bundle(body, partition=partition.name)
    with open(path, "rb") as fh:
        info = parse_bundle(fh.read(), path)
    ctx.status(
        f"installed {info.certificates} roots for the {partition.label} partition (sha256 "
        f"{info.sha256[:16]}..., earliest expiry {info.earliest_not_after:%Y-%m-%d}); "
        "connections use it from now on while it stays valid"
    )
    ctx.out.write(path + "\n")
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Run ``ca path``, ``ca update`` or ``ca show``."""
    if args.ca_command == "update":
        return _update(args, ctx)
    from ._common import ca_file

    path = ca_file(args.ca, _endpoint(args))
    if args.ca_command == "path":
        ctx.status(f"CA bundle: {describe(path)}")
        ctx.out.write(path + "\n")
        return 0
    found = roots(path)
    if args.json:
        ctx.out.write(json.dumps({"path": path, "certificates": found}, indent=2) + "\n")
        return 0
    ctx.status(f"{path}: {len(found)} certificates ({describe(path)})")
    for cert in found:
        ctx.out.write(f"{cert['not_after'][:10]}  {cert['subject']}\n")
    return 0
