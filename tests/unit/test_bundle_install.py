"""Bundles from the user cache: the checks before any is trusted, atomic installs, and the
resolution that uses an installed bundle only while it is valid and safely stored."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rds_iam_auth import CaBundleError, ConfigurationError, Connector
from rds_iam_auth._certs import check_bundle, parse_bundle
from rds_iam_auth.endpoint import parse_endpoint
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import CACHE_DIR_ENV, ca_bundle_path, install_bundle, shipped_bundle
from tests.unit.bundle_helpers import NOW, bundle, cert_pem, later

INSTANCE = parse_endpoint("mydb.abc123.us-east-1.rds.amazonaws.com", 5432)
SHIPPED_NEWEST = datetime(2025, 5, 20, 1, 44, 7, tzinfo=timezone.utc)


def cache() -> Path:
    return Path(os.environ[CACHE_DIR_ENV])  # per test, under tmp_path (tests/conftest.py)


def check(pem: bytes, floor: datetime | None = SHIPPED_NEWEST) -> object:
    return check_bundle(pem, "test.pem", now=NOW, not_before_floor=floor)


# --- the rules ----------------------------------------------------------------------------------


def test_a_bundle_of_recent_self_signed_roots_passes() -> None:
    info = parse_bundle(bundle("A", "B", "C"), "x")
    assert info.certificates == 3
    assert len(set(info.fingerprints)) == 3
    check(bundle("A", "B", "C"))


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"<html>captive portal</html>", "not a PEM bundle"),
        (b"", "not a PEM bundle"),
        ("caf\u00e9".encode(), "non-ASCII"),
        (
            cert_pem("A") + b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "beside",
        ),
        (b"-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n", "not a PEM"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot parse"),
        (cert_pem("Server", ca=False), "not CA"),
        (cert_pem("Intermediate", issuer="Root"), "not self-signed"),
    ],
    ids=["html", "empty", "binary", "key", "base64", "der", "leaf", "intermediate"],
)
def test_what_is_not_a_bundle_of_roots_is_refused(pem: bytes, message: str) -> None:
    with pytest.raises(CaBundleError, match=message):
        check(pem)


def test_the_same_certificate_twice_is_refused() -> None:
    root = cert_pem("A")
    with pytest.raises(CaBundleError, match="twice"):
        check(root + root)


def test_a_root_expiring_within_five_years_is_refused() -> None:
    with pytest.raises(CaBundleError, match="within 5 years"):
        check(bundle("A") + cert_pem("Soon", not_after=later(4 * 365)))
    check(bundle("A") + cert_pem("Later", not_after=later(5 * 365 + 2)))


def test_commercial_bundle_older_than_the_shipped_one_is_refused() -> None:
    old = bundle("A", not_before=datetime(2024, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(CaBundleError, match="older than the bundle shipped"):
        check(old)
    check(old, floor=None)  # GovCloud / China: no shipped bundle to compare with


def test_an_oversized_file_is_refused() -> None:
    with pytest.raises(CaBundleError, match="over"):
        check(b"\n" * (4 * 1024 * 1024 + 1))


# --- install_bundle -------------------------------------------------------------------------------


def test_install_is_atomic_private_dir_and_used_by_new_connectors(tmp_path: Path) -> None:
    source = tmp_path / "global-bundle.pem"
    source.write_bytes(bundle())
    path = install_bundle(source)
    assert Path(path).parent == cache()
    assert Path(path).read_bytes() == source.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(cache()).st_mode) == 0o700
    assert sorted(p.name for p in cache().iterdir()) == [Path(path).name]  # no temp left
    assert ca_bundle_path(None, INSTANCE) == path
    c = Connector(signer=StaticSigner("t"))
    assert c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")["sslrootcert"] == path


def test_install_accepts_bytes_and_replaces_the_previous_bundle() -> None:
    first = install_bundle(bundle("A"))
    second = install_bundle(bundle("B", "C"))
    assert first == second
    assert parse_bundle(Path(second).read_bytes(), "x").certificates == 2


def test_install_refuses_an_invalid_bundle_and_keeps_the_cache_as_it_was() -> None:
    with pytest.raises(CaBundleError, match="not a PEM"):
        install_bundle(b"<html>")
    assert not cache().exists()
    assert ca_bundle_path(None, INSTANCE) == shipped_bundle()


def test_install_names_a_missing_source_and_an_unknown_partition(tmp_path: Path) -> None:
    with pytest.raises(CaBundleError, match="cannot read"):
        install_bundle(tmp_path / "nope.pem")
    with pytest.raises(ConfigurationError, match="partition"):
        install_bundle(bundle(), partition="aws-iso")


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_install_refuses_a_cache_dir_others_can_write(mode: int) -> None:
    cache().mkdir()
    cache().chmod(mode)
    with pytest.raises(CaBundleError, match="writable by other users") as info:
        install_bundle(bundle())
    assert CACHE_DIR_ENV in str(info.value)
    assert list(cache().iterdir()) == []


def test_unwritable_cache_location_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "cache"))
    with pytest.raises(CaBundleError, match=CACHE_DIR_ENV):
        install_bundle(bundle())


# --- using the installed bundle only while it is valid and safe -----------------------------------


def installed() -> Path:
    return Path(install_bundle(bundle()))


def test_a_cache_dir_made_writable_by_others_falls_back_to_shipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    installed()
    cache().chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="rds_iam_auth"):
        assert ca_bundle_path(None, INSTANCE) == shipped_bundle()
        assert ca_bundle_path(None, INSTANCE) == shipped_bundle()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # once per file and reason
    assert "writable by other users" in warnings[0]
    assert "planted" in warnings[0]


def test_a_bundle_file_others_can_write_is_ignored() -> None:
    path = installed()
    path.chmod(0o666)
    assert ca_bundle_path(None, INSTANCE) == shipped_bundle()


def test_a_bundle_owned_by_another_user_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    path = installed()
    if os.geteuid() == 0:
        os.chown(path, 4242, 4242)  # root's own files are trusted, another uid's are not
    else:
        real = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    assert ca_bundle_path(None, INSTANCE) == shipped_bundle()


def test_a_symlink_in_the_cache_is_ignored(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes(bundle())
    path = installed()
    path.unlink()
    path.symlink_to(elsewhere)
    assert ca_bundle_path(None, INSTANCE) == shipped_bundle()


def test_a_cached_bundle_that_stopped_validating_falls_back_to_shipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = installed()
    path.write_bytes(b"garbage")  # what a disk error or a hand edit leaves
    with caplog.at_level(logging.WARNING, logger="rds_iam_auth"):
        assert ca_bundle_path(None, INSTANCE) == shipped_bundle()
    assert "ignoring the cached RDS CA bundle" in caplog.text
    path.write_bytes(bundle("Fixed"))  # valid again: used again
    assert ca_bundle_path(None, INSTANCE) == str(path)


def test_a_cached_commercial_bundle_older_than_shipped_is_ignored() -> None:
    # e.g. installed before upgrading to a release that ships a newer bundle
    path = cache() / "rds-ca-aws.pem"
    cache().mkdir(mode=0o700)
    path.write_bytes(bundle(not_before=datetime(2023, 1, 1, tzinfo=timezone.utc)))
    assert ca_bundle_path(None, INSTANCE) == shipped_bundle()
