"""``rds-iam-auth doctor`` on the key itself, against the emulator and moto's STS: a key AWS
does not know and a policy that denies look the same at the database; sts:GetCallerIdentity
tells them apart. Expired credentials, and no secret in any report."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from tests.emulator import TEMPORARY, Emulator
from tests.integration.cli_doctor import causes, doctor, iam_user, moto_sts, set_keys, use_sts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    with moto_sts() as url:
        yield url


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch, sts_url: str) -> str:
    """moto's STS, answering for any key (no authentication)."""
    use_sts(monkeypatch, sts_url, authenticate=False)
    return sts_url


def test_a_key_aws_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    use_sts(monkeypatch, sts, authenticate=True)
    set_keys(monkeypatch, "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    status, report = doctor(capsys, emulator.pg)
    assert status == 1
    assert report["login"]["status"] == "refused"
    assert report["identity"]["code"] == "InvalidClientTokenId"
    assert causes(report)[0] == "key-unknown"


def test_a_policy_that_denies(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    name = f"denied-{secrets.token_hex(4)}"
    access, secret = iam_user(sts, name)  # the database does not accept it, like a denial
    use_sts(monkeypatch, sts, authenticate=True)
    set_keys(monkeypatch, access, secret)
    status, report = doctor(capsys, emulator.pg)
    assert status == 1
    assert report["login"]["status"] == "refused"
    assert report["identity"]["arn"] == f"arn:aws:iam::123456789012:user/{name}"
    first = report["causes"][0]
    assert first["id"] == "policy"
    assert "arn:aws:rds-db:us-east-1:123456789012:dbuser:" in first["check"]


def test_expired_credentials(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    set_keys(monkeypatch, TEMPORARY.access_key, TEMPORARY.secret_key, TEMPORARY.token)
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z")
    status, report = doctor(capsys, emulator.pg)
    assert status == 1
    assert report["login"]["status"] == "skipped"
    assert report["tls"]["ok"] is True  # the server was reached and verified
    assert causes(report)[0] == "credentials-expired"


def test_no_secret_in_the_report(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    sts: str,
) -> None:
    set_keys(monkeypatch, TEMPORARY.access_key, TEMPORARY.secret_key, TEMPORARY.token)
    for region, expected in (("us-east-1", 0), ("us-west-2", 1)):  # works, then refused
        status, report = doctor(capsys, emulator.pg, region=region)
        assert status == expected
        text = json.dumps(report)
        assert report["credentials"]["temporary"] is True
        assert report["credentials"]["key_id"] == TEMPORARY.access_key
        assert TEMPORARY.secret_key not in text
        assert str(TEMPORARY.token) not in text
        assert "X-Amz-Signature" not in text
