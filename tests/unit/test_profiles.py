"""CredentialSource: environment keys and shared-file profiles read without botocore.session,
each case checked against botocore's own answer (rds_iam_auth._profiles).

Only fixed fake keys; conftest isolates the environment and the shared config files (they
live in tmp_path) and disables the instance metadata service.
"""

from __future__ import annotations

import os
from pathlib import Path

import botocore.session
import pytest

from rds_iam_auth import ConfigurationError, CredentialsError
from rds_iam_auth.credentials import CredentialSource

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "SESSIONTOKEN/+="
HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


# --- environment keys without botocore.session ----------------------------------------------

ENV_CASES = {
    "keys": {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET},
    "session-token": {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    },
    "security-token-wins": {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SECURITY_TOKEN": "legacy",
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    },
    "empty-security-token": {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SECURITY_TOKEN": "",
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    },
    "expiring": {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_CREDENTIAL_EXPIRATION": "2999-01-01T00:00:00Z",
    },
}


@pytest.mark.parametrize("case", sorted(ENV_CASES))
def test_environment_keys_match_botocores_env_provider(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV_CASES[case].items():
        monkeypatch.setenv(name, value)
    ours = CredentialSource().get()
    theirs = botocore.session.Session().get_credentials().get_frozen_credentials()
    assert (ours.access_key, ours.secret_key, ours.token) == tuple(theirs)[:3]


def test_partial_environment_keys_fall_back_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    with pytest.raises(CredentialsError):
        CredentialSource().get()


def test_environment_keys_load_no_botocore_session() -> None:
    import subprocess
    import sys

    code = (
        "import sys, rds_iam_auth\n"
        f"rds_iam_auth.generate_auth_token({HOST!r}, 5432, 'u')\n"
        "print(sorted(m for m in sys.modules if m.startswith('botocore')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=AKID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- shared files read without botocore.session, checked against botocore ------------------

PROFILE_LAYOUTS: dict[str, tuple[str, str, dict[str, str], str | None]] = {
    # name: (credentials file, config file, environment, profile= argument)
    "default-keys": (
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n",
        "[default]\nregion = eu-west-1\n",
        {},
        None,
    ),
    "aws-profile-with-token": (
        f"[default]\naws_access_key_id = NOPE\naws_secret_access_key = NOPE\n"
        f"[bench]\naws_access_key_id={AKID}\naws_secret_access_key={SECRET}\n"
        f"aws_session_token = {SESSION_TOKEN}\n",
        "[profile bench]\nregion = ap-south-1\noutput = json\n",
        {"AWS_PROFILE": "bench"},
        None,
    ),
    "default-profile-env-wins": (
        f"[a]\naws_access_key_id = A{AKID}\naws_secret_access_key = {SECRET}\n"
        f"[b]\naws_access_key_id = B{AKID}\naws_secret_access_key = {SECRET}\n",
        "",
        {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"},
        None,
    ),
    "security-token-first-even-empty": (
        f"[p]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
        f"aws_security_token =\naws_session_token = {SESSION_TOKEN}\n",
        "[profile p]\nregion = us-west-2\n",
        {},
        "p",
    ),
    "argument-beats-environment-keys": (
        f"[p]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n",
        "",
        {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET"},
        "p",
    ),
    "region-from-credentials-file-and-env": (
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
        "region = sa-east-1\n",
        "[profile default]\nregion = eu-north-1\n",
        {"AWS_REGION": "ignored-when-files-have-one"},
        None,
    ),
    "nested-settings": (
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n",
        "[default]\ns3 =\n  addressing_style = path\nregion = eu-west-3\n",
        {},
        None,
    ),
}


def _write_layout(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str | None, dict[str, str]]:
    creds_text, config_text, env, profile = PROFILE_LAYOUTS[case]
    (tmp_path / "aws-credentials").write_text(creds_text)
    (tmp_path / "aws-config").write_text(config_text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return profile, env


@pytest.mark.parametrize("case", sorted(PROFILE_LAYOUTS))
def test_profile_files_match_botocore(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, _ = _write_layout(case, tmp_path, monkeypatch)
    source = CredentialSource(profile=profile)
    assert source._profile_keys() is not None, "expected the fast path for this layout"
    ours = source.get()
    session = botocore.session.Session(profile=profile)
    theirs = session.get_credentials().get_frozen_credentials()
    assert (ours.access_key, ours.secret_key, ours.token) == tuple(theirs)[:3]
    expected_region = session.get_config_variable("region") or os.environ.get("AWS_REGION")
    assert CredentialSource(profile=profile).region() == expected_region


@pytest.mark.parametrize(
    "config_text",
    [
        "[profile p]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = p\n",
        "[profile p]\nsso_session = corp\nsso_account_id = 123456789012\n",
        "[profile p]\ncredential_process = /bin/false\n",
        "[profile p]\nweb_identity_token_file = /tmp/token\n",
    ],
    ids=["assume-role", "sso", "process", "web-identity"],
)
def test_profiles_with_other_providers_are_left_to_botocore(
    config_text: str, tmp_path: Path
) -> None:
    (tmp_path / "aws-credentials").write_text(
        f"[p]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    (tmp_path / "aws-config").write_text(config_text)
    assert CredentialSource(profile="p")._profile_keys() is None


def test_missing_profile_is_left_to_botocore_and_named(tmp_path: Path) -> None:
    (tmp_path / "aws-credentials").write_text(
        f"[p]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    source = CredentialSource(profile="ghost")
    assert source._profile_keys() is None
    with pytest.raises(ConfigurationError, match="ghost"):
        source.region()


def test_profile_keys_load_no_botocore_session(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "creds").write_text(
        f"[bench]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    code = (
        "import sys, rds_iam_auth\n"
        "rds_iam_auth.generate_auth_token('10.0.0.1', 5432, 'u')\n"
        "print(sorted(m for m in sys.modules if m.startswith('botocore')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_PROFILE="bench",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "creds"),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_DEFAULT_REGION="us-east-1",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
