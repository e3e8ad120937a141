"""``doctor``'s ranking of causes from its facts (pure), and the checklist's marks: ✔/✘, colour
only on a terminal without NO_COLOR. The same causes against the real emulator, moto's STS and
the CLI end to end: tests/integration/test_cli_doctor.py."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest

from rds_iam_auth.cli._doctor import render
from rds_iam_auth.cli._doctor_causes import rank
from rds_iam_auth.cli._output import Marks

BASE: dict[str, Any] = {
    "target": {
        "host": "127.0.0.1",
        "port": 5432,
        "user": "jane",
        "engine": "postgres",
        "kind": "custom",
        "region": "us-east-1",
        "region_source": "--region",
        "host_region": None,
        "address": None,
    },
    "credentials": {
        "ok": True,
        "key_id": "AKIAEXAMPLE",
        "origin": "env",
        "temporary": False,
        "expiry": None,
        "expired": False,
        "error": None,
    },
    "dns": {
        "ip": True,
        "canonical": None,
        "aliases": [],
        "addresses": ["127.0.0.1"],
        "error": None,
        "rds_alias": None,
        "rds_region": None,
    },
    "identity": {
        "checked": True,
        "ok": True,
        "arn": "arn:aws:iam::123456789012:user/jane",
        "account": "123456789012",
        "code": None,
        "error": None,
        "date": None,
    },
    "tls": {
        "ok": True,
        "chain_ok": True,
        "name_ok": True,
        "names": ["127.0.0.1"],
        "issuer": "O=test",
        "reason": None,
        "reachable": True,
        "ca_path": "/ca.pem",
        "version": "TLSv1.3",
    },
    "login": {
        "status": "refused",
        "verdict": "token-refused",
        "driver": "psycopg",
        "message": 'FATAL: PAM authentication failed for user "jane"',
    },
    "clock": {"skew_s": 0.0, "against": "STS"},
}


def facts(**changes: dict[str, Any]) -> dict[str, Any]:
    found = copy.deepcopy(BASE)
    for section, values in changes.items():
        found[section].update(values)
    return found


def first(found: dict[str, Any]) -> str:
    causes = rank(found)
    assert causes, "no cause at all"
    return str(causes[0]["id"])


def test_region_from_a_default_beats_the_policy() -> None:
    assert (
        first(facts(target={"region_source": "AWS_DEFAULT_REGION", "region": "us-west-2"}))
        == "region"
    )


def test_a_region_that_contradicts_the_host_name_is_shown() -> None:
    found = facts(
        target={
            "host": "db.abc.eu-west-1.rds.amazonaws.com",
            "kind": "instance",
            "host_region": "eu-west-1",
            "region": "us-east-1",
        }
    )
    assert first(found) == "region"
    assert rank(found)[0]["weight"] == 3


def test_a_valid_key_and_an_asserted_region_point_at_the_policy() -> None:
    causes = rank(facts())
    assert causes[0]["id"] == "policy"
    assert "arn:aws:rds-db:us-east-1:123456789012:dbuser:" in causes[0]["check"]
    assert "DbiResourceId" in causes[0]["check"]


def test_sts_rejecting_the_key() -> None:
    found = facts(
        identity={
            "ok": False,
            "arn": None,
            "code": "InvalidClientTokenId",
            "error": "The security token included in the request is invalid",
        }
    )
    assert first(found) == "key-unknown"


def test_expired_credentials_and_no_login() -> None:
    found = facts(
        credentials={"ok": False, "expired": True, "error": "the AWS credentials ... have expired"},
        identity={"checked": False, "ok": None, "error": "no credentials"},
        login={"status": "skipped", "verdict": None, "reason": "no usable credentials"},
    )
    assert first(found) == "credentials-expired"


def test_tls_failures() -> None:
    wrong_ca = facts(
        tls={
            "ok": False,
            "chain_ok": False,
            "name_ok": None,
            "reason": "unable to get local issuer certificate",
        },
        login={"status": "skipped", "verdict": None},
    )
    assert first(wrong_ca) == "tls-ca"
    other_name = facts(
        target={"host": "db.example.test", "address": "127.0.0.1:5432"},
        tls={
            "ok": False,
            "chain_ok": True,
            "name_ok": False,
            "names": ["localhost", "127.0.0.1"],
            "reason": "Hostname mismatch",
        },
        login={"status": "skipped", "verdict": None},
    )
    cause = rank(other_name)[0]
    assert cause["id"] == "host"
    assert (
        cause["check"]
        == "sign for the endpoint name and dial yours: --hostname localhost --address "
        "127.0.0.1:5432"
    )
    unreachable = facts(
        tls={"ok": False, "reachable": False, "reason": "ConnectionRefusedError"},
        login={"status": "skipped", "verdict": None},
    )
    assert first(unreachable) == "network"


def test_a_cname_to_an_rds_endpoint() -> None:
    found = facts(
        target={"host": "db.corp.example", "region": "us-east-1"},
        dns={
            "ip": False,
            "rds_alias": "mydb.abc.eu-west-1.rds.amazonaws.com",
            "rds_region": "eu-west-1",
        },
    )
    ids = [c["id"] for c in rank(found) if c["weight"] == 3]
    assert ids == ["host", "region"]
    assert "--hostname mydb.abc.eu-west-1.rds.amazonaws.com" in rank(found)[0]["check"]


def test_what_the_server_said_about_the_user() -> None:
    not_iam = facts(login={"verdict": "not-iam-user", "message": "no pg_hba.conf entry ..."})
    assert first(not_iam) == "grant"
    assert 'GRANT rds_iam TO "jane";' in rank(not_iam)[0]["check"]
    mysql = facts(
        target={"engine": "mysql", "port": 3306},
        login={"verdict": "token-refused", "message": "(1045, ...)"},
    )
    assert first(mysql) == "grant"  # 1045 does not say; the grant is the usual suspect
    assert "AWSAuthenticationPlugin" in rank(mysql)[0]["check"]
    assert first(facts(login={"verdict": "no-database"})) == "database"


def test_clock_skew_ecs_roles_and_a_working_login() -> None:
    assert first(facts(clock={"skew_s": -1000.0, "against": "STS"})) == "clock"
    assert first(facts(clock={"skew_s": 299.0})) == "policy"
    ecs = facts(
        credentials={"origin": "container-role"},
        identity={"arn": "arn:aws:sts::1:assumed-role/ecsTaskExecutionRole/abc"},
    )
    assert first(ecs) == "ecs-role"
    assert rank(facts(login={"status": "ok", "verdict": "ok"})) == []


def _render(found: dict[str, Any], *, tty: bool, encoding: str = "utf-8") -> str:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    marks = Marks(Stream())
    if encoding != "utf-8":
        marks = Marks(io.TextIOWrapper(io.BytesIO(), encoding=encoding))
    found = dict(found, causes=rank(found), ok=found["login"]["status"] == "ok")
    return render(found, marks)


def test_the_checklist_marks_and_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    plain = _render(facts(), tty=False)
    assert "✔ credentials" in plain
    assert "✘ login" in plain
    assert "\033[" not in plain
    assert "Likely causes, most likely first:\n  1. the IAM policy" in plain
    assert "\033[32m✔\033[0m credentials" in _render(facts(), tty=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in _render(facts(), tty=True)
    assert "OK credentials" in _render(facts(), tty=False, encoding="ascii")


def test_no_credentials_at_all() -> None:
    found = facts(
        credentials={"ok": False, "expired": False, "error": "no AWS credentials found; ..."},
        identity={"checked": False, "ok": None, "error": "no credentials"},
        login={"status": "skipped", "verdict": None, "reason": "no usable credentials"},
    )
    assert first(found) == "credentials"
