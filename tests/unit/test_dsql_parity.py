"""Byte parity of DSQL tokens with botocore's ``client("dsql").generate_db_connect_auth_token`` and
``generate_db_connect_admin_auth_token``.

Runs against the newest botocore and (in nox) botocore/boto3 1.35.74, the first with those two
methods, so it uses only what that release has. Each generated case is signed three ways and
all must equal botocore's bytes: ``generate_dsql_token`` (what the CLI calls),
``generate_auth_token`` with the user (admin → DbConnectAdmin) and ``SigV4Signer.sign`` on a
parsed endpoint (what a Connector calls).
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth._dsql import MAX_DSQL_EXPIRES_IN_S, dsql_host
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.endpoint import parse_endpoint
from rds_iam_auth.signer import SigV4Signer, generate_dsql_token
from tests.unit.test_signer_parity import CREDENTIAL_SETS, OFFSETS, USER_PIECES, _freeze_botocore

SEED = 20241203
N_CASES = 240
CHUNK = 12

# Regions DSQL runs in, and others: the signer does not restrict them.
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-2",
    "ca-central-1",
)
SUFFIXES = ("", "-fnh4", "-x1y2", "-abcd")
EXPIRES = (1, 60, 899, 900, 901, 3600, 86_400, 604_799, MAX_DSQL_EXPIRES_IN_S)


@dataclass(frozen=True)
class Case:
    host: str
    region: str
    pass_region: bool  # False: inferred from the DSQL host name
    dsql_form: bool  # the host is <id>.dsql[-suffix].<region>.on.aws
    admin: bool
    user: str  # for the user-based paths: "admin" exactly when admin
    expires_in_s: int
    creds: tuple[str, str, str | None]
    now: datetime


def _cluster_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(26))


def _host(rng: random.Random, region: str) -> tuple[str, bool]:
    if rng.random() < 0.8:
        host = f"{_cluster_id(rng)}.dsql{rng.choice(SUFFIXES)}.{region}.on.aws"
        dsql_form = True
    elif rng.random() < 0.5:
        host, dsql_form = ".".join(str(rng.randint(0, 255)) for _ in range(4)), False
    else:
        host, dsql_form = f"dsql-{rng.randint(1, 99)}.internal.example.com", False
    mode = rng.random()
    if mode < 0.15:
        host = host.upper()
    elif mode < 0.35:
        host = "".join(c.upper() if rng.random() < 0.3 else c for c in host)
    if rng.random() < 0.15:
        host += "."
    return host, dsql_form


def _now(rng: random.Random) -> datetime:
    instant = datetime(2000, 1, 1, tzinfo=timezone.utc) + timedelta(
        seconds=rng.randint(0, 100 * 365 * 86400)
    )
    if rng.random() < 0.3:
        instant = instant.replace(microsecond=rng.randint(0, 999_999))
    return instant.astimezone(rng.choice(OFFSETS))


def _cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(N_CASES):
        region = rng.choice(REGIONS)
        host, dsql_form = _host(rng, region)
        admin = rng.random() < 0.5
        user = "admin" if admin else rng.choice(["app", "Admin", "admin ", "reader@x", "ß"])
        if not admin and rng.random() < 0.5:
            user = "".join(rng.choice(USER_PIECES) for _ in range(rng.randint(1, 4)))
            user = "app" if user == "admin" else user
        cases.append(
            Case(
                host=host,
                region=region,
                pass_region=not dsql_form or rng.random() < 0.3,
                dsql_form=dsql_form,
                admin=admin,
                user=user,
                expires_in_s=rng.choice(EXPIRES) if rng.random() < 0.6 else rng.randint(1, 604_800),
                creds=rng.choice(CREDENTIAL_SETS),
                now=_now(rng),
            )
        )
    return cases


CASES = _cases()


@functools.cache
def _client(akid: str, secret: str, token: str | None) -> Any:
    # One session: its loader keeps the DSQL model, so later clients are cheap.
    return _session().client(
        "dsql",
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


@functools.cache
def _session() -> Any:
    return boto3.session.Session()


def _botocore_token(
    monkeypatch: pytest.MonkeyPatch,
    *,
    host: str,
    region: str,
    admin: bool,
    expires_in_s: int,
    creds: tuple[str, str, str | None],
    now: datetime,
) -> str:
    client = _client(*creds)
    method = (
        client.generate_db_connect_admin_auth_token
        if admin
        else client.generate_db_connect_auth_token
    )
    with monkeypatch.context() as m:
        _freeze_botocore(m, now)
        token: str = method(Hostname=host, Region=region, ExpiresIn=expires_in_s)
    return token


def _ours(case: Case) -> list[tuple[str, str]]:
    """The case's token from every public path that can sign it."""
    creds = Credentials(*case.creds)
    region = case.region if case.pass_region else None
    tokens = [
        (
            "generate_dsql_token",
            generate_dsql_token(
                case.host,
                admin=case.admin,
                region=region,
                credentials=creds,
                expires_in_s=case.expires_in_s,
                now=case.now,
            ),
        )
    ]
    if case.dsql_form:  # only a DSQL host name tells the user-based paths to sign for DSQL
        tokens.append(
            (
                "generate_auth_token",
                rds_iam_auth.generate_auth_token(
                    case.host,
                    5432,
                    case.user,
                    region=region,
                    credentials=creds,
                    expires_in_s=case.expires_in_s,
                    now=case.now,
                ),
            )
        )
        signer = SigV4Signer(CredentialSource(credentials=creds), expires_in_s=case.expires_in_s)
        endpoint = parse_endpoint(case.host, 5432, region)
        tokens.append(("SigV4Signer", signer.sign(endpoint, case.user, now=case.now).value))
    return tokens


def test_cases_cover_the_interesting_inputs() -> None:
    assert len(CASES) >= 200
    hosts = [c.host for c in CASES]
    assert any(h.endswith(".") for h in hosts)
    assert any(h != h.lower() for h in hosts)
    assert any(".dsql-" in h.lower() for h in hosts)
    assert any(".dsql." in h.lower() for h in hosts)
    assert any(not c.dsql_form for c in CASES)
    assert any(not c.pass_region for c in CASES)
    assert {c.admin for c in CASES} == {True, False}
    assert any(c.user in ("Admin", "admin ") for c in CASES)  # near-admins sign DbConnect
    assert any(c.expires_in_s > 900 for c in CASES)
    assert MAX_DSQL_EXPIRES_IN_S in {c.expires_in_s for c in CASES}
    assert {c.creds[2] is None for c in CASES} == {True, False}
    assert any(c.now.microsecond for c in CASES)


@pytest.mark.parametrize("first", range(0, N_CASES, CHUNK))
def test_parity_with_botocore(monkeypatch: pytest.MonkeyPatch, first: int) -> None:
    mismatches = []
    for index in range(first, min(first + CHUNK, N_CASES)):
        case = CASES[index]
        expected = _botocore_token(
            monkeypatch,
            host=case.host,
            region=case.region,
            admin=case.admin,
            expires_in_s=case.expires_in_s,
            creds=case.creds,
            now=case.now,
        )
        for path, ours in _ours(case):
            if ours != expected:
                mismatches.append(
                    f"case {index} {path}: {case!r}\n  ours: {ours}\n  boto: {expected}"
                )
    assert not mismatches, "\n".join(mismatches)


# A fixed vector (DESIGN.md §4's credentials), checked against botocore too.
VECTOR_CREDS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN/+=")
VECTOR_HOST = "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws"
VECTOR_NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
VECTOR_SIGNATURES = {
    "DbConnect": "9610793adbc18b54d9aac41e7787c2fd25bb9b36cd7b362913e7b3caa39e2a5f",
    "DbConnectAdmin": "a093b3ec78daff99b0371e2ac157cf1f62526577d14c9af53301318d558e3252",
}


def _vector(action: str) -> str:
    return (
        f"{VECTOR_HOST}/?Action={action}&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-east-1%2Fdsql%2Faws4_request"
        "&X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=SESSIONTOKEN%2F%2B%3D"
        f"&X-Amz-Signature={VECTOR_SIGNATURES[action]}"
    )


@pytest.mark.parametrize("admin", [False, True], ids=["DbConnect", "DbConnectAdmin"])
def test_fixed_vector(monkeypatch: pytest.MonkeyPatch, admin: bool) -> None:
    expected = _vector("DbConnectAdmin" if admin else "DbConnect")
    assert dsql_host("abcdefghijklmnopqrstuvwxyz", "us-east-1") == VECTOR_HOST
    creds = Credentials(*VECTOR_CREDS)
    assert generate_dsql_token(VECTOR_HOST, admin=admin, credentials=creds, now=VECTOR_NOW) == (
        expected
    )
    user = "admin" if admin else "app_role"
    assert (
        rds_iam_auth.generate_auth_token(VECTOR_HOST, 5432, user, credentials=creds, now=VECTOR_NOW)
        == expected
    )
    assert expected == _botocore_token(
        monkeypatch,
        host=VECTOR_HOST,
        region="us-east-1",
        admin=admin,
        expires_in_s=900,
        creds=VECTOR_CREDS,
        now=VECTOR_NOW,
    )


def test_forced_action_signs_the_other_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """SigV4Signer(dsql_action=) overrides the choice by user, byte for byte."""
    creds = CredentialSource(credentials=Credentials(*VECTOR_CREDS))
    endpoint = parse_endpoint(VECTOR_HOST, 5432)
    as_admin = SigV4Signer(creds, dsql_action="DbConnectAdmin").sign(
        endpoint, "app_role", now=VECTOR_NOW
    )
    as_role = SigV4Signer(creds, dsql_action="DbConnect").sign(endpoint, "admin", now=VECTOR_NOW)
    assert as_admin.value == _vector("DbConnectAdmin")
    assert as_role.value == _vector("DbConnect")
    assert as_admin.user == "app_role"
    assert as_admin.expires_at == VECTOR_NOW + timedelta(seconds=900)
