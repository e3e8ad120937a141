"""The RDS global bundle shipped in the package: pinned bytes, what it holds, how long it lasts,
and that connecting resolves it with no network at all."""

from __future__ import annotations

import hashlib
import shutil
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

import rds_iam_auth._bundle as bundle_module
from rds_iam_auth import CaBundleError, Connector
from rds_iam_auth._certs import parse_bundle
from rds_iam_auth.endpoint import parse_endpoint
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import ca_bundle_path, shipped_bundle, shipped_manifest

DATA = Path(bundle_module.__file__).parent / "_data"
SHA256 = "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3"
COUNT = 108
US_EAST_1_ROOTS = {
    "RSA2048": "e4ce41d069f4bdcdb714259058961ee42ed18cf2bf627a3d647aff25437d4b68",
    "RSA4096": "1c753cf0334ff82a47e0d3205839c8549b7d9a8a3d9a685cccecc80f82fe97e6",
    "ECC384": "82d99e9e409703044c3f886f87a0408c96cd74dee2c9ba920e6553a32e372539",
}
HOSTS = [
    "mydb.abc123.us-east-1.rds.amazonaws.com",
    "app.cluster-abc123.eu-west-1.rds.amazonaws.com",
    "app.cluster-ro-abc123.ap-southeast-2.rds.amazonaws.com",
]


def certificates() -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((DATA / "global-bundle.pem").read_bytes())


def test_the_shipped_file_is_the_pinned_one() -> None:
    body = (DATA / "global-bundle.pem").read_bytes()
    assert hashlib.sha256(body).hexdigest() == SHA256
    assert len(certificates()) == COUNT
    info = parse_bundle(body, "shipped")  # our parser agrees with cryptography's
    assert info.certificates == COUNT
    assert info.sha256 == SHA256


def test_the_manifest_describes_the_file() -> None:
    manifest = shipped_manifest()
    info = parse_bundle((DATA / manifest["file"]).read_bytes(), "shipped")
    assert manifest["sha256"] == info.sha256 == SHA256
    assert manifest["certificates"] == info.certificates == COUNT
    assert datetime.fromisoformat(manifest["newest_not_before"]) == info.newest_not_before
    assert datetime.fromisoformat(manifest["earliest_not_after"]) == info.earliest_not_after
    assert (
        manifest["source_url"]
        == "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
    )
    assert manifest["partition"] == "aws"
    datetime.strptime(manifest["copied"], "%Y-%m-%d")  # a date (tests/bundle_age.py reads it)


def test_every_certificate_is_a_self_signed_ca() -> None:
    for cert in certificates():
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert constraints.ca, cert.subject
        assert cert.issuer == cert.subject
        cert.verify_directly_issued_by(cert)  # the self-signature itself is valid


def test_the_us_east_1_g1_roots_are_present() -> None:
    by_fingerprint = {c.fingerprint(hashes.SHA256()).hex(): c for c in certificates()}
    ours = parse_bundle((DATA / "global-bundle.pem").read_bytes(), "shipped").fingerprints
    assert set(ours) == set(by_fingerprint)
    for family, fingerprint in US_EAST_1_ROOTS.items():
        (name,) = by_fingerprint[fingerprint].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        assert name.value == f"Amazon RDS us-east-1 Root CA {family} G1"


def test_no_root_expires_within_20_years() -> None:
    # Fails two decades ahead, so a release long before any expiry replaces the bundle.
    horizon = datetime.now(timezone.utc) + timedelta(days=20 * 366)
    soonest = min(c.not_valid_after_utc for c in certificates())
    assert soonest > horizon, f"a shipped root expires on {soonest:%Y-%m-%d}"


# --- resolution with no network -----------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("host", HOSTS)
def test_connect_kwargs_resolve_the_shipped_bundle_offline(
    no_network: list[Any], host: str
) -> None:
    c = Connector(signer=StaticSigner("tok"))  # the default downloader: it must not be used
    kwargs = c.connect_kwargs(host, "app", driver="psycopg")
    assert kwargs["sslrootcert"] == str(DATA / "global-bundle.pem") == shipped_bundle()
    assert no_network == []


def test_an_instance_never_uses_the_downloader() -> None:
    def fetch(url: str) -> bytes:
        raise AssertionError(f"downloaded {url}")

    endpoint = parse_endpoint(HOSTS[0], 5432)
    assert ca_bundle_path(None, endpoint, fetch) == shipped_bundle()


@pytest.fixture
def copied_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "_data"
    shutil.copytree(DATA, copy)
    monkeypatch.setattr(bundle_module, "DATA_DIR", copy)
    monkeypatch.setattr(bundle_module, "_shipped", {})  # forget the check made with the real one
    return copy


def test_a_modified_shipped_bundle_is_refused(copied_data: Path) -> None:
    target = copied_data / "global-bundle.pem"
    target.write_bytes(target.read_bytes().replace(b"MII", b"MIJ", 1))
    with pytest.raises(CaBundleError, match="was modified") as info:
        shipped_bundle()
    assert "reinstall" in str(info.value)


def test_a_missing_shipped_bundle_says_how_to_recover(copied_data: Path) -> None:
    (copied_data / "global-bundle.pem").unlink()
    with pytest.raises(CaBundleError, match="reinstall the package, or pass ca="):
        shipped_bundle()


def test_the_sha256_is_checked_once_per_process(copied_data: Path) -> None:
    first = shipped_bundle()
    (copied_data / "global-bundle.pem").write_bytes(b"changed after the check")
    assert shipped_bundle() == first  # not re-hashed on every resolution


def test_downloads_are_disabled_for_the_whole_suite() -> None:
    # tests/conftest.py replaces the real downloader, so integration and emulator tests run
    # exactly as offline clients do; a GovCloud host without ca= or ca_fetcher= says so.
    c = Connector(signer=StaticSigner("tok"))
    with pytest.raises(CaBundleError, match="a test tried to download"):
        c.connect_kwargs("db.abc.us-gov-west-1.rds.amazonaws.com", "app", driver="psycopg")
