"""Smoke test of the installed wheel, run by ``nox -s build`` in a fresh virtualenv that holds
only the wheel and its declared dependencies (``python -I wheel_smoke.py``, outside the
checkout). Stdlib only; no network: sockets are disabled before anything is signed or resolved.

Checks: the package comes from site-packages with nothing but its dependencies beside it;
``import rds_iam_auth`` is cheap and loads no botocore, boto3 or driver; a token signed
offline matches the DESIGN §4 test vector byte for byte; the CA for an RDS instance resolves
to the bundle shipped in the wheel (pinned sha256) without any download; a missing driver
names its pip extra.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import socket
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from typing import Any

# What `pip install rds_iam_auth-*.whl` may bring: the declared dependencies and theirs.
ALLOWED = {
    "rds-iam-auth", "botocore", "certifi", "jmespath", "python-dateutil", "six", "urllib3",
    "pip", "setuptools",
}  # fmt: skip
HEAVY = ("boto3", "botocore", "psycopg", "pymysql", "cryptography")
SIGNATURE = "1045251e2d28cb0a7a557fb622afdb657a233d334cf97b6d2eba2ab55677fb7e"
PINNED_SHA256 = "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3"
IMPORT_BUDGET_S = 1.0  # a smoke bound, not a benchmark (nox -s bench measures)


def check(condition: bool, message: str) -> None:
    if not condition:
        print(f"wheel smoke FAILED: {message}")
        sys.exit(1)


def no_network() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(101, "wheel smoke: the network is disabled")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def main() -> None:
    names = {
        d.metadata["Name"].lower().replace("_", "-") for d in importlib.metadata.distributions()
    }
    check(names <= ALLOWED, f"unexpected distributions installed: {sorted(names - ALLOWED)}")
    check(sys.prefix != sys.base_prefix, "not running in a virtualenv")
    probe = (
        "import sys, time; t = time.perf_counter(); import rds_iam_auth; "
        f"print(time.perf_counter() - t, [m for m in {HEAVY!r} if m in sys.modules])"
    )
    command = [sys.executable, "-I", "-c", probe]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    check(out.returncode == 0, f"import failed: {out.stderr.strip()}")
    seconds, heavy = out.stdout.split(" ", 1)
    check(heavy.strip() == "[]", f"import rds_iam_auth loaded {heavy.strip()}")
    check(float(seconds) < IMPORT_BUDGET_S, f"import took {float(seconds):.2f} s")

    os.environ.pop("RDS_IAM_AUTH_CA_BUNDLE", None)
    os.environ["RDS_IAM_AUTH_CACHE_DIR"] = tempfile.mkdtemp(prefix="wheel-smoke-cache-")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    no_network()

    import rds_iam_auth
    from rds_iam_auth.endpoint import parse_endpoint
    from rds_iam_auth.testing import StaticSigner
    from rds_iam_auth.tls import ca_bundle_path

    location = os.path.dirname(rds_iam_auth.__file__)
    check("site-packages" in location, f"imported from {location}, not the installed wheel")
    check(
        importlib.metadata.version("rds-iam-auth") == rds_iam_auth.__version__,
        "the installed metadata and __version__ disagree",
    )

    from botocore.credentials import Credentials

    token = rds_iam_auth.generate_auth_token(
        "MyDB.cluster-abc.us-west-2.rds.amazonaws.com",
        5432,
        "iam user@x",
        credentials=Credentials(
            "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN/+="
        ),
        now=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    check(token.endswith(f"X-Amz-Signature={SIGNATURE}"), "the offline token differs")

    endpoint = parse_endpoint("mydb.abc123.us-east-1.rds.amazonaws.com", 5432)
    path = ca_bundle_path(None, endpoint)
    check(path == os.path.join(location, "_data", "global-bundle.pem"), f"CA resolved to {path}")
    with open(path, "rb") as fh:
        check(hashlib.sha256(fh.read()).hexdigest() == PINNED_SHA256, "shipped bundle differs")

    connector = rds_iam_auth.Connector(signer=StaticSigner("tok"))
    kwargs = connector.connect_kwargs(endpoint.host, "app", driver="psycopg")
    check(kwargs["sslrootcert"] == path, f"connect_kwargs chose {kwargs['sslrootcert']}")
    try:
        connector.creator(endpoint.host, "app", driver="psycopg")
    except rds_iam_auth.DriverNotInstalledError as exc:
        check("rds-iam-auth[psycopg]" in str(exc), f"no pip extra in {exc}")
    else:
        check(False, "psycopg is installed in a venv that should hold only the wheel")
    print(
        f"wheel smoke passed: {sorted(names)}; import {float(seconds) * 1000:.0f} ms without "
        f"{', '.join(HEAVY)}; offline token matches; CA {path} (pinned sha256), no network"
    )


if __name__ == "__main__":
    main()
