"""TLS policy: tls=/ca= validation, CA resolution order, the download cache, SSLContexts.

The RDS bundle download always goes through an injected fetcher: no network.
"""

from __future__ import annotations

import os
import ssl
import stat
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
    RDS_GLOBAL_BUNDLE_URL,
    TlsSettings,
    ca_bundle_path,
    validate_ca,
    validate_tls,
)
from tests.forking import assert_child_succeeded, fork_running

INSTANCE = parse_endpoint("mydb.abc123.us-east-1.rds.amazonaws.com", 5432)
PROXY = parse_endpoint("myproxy.proxy-abc123.us-east-1.rds.amazonaws.com", 5432)
PROXY_ENDPOINT = parse_endpoint("ro.endpoint.proxy-abc123.us-east-1.rds.amazonaws.com", 5432)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


class Fetcher:
    """An injected downloader that counts calls and returns a fixed body (or raises)."""

    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body = body
        self.error = error
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        return self.body


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


# --- the RDS global bundle download cache -------------------------------------------------------


def test_rds_bundle_downloaded_once_into_cache_dir(ca: trustme.CA) -> None:
    pem = ca.cert_pem.bytes()
    fetch = Fetcher(pem)
    path = ca_bundle_path(None, INSTANCE, fetch)
    assert fetch.urls == [RDS_GLOBAL_BUNDLE_URL]
    assert Path(path).parent == cache_dir()
    assert Path(path).read_bytes() == pem
    # Atomic write: no temporary sibling left behind, and readable by other users.
    assert sorted(p.name for p in cache_dir().iterdir()) == [Path(path).name]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    # Second resolution (even from another "process": the file is what counts) reads the cache.
    assert ca_bundle_path(None, INSTANCE, fetch) == path
    assert len(fetch.urls) == 1


def test_cached_bundle_is_used_offline(ca: trustme.CA) -> None:
    cache_dir().mkdir(parents=True)
    first = ca_bundle_path(None, INSTANCE, Fetcher(ca.cert_pem.bytes()))
    offline = Fetcher(error=OSError("network unreachable"))
    assert ca_bundle_path(None, INSTANCE, offline) == first
    assert offline.urls == []


def test_offline_download_failure_says_how_to_provide_the_file() -> None:
    fetch = Fetcher(error=OSError("[Errno 101] Network is unreachable"))
    with pytest.raises(CaBundleError) as info:
        ca_bundle_path(None, INSTANCE, fetch)
    message = str(info.value)
    assert "ca=" in message
    assert CA_BUNDLE_ENV in message
    assert RDS_GLOBAL_BUNDLE_URL in message
    assert "Network is unreachable" in message
    assert info.value.__cause__ is None
    assert not (cache_dir() / "rds-global-bundle.pem").exists()


def test_download_that_is_not_pem_is_refused_and_not_cached() -> None:
    fetch = Fetcher(b"<html>captive portal</html>")
    with pytest.raises(CaBundleError, match="PEM") as info:
        ca_bundle_path(None, INSTANCE, fetch)
    assert CA_BUNDLE_ENV in str(info.value)
    assert not cache_dir().exists() or list(cache_dir().iterdir()) == []


def test_unwritable_cache_dir_names_the_env_variable(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "cache"))
    with pytest.raises(CaBundleError, match=CACHE_DIR_ENV):
        ca_bundle_path(None, INSTANCE, Fetcher(ca.cert_pem.bytes()))


def test_connector_uses_injected_fetcher_and_resolves_once(ca: trustme.CA) -> None:
    fetch = Fetcher(ca.cert_pem.bytes())
    c = Connector(signer=StaticSigner("tok"), ca_fetcher=fetch)
    kwargs = c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")
    assert kwargs["sslrootcert"] == str(cache_dir() / "rds-global-bundle.pem")
    c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")
    assert fetch.urls == [RDS_GLOBAL_BUNDLE_URL]
    proxy = c.connect_kwargs(PROXY.host, "app", driver="psycopg")
    assert proxy["sslrootcert"] == certifi.where()


def test_connector_offline_error_surfaces_from_connect_kwargs() -> None:
    c = Connector(signer=StaticSigner("tok"), ca_fetcher=Fetcher(error=OSError("offline")))
    with pytest.raises(CaBundleError, match=CA_BUNDLE_ENV):
        c.connect_kwargs(INSTANCE.host, "app", driver="psycopg")


# --- fork ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_during_a_download_does_not_deadlock_the_child(ca: trustme.CA) -> None:
    # Fixed bug: tls._download_lock is held for the whole download (up to 10 s, longer on retries)
    # and is not reset after fork; a child forked meanwhile (gunicorn/celery pre-fork workers start
    # while the parent warms up) blocks forever on its first CA resolution. DESIGN §3:
    # "os.register_at_fork resets locks ... in the child". Fix: in tls.py,
    # os.register_at_fork(after_in_child=_reset_download_lock) that rebinds _download_lock =
    # threading.Lock() (and read the global at call time, as now).
    import threading

    started, release = threading.Event(), threading.Event()
    pem = ca.cert_pem.bytes()

    def slow_fetch(url: str) -> bytes:
        started.set()
        assert release.wait(10)
        return pem

    downloader = threading.Thread(
        target=ca_bundle_path, args=(None, INSTANCE, slow_fetch), daemon=True
    )
    downloader.start()
    assert started.wait(10)
    pid = fork_running(
        lambda: os.path.isfile(ca_bundle_path(None, INSTANCE, lambda url: pem)), alarm_s=2
    )
    release.set()
    downloader.join(10)
    assert_child_succeeded(pid, "child hung on tls._download_lock after fork")
