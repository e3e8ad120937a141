"""``rds-iam-auth ca path | update | show``: the bundle in use and where it comes from, a
checked install into the user cache (conftest points RDS_IAM_AUTH_CACHE_DIR at tmp_path and
disables downloads), and the roots with their expiry dates."""

from __future__ import annotations

import json
from pathlib import Path

import certifi
import pytest

from rds_iam_auth.tls import shipped_bundle, shipped_manifest
from tests.unit.bundle_helpers import bundle, later
from tests.unit.cli_helpers import run_cli


def test_path_is_the_shipped_bundle_by_default() -> None:
    result = run_cli(["ca", "path"])
    assert (result.status, result.out) == (0, shipped_bundle() + "\n")
    assert "shipped with rds_iam_auth" in result.err


def test_path_follows_the_environment_and_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy = run_cli(["ca", "path", "--hostname", "app.proxy-abc123.us-east-1.rds.amazonaws.com"])
    assert proxy.out == certifi.where() + "\n"
    mine = tmp_path / "mine.pem"
    mine.write_bytes(bundle("Mine"))
    monkeypatch.setenv("RDS_IAM_AUTH_CA_BUNDLE", str(mine))
    result = run_cli(["ca", "path"])
    assert result.out == f"{mine}\n"
    assert "from RDS_IAM_AUTH_CA_BUNDLE" in result.err
    custom = run_cli(["ca", "path", "--hostname", "db.internal"])
    assert custom.status == 2
    assert "--region" in custom.err


def test_update_from_a_file_installs_it_and_later_commands_use_it(tmp_path: Path) -> None:
    newer = tmp_path / "global-bundle.pem"
    newer.write_bytes(bundle("Amazon RDS new-1 Root CA", "Amazon RDS new-2 Root CA"))
    result = run_cli(["ca", "update", "--from", str(newer)])
    assert result.status == 0, result.err
    installed = result.out.strip()
    assert Path(installed).read_bytes() == newer.read_bytes()
    assert "installed 2 roots for the commercial partition" in result.err
    assert run_cli(["ca", "path"]).out == installed + "\n"
    shown = run_cli(["ca", "show"])
    assert shown.out.splitlines() == [
        "2090-01-01  Amazon RDS new-1 Root CA",
        "2090-01-01  Amazon RDS new-2 Root CA",
    ]


def test_update_refuses_a_bad_file_with_exit_2(tmp_path: Path) -> None:
    expiring = tmp_path / "expiring.pem"
    expiring.write_bytes(bundle("Soon", not_after=later(365)))
    result = run_cli(["ca", "update", "--from", str(expiring)])
    assert (result.status, result.out) == (2, "")
    assert result.err.count("\n") == 1
    assert "within 5 years; not accepted" in result.err
    assert run_cli(["ca", "path"]).out == shipped_bundle() + "\n"  # nothing installed


def test_update_without_a_file_reports_a_failed_download_in_one_line() -> None:
    result = run_cli(["ca", "update", "--partition", "aws-us-gov"])
    assert result.status == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("rds-iam-auth: downloading https://truststore.pki.us-gov-west-1")
    assert len(lines) == 2
    assert "ca update --from global-bundle.pem" in lines[1]


def test_show_lists_every_root_of_the_shipped_bundle() -> None:
    result = run_cli(["ca", "show", "--json"])
    shown = json.loads(result.out)
    assert shown["path"] == shipped_bundle()
    certificates = shown["certificates"]
    assert len(certificates) == shipped_manifest()["certificates"]
    assert all(c["subject"].startswith("Amazon RDS") for c in certificates)
    assert (
        min(c["not_after"] for c in certificates)[:10]
        == shipped_manifest()["earliest_not_after"][:10]
    )
    text = run_cli(["ca", "show"])
    assert len(text.out.splitlines()) == len(certificates)
    assert "108 certificates" in text.err


def test_ca_needs_a_sub_command() -> None:
    result = run_cli(["ca"])
    assert result.status == 2
    assert "path|update|show" in result.err
