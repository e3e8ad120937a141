"""GovCloud and China RDS bundles: downloaded once (through the injected fetcher, never the
network) into the user cache, checked, then used offline; partitions without a known bundle."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rds_iam_auth import CaBundleError, Connector
from rds_iam_auth.endpoint import Endpoint, parse_endpoint
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import CA_BUNDLE_ENV, CACHE_DIR_ENV, ca_bundle_path
from tests.forking import assert_child_succeeded, fork_running
from tests.unit.bundle_helpers import Fetcher, bundle, cert_pem

GOV = parse_endpoint("mydb.abc123.us-gov-west-1.rds.amazonaws.com", 5432)
CN = parse_endpoint("mydb.abc123.cn-north-1.rds.amazonaws.com.cn", 5432)
GOV_URL = "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/global/global-bundle.pem"
CN_URL = "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/global/global-bundle.pem"


def cache_dir() -> Path:
    return Path(os.environ[CACHE_DIR_ENV])  # set per test by conftest (under tmp_path)


# --- GovCloud and China: downloaded once into the cache ----------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "url", "name"), [(GOV, GOV_URL, "aws-us-gov"), (CN, CN_URL, "aws-cn")]
)
def test_partition_bundle_downloaded_once_then_used_offline(
    endpoint: Endpoint, url: str, name: str
) -> None:
    body = bundle("Amazon RDS partition Root CA")
    fetch = Fetcher(body)
    path = ca_bundle_path(None, endpoint, fetch)
    assert fetch.urls == [url]
    assert path == str(cache_dir() / f"rds-ca-{name}.pem")
    assert Path(path).read_bytes() == body
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(p.name for p in cache_dir().iterdir()) == [Path(path).name]  # atomic
    offline = Fetcher(error=OSError("network unreachable"))
    assert ca_bundle_path(None, endpoint, offline) == path
    assert offline.urls == []


def test_offline_partition_bundle_error_says_both_ways() -> None:
    fetch = Fetcher(error=OSError("[Errno 101] Network is unreachable"))
    with pytest.raises(CaBundleError) as info:
        ca_bundle_path(None, GOV, fetch)
    message = str(info.value)
    assert "GovCloud" in message
    assert GOV_URL in message
    assert "Network is unreachable" in message
    assert "install_bundle(path, partition='aws-us-gov')" in message  # way 1: the cache
    assert "ca=" in message
    assert CA_BUNDLE_ENV in message
    assert info.value.__cause__ is None
    assert not cache_dir().exists() or list(cache_dir().iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [b"<html>captive portal</html>", None],
    ids=["not-pem", "expiring-root"],
)
def test_a_download_that_fails_the_checks_is_refused_and_not_cached(body: bytes | None) -> None:
    soon = datetime.now(timezone.utc) + timedelta(days=365)
    fetch = Fetcher(body if body is not None else cert_pem("Soon", not_after=soon))
    with pytest.raises(CaBundleError, match="download was refused") as info:
        ca_bundle_path(None, CN, fetch)
    assert CA_BUNDLE_ENV in str(info.value)
    assert not cache_dir().exists() or list(cache_dir().iterdir()) == []


def test_a_cached_partition_bundle_in_an_unsafe_dir_is_not_trusted() -> None:
    ca_bundle_path(None, GOV, Fetcher(bundle()))
    cache_dir().chmod(0o777)  # someone else could have planted it
    with pytest.raises(CaBundleError, match="writable by other users"):
        ca_bundle_path(None, GOV, Fetcher(bundle()))


@pytest.mark.parametrize("region", ["us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"])
def test_partitions_without_a_known_bundle_need_ca(region: str) -> None:
    endpoint = parse_endpoint(f"db.abc123.{region}.rds.amazonaws.com", 5432, region)
    fetch = Fetcher(error=AssertionError("nothing to download"))
    with pytest.raises(CaBundleError, match="pass ca=") as info:
        ca_bundle_path(None, endpoint, fetch)
    assert region in str(info.value)


def test_unwritable_cache_dir_names_the_env_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "cache"))
    with pytest.raises(CaBundleError, match=CACHE_DIR_ENV):
        ca_bundle_path(None, GOV, Fetcher(bundle()))


def test_connector_offline_error_surfaces_from_connect_kwargs() -> None:
    c = Connector(signer=StaticSigner("tok"), ca_fetcher=Fetcher(error=OSError("offline")))
    with pytest.raises(CaBundleError, match=CA_BUNDLE_ENV):
        c.connect_kwargs(CN.host, "app", driver="psycopg")


# --- fork ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_during_a_download_does_not_deadlock_the_child() -> None:
    # Fixed bug: the download lock is held for the whole download (up to 10 s) and was not
    # reset after fork; a child forked meanwhile (gunicorn/celery pre-fork workers start while
    # the parent warms up) blocked forever on its first CA resolution (DESIGN §3: fork resets
    # locks). Fix: _bundle registers _reset_download_lock with _fork.
    import threading

    started, release = threading.Event(), threading.Event()
    pem = bundle()

    def slow_fetch(url: str) -> bytes:
        started.set()
        assert release.wait(10)
        return pem

    downloader = threading.Thread(target=ca_bundle_path, args=(None, GOV, slow_fetch), daemon=True)
    downloader.start()
    assert started.wait(10)
    pid = fork_running(
        lambda: os.path.isfile(ca_bundle_path(None, GOV, lambda url: pem)), alarm_s=2
    )
    release.set()
    downloader.join(10)
    assert_child_succeeded(pid, "child hung on the CA download lock after fork")
