"""Byte parity of generate_auth_token with boto3's client("rds").generate_db_auth_token.

Runs against the newest and (in nox) the oldest allowed botocore, so it uses only APIs that
botocore 1.34.0 / boto3 1.34.0 have. botocore's clock is frozen by patching ``botocore.auth``;
ours is given the same instant through ``now=``.
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.endpoint import parse_endpoint

SEED = 20240102
N_CASES = 240

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# A few fixed credential sets: each needs its own boto3 client (~0.1 s to build).
CREDENTIAL_SETS: tuple[tuple[str, str, str | None], ...] = (
    (AKID, SECRET, None),
    ("ASIAIOSFODNN7EXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "FwoGZXIvYXdzE/+//Ab=="),
    (
        "ASIAZZZZZZZZZZZZZZZZ",
        "a+b/c=d+e/f=g+h/i=j+k/l=m+n/o=p+q/r=s+t",
        "tok/en+with=all/of+them==",
    ),
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN/+="),
)

# (region, host suffix builder) per partition; the suffix follows the region in the host name.
STANDARD_REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-3",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
    "me-south-1",
    "af-south-1",
    "il-central-1",
    "mx-central-1",
)
CHINA_REGIONS = ("cn-north-1", "cn-northwest-1")
GOV_REGIONS = ("us-gov-west-1", "us-gov-east-1")
ISO_REGIONS = (("us-iso-east-1", "c2s.ic.gov"), ("us-isob-east-1", "sc2s.sgov.gov"))
PREFIXES = ("", "cluster-", "cluster-ro-", "cluster-custom-", "proxy-", "shardgrp-")
PORTS = (443, 5432, 3306, 1, 65535, 80, 8443)
USER_PIECES = (
    "app",
    "iam user",
    " ",
    "é",
    "日本語",
    "ß",
    "\N{SNOWMAN}",
    "\N{GRINNING FACE}",
    "@",
    "+",
    "=",
    "%",
    "%2F",
    "/",
    "~",
    "-_.",
    "&",
    "?",
    "#",
    ":",
    ";",
    "'",
    '"',
    "*",
    "!",
    "Admin",
    "x",
)
OFFSETS = (
    timezone.utc,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=14)),
)


@dataclass(frozen=True)
class Case:
    host: str
    port: int
    user: str
    region: str
    pass_region: bool  # False: let generate_auth_token infer it from the host name
    creds: tuple[str, str, str | None]
    now: datetime  # aware, possibly not UTC


def _label(rng: random.Random, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    body = "".join(rng.choice(alphabet + "-") for _ in range(rng.randint(0, 10)))
    return rng.choice(string.ascii_lowercase) + body.strip("-") + rng.choice(alphabet)


def _mixed_case(rng: random.Random, text: str) -> str:
    mode = rng.random()
    if mode < 0.4:
        return text
    if mode < 0.55:
        return text.upper()
    return "".join(c.upper() if rng.random() < 0.3 else c for c in text)


def _rds_host(rng: random.Random) -> tuple[str, str]:
    name = _label(rng)
    ident = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(12))
    prefix = rng.choice(PREFIXES)
    if rng.random() < 0.1:
        head = f"{_label(rng)}.endpoint.proxy-{ident}"
    else:
        head = f"{name}.{prefix}{ident}"
    partition = rng.random()
    if partition < 0.55:
        region = rng.choice(STANDARD_REGIONS)
        return f"{head}.{region}.rds.amazonaws.com", region
    if partition < 0.7:
        region = rng.choice(CHINA_REGIONS)
        return f"{head}.{region}.rds.amazonaws.com.cn", region
    if partition < 0.85:
        region = rng.choice(GOV_REGIONS)
        if rng.random() < 0.5:
            return f"{head}.{region}.rds.amazonaws.com", region
        return f"{head}.rds.{region}.amazonaws.com", region
    region, suffix = rng.choice(ISO_REGIONS)
    return f"{head}.rds.{region}.{suffix}", region


def _custom_host(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return ".".join(str(rng.randint(0, 255)) for _ in range(4))
    if choice < 0.4:
        return "localhost"
    return f"{_label(rng)}.{_label(rng)}.example.com"


def _user(rng: random.Random) -> str:
    return "".join(rng.choice(USER_PIECES) for _ in range(rng.randint(1, 5)))


def _now(rng: random.Random) -> datetime:
    base = datetime(2000, 1, 1, tzinfo=timezone.utc)
    instant = base + timedelta(seconds=rng.randint(0, 100 * 365 * 86400))
    if rng.random() < 0.3:
        instant = instant.replace(microsecond=rng.randint(0, 999_999))
    return instant.astimezone(rng.choice(OFFSETS))


def _cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(N_CASES):
        if rng.random() < 0.8:
            host, region = _rds_host(rng)
            pass_region = rng.random() < 0.3
        else:
            host = _custom_host(rng)
            region = rng.choice(STANDARD_REGIONS + CHINA_REGIONS + GOV_REGIONS)
            pass_region = True
        host = _mixed_case(rng, host)
        if rng.random() < 0.2:
            host += "."
        port = rng.choice(PORTS) if rng.random() < 0.6 else rng.randint(1, 65535)
        cases.append(
            Case(
                host=host,
                port=port,
                user=_user(rng),
                region=region,
                pass_region=pass_region,
                creds=rng.choice(CREDENTIAL_SETS),
                now=_now(rng),
            )
        )
    return cases


CASES = _cases()


@functools.cache
def _boto3_session() -> Any:
    # One session for every client: its loader keeps the RDS model, so clients after the first
    # are cheap. Clients get explicit credentials and region, so no config is read from it.
    return boto3.session.Session()


@functools.cache
def _boto3_client(akid: str, secret: str, token: str | None) -> Any:
    return _boto3_session().client(
        "rds",
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def _freeze_botocore(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """Make botocore's SigV4 signers see ``when`` as the current time."""
    naive = when.astimezone(timezone.utc).replace(tzinfo=None)
    if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore

        def frozen(remove_tzinfo: bool = True) -> datetime:
            return naive if remove_tzinfo else naive.replace(tzinfo=timezone.utc)

        monkeypatch.setattr(botocore.auth, "get_current_datetime", frozen)
    else:  # botocore 1.34: `datetime.datetime.utcnow()` inside botocore.auth

        class _FrozenDatetime(datetime):
            @classmethod
            def utcnow(cls) -> datetime:  # type: ignore[override]
                return naive

        monkeypatch.setattr(botocore.auth, "datetime", SimpleNamespace(datetime=_FrozenDatetime))


def _boto3_token(
    monkeypatch: pytest.MonkeyPatch,
    *,
    host: str,
    port: int,
    user: str,
    region: str,
    creds: tuple[str, str, str | None],
    now: datetime,
) -> str:
    client = _boto3_client(*creds)
    with monkeypatch.context() as m:
        _freeze_botocore(m, now)
        token: str = client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
    return token


def _our_token(case: Case) -> str:
    akid, secret, session_token = case.creds
    return rds_iam_auth.generate_auth_token(
        case.host,
        case.port,
        case.user,
        region=case.region if case.pass_region else None,
        credentials=Credentials(akid, secret, session_token),
        now=case.now,
    )


def test_cases_cover_the_interesting_inputs() -> None:
    hosts = [c.host for c in CASES]
    assert len(CASES) >= 200
    assert any(h.endswith(".") for h in hosts)
    assert any(h != h.lower() for h in hosts)
    assert any(h.lower().rstrip(".").endswith(".amazonaws.com.cn") for h in hosts)
    assert any(".c2s.ic.gov" in h.lower() for h in hosts)
    assert any(".sc2s.sgov.gov" in h.lower() for h in hosts)
    assert any("us-gov-" in h.lower() for h in hosts)
    assert any(".endpoint.proxy-" in h.lower() for h in hosts)
    assert any(not c.pass_region for c in CASES)
    assert any(c.port == 443 for c in CASES)
    assert any(c.creds[2] is None for c in CASES)
    assert any(c.creds[2] is not None for c in CASES)
    users = "".join(c.user for c in CASES)
    for char in " é日@+=%/\N{GRINNING FACE}":
        assert char in users, char


CHUNK = 12  # cases per test: fewer tests, less per-test fixture overhead


@pytest.mark.parametrize("first", range(0, N_CASES, CHUNK))
def test_parity_with_boto3(monkeypatch: pytest.MonkeyPatch, first: int) -> None:
    mismatches = []
    for index in range(first, min(first + CHUNK, N_CASES)):
        case = CASES[index]
        # Only compare inputs the library accepts (boto3 validates nothing).
        parse_endpoint(case.host, case.port, case.region if case.pass_region else None)
        expected = _boto3_token(
            monkeypatch,
            host=case.host,
            port=case.port,
            user=case.user,
            region=case.region,
            creds=case.creds,
            now=case.now,
        )
        ours = _our_token(case)
        if ours != expected:
            mismatches.append(f"case {index}: {case!r}\n  ours:  {ours}\n  boto3: {expected}")
    assert not mismatches, "\n".join(mismatches)


def test_port_443_is_dropped_from_the_signed_host_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    host = "MyDB.abc.us-east-1.rds.amazonaws.com"
    creds = CREDENTIAL_SETS[0]
    ours_443 = rds_iam_auth.generate_auth_token(
        host, 443, "u", credentials=Credentials(*creds), now=now
    )
    assert ours_443.startswith(f"{host}:443/?Action=connect&DBUser=u&")
    assert ours_443 == _boto3_token(
        monkeypatch, host=host, port=443, user="u", region="us-east-1", creds=creds, now=now
    )


# DESIGN.md §4 test vector.
VECTOR_SIGNATURE = "1045251e2d28cb0a7a557fb622afdb657a233d334cf97b6d2eba2ab55677fb7e"
VECTOR_HOST = "MyDB.cluster-abc.us-west-2.rds.amazonaws.com"
VECTOR_NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
VECTOR_CREDS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN/+=")
VECTOR_TOKEN = (
    "MyDB.cluster-abc.us-west-2.rds.amazonaws.com:5432/?Action=connect&DBUser=iam%20user%40x"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Frds-db%2Faws4_request"
    "&X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
    "&X-Amz-Security-Token=SESSIONTOKEN%2F%2B%3D"
    f"&X-Amz-Signature={VECTOR_SIGNATURE}"
)


def test_design_vector() -> None:
    token = rds_iam_auth.generate_auth_token(
        VECTOR_HOST,
        5432,
        "iam user@x",
        region="us-west-2",
        credentials=Credentials(*VECTOR_CREDS),
        now=VECTOR_NOW,
    )
    assert token == VECTOR_TOKEN
    query = parse_qs(urlsplit(f"https://{token}").query)
    assert query["X-Amz-Signature"] == [VECTOR_SIGNATURE]


def test_design_vector_region_inferred_and_non_utc_now() -> None:
    token = rds_iam_auth.generate_auth_token(
        VECTOR_HOST,
        5432,
        "iam user@x",
        credentials=Credentials(*VECTOR_CREDS),
        now=VECTOR_NOW.astimezone(timezone(timedelta(hours=-7))),
    )
    assert token == VECTOR_TOKEN


def test_design_vector_matches_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _boto3_token(
        monkeypatch,
        host=VECTOR_HOST,
        port=5432,
        user="iam user@x",
        region="us-west-2",
        creds=VECTOR_CREDS,
        now=VECTOR_NOW,
    )
    assert expected == VECTOR_TOKEN


def test_design_vector_with_sigv4_signer() -> None:
    signer = rds_iam_auth.SigV4Signer(CredentialSource(credentials=Credentials(*VECTOR_CREDS)))
    token = signer.sign(parse_endpoint(VECTOR_HOST, 5432), "iam user@x", now=VECTOR_NOW)
    assert token.value == VECTOR_TOKEN
    assert token.signed_at == VECTOR_NOW
    assert token.expires_at == VECTOR_NOW + timedelta(seconds=900)


# --- credentials and region from a session, a profile or the environment ----------------------

SESSION_CREDS = CREDENTIAL_SETS[1]


def _write_profile(tmp_path: Any, region: str | None) -> None:
    # conftest points AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE at these two files.
    akid, secret, token = SESSION_CREDS
    (tmp_path / "aws-credentials").write_text(
        f"[dev]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"
        f"aws_session_token = {token}\n"
    )
    config = "[profile dev]\n" + (f"region = {region}\n" if region else "")
    (tmp_path / "aws-config").write_text(config)


def test_parity_with_a_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    _write_profile(tmp_path, "eu-north-1")
    when = datetime(2031, 7, 8, 9, 10, 11, tzinfo=timezone.utc)
    # The profile holds SESSION_CREDS: the cached boto3 client for them gives the expected bytes.
    expected = _boto3_token(
        monkeypatch,
        host="10.1.2.3",
        port=5432,
        user="app",
        region="eu-north-1",
        creds=SESSION_CREDS,
        now=when,
    )
    assert "%2Feu-north-1%2Frds-db%2F" in expected
    # region from the profile's config: 10.1.2.3 names none
    assert rds_iam_auth.generate_auth_token("10.1.2.3", 5432, "app", profile="dev", now=when) == (
        expected
    )
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert rds_iam_auth.generate_auth_token("10.1.2.3", 5432, "app", now=when) == expected


def test_parity_with_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    akid, secret, token = SESSION_CREDS
    boto3_session = boto3.session.Session(
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name="ap-south-1",
    )
    when = datetime(2025, 2, 28, 23, 59, 59, tzinfo=timezone.utc)
    expected = _boto3_token(
        monkeypatch,
        host="db.internal.example.com",
        port=3306,
        user="svc@x",
        region="ap-south-1",
        creds=SESSION_CREDS,
        now=when,
    )
    ours = rds_iam_auth.generate_auth_token(
        "db.internal.example.com", 3306, "svc@x", session=boto3_session, now=when
    )
    assert ours == expected
    ours_botocore = rds_iam_auth.generate_auth_token(
        "db.internal.example.com",
        3306,
        "svc@x",
        session=boto3_session._session,
        region="ap-south-1",
        now=when,
    )
    assert ours_botocore == expected


def test_parity_with_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    akid, secret, token = SESSION_CREDS
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", akid)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token or "")
    when = datetime(2026, 12, 1, 0, 0, 0, tzinfo=timezone.utc)
    for env, region in (("AWS_DEFAULT_REGION", "eu-south-2"), ("AWS_REGION", "ca-west-1")):
        with monkeypatch.context() as m:
            m.setenv(env, region)
            expected = _boto3_token(
                monkeypatch,
                host="127.0.0.1",
                port=5432,
                user="u",
                region=region,
                creds=SESSION_CREDS,
                now=when,
            )
            assert rds_iam_auth.generate_auth_token("127.0.0.1", 5432, "u", now=when) == expected
    # the region in an RDS host name wins over the environment
    monkeypatch.setenv("AWS_REGION", "ca-west-1")
    host = "db.abc.us-west-1.rds.amazonaws.com"
    expected = _boto3_token(
        monkeypatch,
        host=host,
        port=5432,
        user="u",
        region="us-west-1",
        creds=SESSION_CREDS,
        now=when,
    )
    assert rds_iam_auth.generate_auth_token(host, 5432, "u", now=when) == expected


def test_stdlib_and_botocore_signing_paths_agree() -> None:
    """The hashlib/hmac path and the botocore SigV4QueryAuth path give the same bytes, for RDS
    requests (with the port) and DSQL ones (without)."""
    from rds_iam_auth import _sigv4
    from rds_iam_auth.credentials import FrozenCredentials

    rng = random.Random(3000)
    host_chars = string.ascii_letters + string.digits + "-_"
    user_chars = string.ascii_letters + string.digits + " @+=%/&?#~.-_éü漢😀"
    for case in range(500):
        labels = [
            "".join(rng.choice(host_chars) for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 4))
        ]
        host = ".".join(labels) + rng.choice(["", "."])
        user = "".join(rng.choice(user_chars) for _ in range(rng.randint(1, 16)))
        if case % 2:
            port: int | None = rng.choice([443, 5432, 3306, rng.randint(1, 65535)])
            params = [("Action", "connect"), ("DBUser", user)]
            service = "rds-db"
        else:
            port = None
            params = [("Action", rng.choice(["DbConnect", "DbConnectAdmin"]))]
            service = "dsql"
        token = rng.choice(
            [None, "", "".join(rng.choice(string.ascii_letters + "/+=") for _ in range(300))]
        )
        creds = FrozenCredentials("AKIDEXAMPLE", "secret/+=" + str(case), token, None)
        parse_endpoint(host, port or 5432, "us-east-1")  # only hosts the library accepts
        amz_date = (datetime(2020, 1, 1) + timedelta(seconds=rng.randint(0, 10**9))).strftime(
            "%Y%m%dT%H%M%SZ"
        )
        args = {
            "host": host,
            "port": port,
            "request_params": params,
            "service": service,
            "region": rng.choice(["us-east-1", "cn-north-1"]),
            "amz_date": amz_date,
            "expires_in_s": rng.randint(1, 604_800),
        }
        plain = _sigv4._presign_plain(creds, **args)  # type: ignore[arg-type]
        reference = _sigv4._presign_botocore(creds, **args)  # type: ignore[arg-type]
        assert plain == reference, f"case {case}: {host!r} {port} {user!r}"
