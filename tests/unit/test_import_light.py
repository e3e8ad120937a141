"""``import rds_iam_auth`` stays cheap: no database driver, no boto3 (DESIGN §2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "psycopg", "pymysql")

PROBE = f"""
import json, sys
import rds_iam_auth
from rds_iam_auth import Connector
from rds_iam_auth.testing import FakeClock, StaticSigner
print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
"""


def imported_after(code: str) -> dict[str, bool]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    ).stdout
    result: dict[str, bool] = json.loads(out.strip().splitlines()[-1])
    return result


def test_import_does_not_load_drivers_or_boto3() -> None:
    loaded = imported_after(PROBE)
    assert loaded["boto3"] is False
    assert loaded["psycopg"] is False
    assert loaded["pymysql"] is False


def test_import_does_not_load_botocore() -> None:
    # The code is lazy about botocore too (credentials.py / signer.py import it on first use).
    assert imported_after(PROBE)["botocore"] is False


def test_static_signer_connector_never_loads_botocore_or_drivers() -> None:
    setup = (
        "from datetime import datetime, timezone\n"
        "c = Connector(signer=StaticSigner('t'), clock=FakeClock(datetime(2024, 1, 1, "
        "tzinfo=timezone.utc)), region='us-east-1', ca='certifi')\n"
        "c.token('db.internal', 5432, 'app')\n"
    )
    loaded = imported_after(PROBE.replace("print(", setup + "print("))
    assert loaded == dict.fromkeys(HEAVY, False)
    # Building psycopg kwargs asks the libpq psycopg loaded which options it knows (so that
    # gssencmode / sslkeylogfile are pinned exactly where they exist): psycopg, nothing else.
    kwargs = setup + "c.connect_kwargs('db.internal', 'app', driver='psycopg')\n"
    loaded = imported_after(PROBE.replace("print(", kwargs + "print("))
    assert loaded == {**dict.fromkeys(HEAVY, False), "psycopg": True}


def test_the_shipped_bundle_is_not_parsed_at_connect_time() -> None:
    # Its sha256 is pinned: resolving it hashes the file once, it never loads the checker
    # (_certs, which builds an SSLContext of 108 roots) nor cryptography.
    code = (
        "import json, sys\n"
        "from rds_iam_auth import Connector\n"
        "from rds_iam_auth.testing import StaticSigner\n"
        "c = Connector(signer=StaticSigner('t'))\n"
        "kw = c.connect_kwargs('db.abc.us-east-1.rds.amazonaws.com', 'app', driver='psycopg')\n"
        "mods = ('rds_iam_auth._certs', 'cryptography', 'urllib.request')\n"
        "print(json.dumps({m: m in sys.modules for m in mods}))\n"
    )
    assert imported_after(code) == {
        "rds_iam_auth._certs": False,
        "cryptography": False,
        "urllib.request": False,
    }
