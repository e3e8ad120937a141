"""CredentialSource: where credentials come from, errors that say where we looked, laziness.

The fast path without botocore.session: test_profiles.py; failures: test_credentials_failures.py.

Only fixed fake keys; conftest isolates the environment and the shared config files (they
live in tmp_path) and disables the instance metadata service.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.credentials import Credentials, RefreshableCredentials

from rds_iam_auth import ConfigurationError, Connector, CredentialsError, RdsIamAuthError
from rds_iam_auth.credentials import CredentialSource, FrozenCredentials
from rds_iam_auth.testing import FakeClock
from tests.forking import assert_child_succeeded, fork_running

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "SESSIONTOKEN/+="
HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def write_profile(tmp_path: Path, name: str, akid: str, secret: str, region: str | None) -> None:
    # conftest points AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE at these two files.
    with (tmp_path / "aws-credentials").open("a") as fh:
        fh.write(f"[{name}]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n")
    if region:
        section = "default" if name == "default" else f"profile {name}"
        with (tmp_path / "aws-config").open("a") as fh:
            fh.write(f"[{section}]\nregion = {region}\n")


def test_explicit_botocore_credentials() -> None:
    source = CredentialSource(credentials=Credentials(AKID, SECRET, SESSION_TOKEN))
    assert source.get() == FrozenCredentials(AKID, SECRET, SESSION_TOKEN, None)


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    creds = CredentialSource().get()
    assert (creds.access_key, creds.secret_key, creds.token) == (AKID, SECRET, SESSION_TOKEN)


def test_region_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CredentialSource().region() is None
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert CredentialSource().region() == "eu-west-3"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")  # botocore's own variable wins
    assert CredentialSource().region() == "eu-central-1"


def test_named_profile_from_shared_files(tmp_path: Path) -> None:
    write_profile(tmp_path, "default", "AKIDDEFAULT", "secret-default", "us-east-2")
    write_profile(tmp_path, "app", "AKIDAPP", "secret-app", "ap-south-1")
    source = CredentialSource(profile="app")
    assert source.get().access_key == "AKIDAPP"
    assert source.get().secret_key == "secret-app"
    assert source.region() == "ap-south-1"
    default = CredentialSource()
    assert default.get().access_key == "AKIDDEFAULT"
    assert default.region() == "us-east-2"


def test_aws_profile_env_selects_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(tmp_path, "app", "AKIDAPP", "secret-app", None)
    monkeypatch.setenv("AWS_PROFILE", "app")
    assert CredentialSource().get().access_key == "AKIDAPP"


def test_unknown_profile_names_the_profile(tmp_path: Path) -> None:
    write_profile(tmp_path, "app", "AKIDAPP", "secret-app", None)
    source = CredentialSource(profile="nope")
    # The code reports an unknown profile as a bad parameter (ConfigurationError).
    with pytest.raises(RdsIamAuthError, match="nope") as info:
        source.get()
    assert isinstance(info.value, ConfigurationError)
    assert "profile=" in str(info.value)
    with pytest.raises(ConfigurationError, match="nope"):
        source.region()


def test_no_credentials_says_where_it_looked() -> None:
    with pytest.raises(CredentialsError) as info:
        CredentialSource().get()
    message = str(info.value)
    assert "no AWS credentials found" in message
    for where in ("AWS_ACCESS_KEY_ID", "~/.aws/credentials", "AWS_PROFILE", "instance metadata"):
        assert where in message


def test_empty_keys_are_refused() -> None:
    with pytest.raises(CredentialsError, match="empty"):
        CredentialSource(credentials=Credentials("", SECRET)).get()


def test_botocore_session() -> None:
    session = botocore.session.Session()
    session.set_credentials(AKID, SECRET)
    session.set_config_variable("region", "sa-east-1")
    source = CredentialSource(session=session)
    assert source.get().access_key == AKID
    assert source.region() == "sa-east-1"


def test_boto3_session() -> None:
    session = boto3.Session(
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=SESSION_TOKEN,
        region_name="ca-central-1",
    )
    source = CredentialSource(session=session)
    creds = source.get()
    assert (creds.access_key, creds.token) == (AKID, SESSION_TOKEN)
    assert source.region() == "ca-central-1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"session": botocore.session.Session(), "profile": "x"},
        {"credentials": Credentials(AKID, SECRET), "profile": "x"},
        {"session": botocore.session.Session(), "credentials": Credentials(AKID, SECRET)},
    ],
)
def test_only_one_source_allowed(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="only one of"):
        CredentialSource(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"session": object()}, "session"),
        ({"credentials": (AKID, SECRET)}, "credentials"),
        ({"profile": ""}, "profile"),
    ],
)
def test_wrong_types_are_configuration_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        CredentialSource(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_source_not_secrets() -> None:
    source = CredentialSource(credentials=Credentials(AKID, SECRET, SESSION_TOKEN))
    frozen = source.get()
    for text in (repr(source), repr(frozen)):
        assert SECRET not in text
        assert SESSION_TOKEN not in text
    assert repr(CredentialSource(profile="app")) == "CredentialSource(profile='app')"


# --- refreshable credentials: expiry caps the token --------------------------------------------


def refreshable(expiry: datetime) -> RefreshableCredentials:
    def refresh() -> dict[str, str]:
        raise AssertionError("no refresh expected: expiry is an hour away")

    return RefreshableCredentials.create_from_metadata(
        metadata={
            "access_key": AKID,
            "secret_key": SECRET,
            "token": SESSION_TOKEN,
            "expiry_time": expiry.isoformat(),
        },
        refresh_using=refresh,
        method="test",
    )


def test_refreshable_credentials_expiry_is_surfaced() -> None:
    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
    frozen = CredentialSource(credentials=refreshable(expiry)).get()
    assert frozen.expiry == expiry
    assert frozen.expiry is not None
    assert frozen.expiry.tzinfo is not None


def test_token_expires_with_credentials_and_is_refreshed_before(  # the capped expires_at
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
    # Sign 600 s before the credentials expire: signed_at + 900 would outlive them.
    clock = FakeClock(expiry - timedelta(seconds=600))
    c = Connector(credentials=refreshable(expiry), clock=clock, ca="certifi")
    first = c.token(HOST, 5432, "app")
    assert first.signed_at == expiry - timedelta(seconds=600)
    assert first.expires_at == expiry
    assert "X-Amz-Expires=900" in first.value
    # refresh_before_s=300 counts from the capped expires_at: refresh at +300 s, not +600 s.
    clock.advance(299)
    assert c.token(HOST, 5432, "app") is first
    clock.advance(1)
    second = c.token(HOST, 5432, "app")
    assert second is not first
    assert c.stats.refreshes == 1


# --- laziness --------------------------------------------------------------------------------


class CountingSession:
    """Quacks like a botocore Session; counts credential look-ups."""

    def __init__(self) -> None:
        self.calls = 0
        self.region_name = "us-west-2"

    def get_credentials(self) -> Credentials:
        self.calls += 1
        return Credentials(AKID, SECRET)


def test_credentials_resolved_lazily_and_once_per_connector() -> None:
    session = CountingSession()
    clock = FakeClock(datetime(2024, 1, 2, tzinfo=timezone.utc))
    c = Connector(session=session, clock=clock, ca="certifi")
    assert session.calls == 0  # building a Connector resolves nothing
    c.token(HOST, 5432, "app")
    assert session.calls == 1
    c.token(HOST, 5432, "other_user")
    c.token("10.0.0.1", 5432, "app")  # region from the session
    clock.advance(900)
    c.token(HOST, 5432, "app")  # a re-signing reuses the resolved credentials
    assert session.calls == 1
    assert c.stats.signings == 4
    other = Connector(session=session, clock=clock, ca="certifi")
    other.token(HOST, 5432, "app")
    assert session.calls == 2  # each Connector has its own source


def test_explicit_credentials_are_not_looked_up_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("a botocore Session must not be built for explicit credentials")

    monkeypatch.setattr(botocore.session, "Session", no_session)
    c = Connector(credentials=Credentials(AKID, SECRET), region="us-east-1", ca="certifi")
    assert AKID in c.token("10.0.0.1", 5432, "app").value


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_during_credential_resolution_does_not_deadlock_the_child() -> None:
    # Fixed bug: CredentialSource._lock is held while botocore resolves credentials (the default
    # chain may call STS / SSO / IMDS: seconds) and is not reset after fork, so a child forked
    # meanwhile blocks forever in get(). DESIGN §3: "os.register_at_fork resets locks ... in the
    # child". Fix: each CredentialSource registers with rds_iam_auth._fork, whose one
    # after_in_child hook gives it a new threading.Lock().
    started, release = threading.Event(), threading.Event()

    class SlowSession:
        region_name = "us-east-1"

        def get_credentials(self) -> Credentials:
            if os.getpid() == parent:
                started.set()
                assert release.wait(10)
            return Credentials(AKID, SECRET)

    parent = os.getpid()
    source = CredentialSource(session=SlowSession())
    resolver = threading.Thread(target=source.get, daemon=True)
    resolver.start()
    assert started.wait(10)
    pid = fork_running(lambda: source.get().access_key == AKID, alarm_s=2)
    release.set()
    resolver.join(10)
    assert_child_succeeded(pid, "child hung on CredentialSource._lock after fork")
