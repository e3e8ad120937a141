"""TLS policy: tls=/ca= validation, the CA resolution order, GovCloud / China downloads.

Downloads always go through an injected fetcher: no network.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import certifi
import pytest
import trustme

from rds_iam_auth import CaBundleError, ConfigurationError, Connector
from rds_iam_auth.endpoint import parse_endpoint
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import (
    CA_BUNDLE_ENV,
    CACHE_DIR_ENV,
    TlsSettings,
    ca_bundle_path,
    shipped_bundle,
    validate_ca,
    validate_tls,
)
from tests.unit.bundle_helpers import Fetcher, bundle

INSTANCE = parse_endpoint("mydb.abc123.us-east-1.rds.amazonaws.com", 5432)
PROXY = parse_endpoint("myproxy.proxy-abc123.us-east-1.rds.amazonaws.com", 5432)
PROXY_ENDPOINT = parse_endpoint("ro.endpoint.proxy-abc123.us-east-1.rds.amazonaws.com", 5432)
GOV = parse_endpoint("mydb.abc123.us-gov-west-1.rds.amazonaws.com", 5432)
CN = parse_endpoint("mydb.abc123.cn-north-1.rds.amazonaws.com.cn", 5432)
GOV_URL = "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem"
CN_URL = "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/global/global-bundle.pem"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def cache_dir() -> Path:
    return Path(os.environ[CACHE_DIR_ENV])  # set per test by conftest (under tmp_path)


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca"])
def test_validate_tls_accepts_the_two_modes(mode: str) -> None:
    assert validate_tls(mode) == mode


@pytest.mark.parametrize("mode", ["disable", "require", "prefer", "", None, True, "VERIFY-FULL"])
def test_validate_tls_refuses_anything_else(mode: object) -> None:
    with pytest.raises(ConfigurationError, match="tls must be") as info:
        validate_tls(mode)
    assert "no plaintext mode" in str(info.value)


def test_connector_refuses_bad_tls() -> None:
    with pytest.raises(ConfigurationError, match="tls"):
        Connector(signer=StaticSigner("t"), tls="require")


def test_validate_ca(tmp_path: Path) -> None:
    assert validate_ca(None) is None
    assert validate_ca("certifi") == "certifi"
    assert validate_ca("system") == "system"
    assert validate_ca(tmp_path / "x.pem") == str(tmp_path / "x.pem")  # PathLike accepted
    for bad in ("", 5, b"/etc/ssl/cert.pem"):
        with pytest.raises(ConfigurationError, match="ca must be"):
            validate_ca(bad)


def test_tls_settings_check_hostname() -> None:
    assert TlsSettings("verify-full", "x").check_hostname is True
    assert TlsSettings("verify-ca", "x").check_hostname is False


# --- resolution order (DESIGN §6) --------------------------------------------------------------


def test_explicit_path_wins_over_env_and_proxy(
    ca_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "env.pem"
    other.write_text("x")
    monkeypatch.setenv(CA_BUNDLE_ENV, str(other))
    fetch = Fetcher(error=AssertionError("must not download"))
    assert ca_bundle_path(ca_file, INSTANCE, fetch) == ca_file
    assert ca_bundle_path(ca_file, PROXY, fetch) == ca_file
    assert fetch.urls == []


def test_certifi_and_system(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setenv(CA_BUNDLE_ENV, ca_file)
    assert ca_bundle_path("certifi", INSTANCE) == certifi.where()
    paths = ssl.get_default_verify_paths()
    if not any(p and os.path.isfile(p) for p in (paths.cafile, paths.openssl_cafile)):
        pytest.skip("no system CA file on this machine")
    system = ca_bundle_path("system", INSTANCE)
    assert os.path.isfile(system)
    assert system in (paths.cafile, paths.openssl_cafile)


def test_explicit_missing_path_is_a_ca_bundle_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(CaBundleError, match="ca=") as info:
        ca_bundle_path(missing, INSTANCE)
    assert missing in str(info.value)


def test_env_wins_over_proxy_and_download(ca_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CA_BUNDLE_ENV, ca_file)
    fetch = Fetcher(error=AssertionError("must not download"))
    assert ca_bundle_path(None, INSTANCE, fetch) == ca_file
    assert ca_bundle_path(None, PROXY, fetch) == ca_file
    assert fetch.urls == []


def test_env_pointing_to_missing_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CA_BUNDLE_ENV, str(tmp_path / "gone.pem"))
    with pytest.raises(CaBundleError, match=CA_BUNDLE_ENV):
        ca_bundle_path(None, INSTANCE, Fetcher(error=AssertionError("no download")))


@pytest.mark.parametrize("endpoint", [PROXY, PROXY_ENDPOINT], ids=["proxy", "proxy-endpoint"])
def test_rds_proxy_uses_certifi(endpoint: object) -> None:
    fetch = Fetcher(error=AssertionError("must not download"))
    assert ca_bundle_path(None, endpoint, fetch) == certifi.where()  # type: ignore[arg-type]


# --- commercial partition: the shipped bundle, never a download --------------------------------


def test_rds_instance_resolves_the_shipped_bundle_without_downloading() -> None:
    fetch = Fetcher(error=AssertionError("must not download"))
    assert ca_bundle_path(None, INSTANCE, fetch) == shipped_bundle()
    assert fetch.urls == []


@pytest.mark.parametrize(
    "host",
    [
        "abc123def456ghi789jkl0mnop.dsql.us-east-1.on.aws",
        "abc123def456ghi789jkl0mnop.dsql-fnh4.us-east-1.on.aws",
    ],
)
def test_aurora_dsql_uses_certifi(host: str) -> None:
    endpoint = parse_endpoint(host, 5432, "us-east-1")
    assert ca_bundle_path(None, endpoint) == certifi.where()


def test_connector_resolves_per_trust_group_once(ca: trustme.CA) -> None:
    fetch = Fetcher(bundle())
    c = Connector(signer=StaticSigner("tok"), ca_fetcher=fetch)
    kwargs = c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")
    assert kwargs["sslrootcert"] == shipped_bundle()
    assert c.connect_kwargs(PROXY.host, "app", driver="psycopg")["sslrootcert"] == certifi.where()
    gov = c.connect_kwargs(GOV.host, "app", driver="psycopg")["sslrootcert"]
    assert gov == str(cache_dir() / "rds-ca-aws-us-gov.pem")
    c.connect_kwargs(GOV.host, "app", driver="psycopg")
    assert (
        c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")["sslrootcert"] == shipped_bundle()
    )
    assert fetch.urls == [GOV_URL]
