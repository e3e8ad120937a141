"""Every test runs with no AWS configuration (each credential and region comes from the test)
and with CA downloads disabled (the shipped bundle, a ``ca=`` or an injected ``ca_fetcher``)."""

from __future__ import annotations

from pathlib import Path

import pytest

_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "RDS_IAM_AUTH_CA_BUNDLE",
    "RDS_IAM_AUTH_CACHE_DIR",
)


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    # Point the shared config files somewhere empty and never ask the instance metadata service.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("RDS_IAM_AUTH_CACHE_DIR", str(tmp_path / "ca-cache"))
    monkeypatch.setattr("rds_iam_auth._bundle_cache._default_fetch", _no_downloads)


def _no_downloads(url: str) -> bytes:
    # Raised inside the download, so the test fails with a CaBundleError naming this.
    raise AssertionError(f"a test tried to download {url}: pass ca= or ca_fetcher=")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Not a warning: the suite turns warnings into errors (pyproject filterwarnings = error).
    from tests.bundle_age import summary_line

    message = summary_line()
    if message is not None:
        terminalreporter.write_sep("=", "RDS CA bundle", yellow=True)
        terminalreporter.write_line(message)
