"""``CredentialSource.origin()``, which ``doctor`` shows next to the key id: botocore's name
for the provider, also for the keys read without botocore (environment, credentials file)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from rds_iam_auth.credentials import CredentialSource
from tests.unit.cli_helpers import AKID, SECRET, TEMP_AKID, TEMP_SECRET, TEMP_TOKEN


def test_nothing_before_the_first_get(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    source = CredentialSource()
    assert source.origin() is None
    source.get()
    assert source.origin() == "env"


def test_the_shared_credentials_file(tmp_path: Path) -> None:
    (tmp_path / "aws-credentials").write_text(
        f"[dev]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    source = CredentialSource(profile="dev")
    source.get()
    assert source.origin() == "shared-credentials-file"


def test_botocore_providers_and_explicit_credentials(tmp_path: Path) -> None:
    helper = tmp_path / "creds.py"
    helper.write_text(
        "import json\nprint(json.dumps({'Version': 1, "
        f"'AccessKeyId': {TEMP_AKID!r}, 'SecretAccessKey': {TEMP_SECRET!r}, "
        f"'SessionToken': {TEMP_TOKEN!r}}}))\n"
    )
    (tmp_path / "aws-config").write_text(
        f"[profile proc]\ncredential_process = {sys.executable} {helper}\n"
    )
    source = CredentialSource(profile="proc")
    assert source.get().access_key == TEMP_AKID
    assert source.origin() == "custom-process"
    explicit = CredentialSource(credentials=Credentials(AKID, SECRET))
    explicit.get()
    assert explicit.origin() == "explicit"
