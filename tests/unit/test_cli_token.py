"""``rds-iam-auth token``: byte parity with boto3's ``generate_db_auth_token`` (in-process at
a frozen instant through ``main(argv, clock=...)``, and as a real process for one of the
seconds it was alive), the same flags, and start-up without botocore for env / profile keys."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rds_iam_auth.testing import FakeClock
from tests.unit.cli_helpers import (
    AKID,
    HOST,
    SECRET,
    TEMP_AKID,
    TEMP_SECRET,
    TEMP_TOKEN,
    boto3_token,
    child_env,
    console_script,
    run_cli,
)

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
FLAGS = ["--hostname", HOST, "--port", "5432", "--username", "jane"]


def _env_keys(monkeypatch: pytest.MonkeyPatch, temporary: bool = False) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEMP_AKID if temporary else AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEMP_SECRET if temporary else SECRET)
    if temporary:
        monkeypatch.setenv("AWS_SESSION_TOKEN", TEMP_TOKEN)


@pytest.mark.parametrize("temporary", [False, True])
def test_in_process_parity_with_boto3(monkeypatch: pytest.MonkeyPatch, temporary: bool) -> None:
    _env_keys(monkeypatch, temporary)
    result = run_cli(["token", *FLAGS], clock=FakeClock(WHEN))
    creds = (TEMP_AKID, TEMP_SECRET, TEMP_TOKEN) if temporary else (AKID, SECRET, None)
    expected = boto3_token(
        monkeypatch, WHEN, host=HOST, port=5432, user="jane", region="us-east-1", creds=creds
    )
    assert (result.status, result.err) == (0, "")
    assert result.out == expected + "\n"  # one line, exactly like `aws rds generate-db-auth-token`


def test_parity_for_odd_users_ports_and_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    _env_keys(monkeypatch)
    cases = [
        ("MyDB.Cluster-abc.eu-west-3.rds.amazonaws.com", 3306, "iam user@x", None, "eu-west-3"),
        ("10.0.0.5", 443, "日本語/+=%", "ap-southeast-2", "ap-southeast-2"),
        ("db.internal.example.com.", 65535, "u", "us-gov-west-1", "us-gov-west-1"),
    ]
    for host, port, user, region, signed in cases:
        argv = ["token", "--hostname", host, "--port", str(port), "--username", user]
        result = run_cli([*argv, *(["--region", region] if region else [])], FakeClock(WHEN))
        expected = boto3_token(monkeypatch, WHEN, host=host, port=port, user=user, region=signed)
        assert result.out == expected + "\n", host


def test_profile_flag_uses_that_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "aws-credentials").write_text(
        f"[dev]\naws_access_key_id = {TEMP_AKID}\naws_secret_access_key = {TEMP_SECRET}\n"
        f"aws_session_token = {TEMP_TOKEN}\n"
    )
    _env_keys(monkeypatch)  # ignored with --profile, as by the AWS CLI
    result = run_cli(["token", *FLAGS, "--profile", "dev"], FakeClock(WHEN))
    expected = boto3_token(
        monkeypatch,
        WHEN,
        host=HOST,
        port=5432,
        user="jane",
        region="us-east-1",
        creds=(TEMP_AKID, TEMP_SECRET, TEMP_TOKEN),
    )
    assert result.out == expected + "\n"


def test_region_from_the_profile_for_a_host_without_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env_keys(monkeypatch)
    (tmp_path / "aws-config").write_text("[default]\nregion = ca-central-1\n")
    result = run_cli(
        ["token", "--hostname", "db.internal", "--port", "5432", "--username", "u"], FakeClock(WHEN)
    )
    assert "%2Fca-central-1%2Frds-db%2F" in result.out


def test_explicit_region_that_contradicts_the_host_warns_and_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _env_keys(monkeypatch)
    result = run_cli(["token", *FLAGS, "--region", "eu-west-1"], FakeClock(WHEN))
    expected = boto3_token(monkeypatch, WHEN, host=HOST, port=5432, user="jane", region="eu-west-1")
    assert result.out == expected + "\n"  # the AWS CLI signs for --region too
    assert result.err.count("\n") == 1
    assert "differs from the region us-east-1 in the host name" in result.err


def test_a_process_prints_the_token_of_a_second_it_was_alive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = child_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
    script = console_script(tmp_path)
    for argv in ([sys.executable, "-m", "rds_iam_auth"], [str(script)]):
        started = datetime.now(timezone.utc).replace(microsecond=0)
        done = subprocess.run(
            [*argv, "token", *FLAGS],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        ended = datetime.now(timezone.utc)
        seconds = int((ended - started).total_seconds()) + 1
        candidates = {
            boto3_token(
                monkeypatch,
                started + timedelta(seconds=s),
                host=HOST,
                port=5432,
                user="jane",
                region="us-east-1",
            )
            + "\n"
            for s in range(seconds + 1)
        }
        assert done.stdout in candidates
        assert done.stderr == ""


def _loaded_modules(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, sys\n"
        "from rds_iam_auth.cli import main\n"
        f"status = main(['token', *{FLAGS!r}])\n"
        "heavy = ('botocore', 'boto3', 'psycopg', 'pymysql', 'ssl')\n"
        "print(json.dumps({'status': status, **{m: m in sys.modules for m in heavy}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_env_keys_and_profile_keys_need_no_botocore(tmp_path: Path) -> None:
    keys = child_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
    assert _loaded_modules(keys) == {
        "status": 0,
        **dict.fromkeys(("botocore", "boto3", "psycopg", "pymysql", "ssl"), False),
    }
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[dev]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n")
    profile = child_env(AWS_PROFILE="dev", AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    assert _loaded_modules(profile)["botocore"] is False


def test_other_sources_fall_back_to_botocore(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # credential_process: botocore runs it (SSO, assume-role, IMDS go the same way).
    helper = tmp_path / "creds.py"
    helper.write_text(
        "import json\nprint(json.dumps({'Version': 1, "
        f"'AccessKeyId': {TEMP_AKID!r}, 'SecretAccessKey': {TEMP_SECRET!r}, "
        f"'SessionToken': {TEMP_TOKEN!r}}}))\n"
    )
    (tmp_path / "aws-config").write_text(
        f"[profile proc]\ncredential_process = {sys.executable} {helper}\n"
    )
    result = run_cli(["token", *FLAGS, "--profile", "proc"], FakeClock(WHEN))
    expected = boto3_token(
        monkeypatch,
        WHEN,
        host=HOST,
        port=5432,
        user="jane",
        region="us-east-1",
        creds=(TEMP_AKID, TEMP_SECRET, TEMP_TOKEN),
    )
    assert result.out == expected + "\n"
    assert "botocore.credentials" in sys.modules


def test_dsql_admin_and_role_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from tests.unit.cli_helpers import freeze_botocore

    _env_keys(monkeypatch)
    host = "abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws"
    client = boto3.session.Session().client(
        "dsql", region_name="eu-west-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET
    )
    with monkeypatch.context() as m:
        freeze_botocore(m, WHEN)
        admin = client.generate_db_connect_admin_auth_token(host, "eu-west-1")
        role = client.generate_db_connect_auth_token(host, "eu-west-1", 3600)
    assert run_cli(["token", "--hostname", host, "--admin"], FakeClock(WHEN)).out == admin + "\n"
    by_user = run_cli(
        ["token", "--hostname", host, "--port", "5432", "--username", "admin"], FakeClock(WHEN)
    )
    assert by_user.out == admin + "\n"
    result = run_cli(["token", "--hostname", host, "--expires-in", "3600"], FakeClock(WHEN))
    assert result.out == role + "\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["token", "--hostname", HOST, "--port", "5432"], "required: --username"),
        (["token", "--hostname", HOST, "--username", "u"], "required: --port"),
        (["token", *FLAGS[:3], "x", *FLAGS[4:]], "invalid int value"),
        (["token", *FLAGS[:3], "0", *FLAGS[4:]], "port must be between 1 and 65535"),
        (["token", "--hostname", "db.internal", "--port", "1", "--username", "u"], "--region"),
        (
            ["token", "--hostname", "postgresql://u:pw@h/db", "--port", "1", "--username", "u"],
            "URL",
        ),
        (["token", *FLAGS, "--region", "moon"], "region must be an AWS region name"),
        (["token", *FLAGS, "--expires-in", "901"], "--expires-in must be 1..900"),
        (["token", *FLAGS, "--admin"], "--admin is for Aurora DSQL"),
        (["token", *FLAGS, "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    _env_keys(monkeypatch)
    result = run_cli(argv, FakeClock(WHEN))
    assert (result.status, result.out) == (2, "")
    assert result.err.count("\n") == 1
    assert result.err.startswith("rds-iam-auth token: error: ")
    assert message in result.err
    assert "pw" not in result.err  # a URL given as the host is not echoed


def test_no_credentials_is_a_runtime_failure_without_traceback() -> None:
    result = run_cli(["token", *FLAGS], FakeClock(WHEN))
    assert (result.status, result.out) == (1, "")
    assert result.err.count("\n") == 1
    assert "no AWS credentials found" in result.err
    assert "Traceback" not in result.err


def test_debug_adds_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(["token", *FLAGS, "--debug"], FakeClock(WHEN))
    assert result.status == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.splitlines()[-1].startswith("rds-iam-auth token: error: no AWS credentials")
