"""Fixtures for the decoy suite: one PKI per session (per xdist worker), a ``kit`` per test.

Decoys listen on 127.0.0.1 at a free port (or a private Unix socket), so tests are safe to run
in parallel; every decoy and Connector a test's kit made is closed at its teardown.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._common import Kit
from .decoys import Pki

_hypothesis_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps caches (source constants, at collection time) in ``./.hypothesis``,
    i.e. in the checkout; give it a temporary home instead, unless the user chose one."""
    global _hypothesis_home  # noqa: PLW0603 - one per process, removed at unconfigure
    try:
        from hypothesis import configuration
    except ImportError:
        return
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") is None and _hypothesis_home is None:
        _hypothesis_home = tempfile.mkdtemp(prefix="hypothesis-")
        configuration.set_hypothesis_home_dir(_hypothesis_home)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _hypothesis_home  # noqa: PLW0603
    if _hypothesis_home is not None:
        from hypothesis import configuration

        configuration.set_hypothesis_home_dir(None)
        shutil.rmtree(_hypothesis_home, ignore_errors=True)
        _hypothesis_home = None


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def kit(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    made = Kit(pki, tmp_path, monkeypatch)
    yield made
    made.close()


def _is_async_module(name: str) -> bool:
    return name.rpartition(".")[2].startswith("test_async_")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """asyncpg, aiomysql and asyncmy leave the socket of a refused handshake (plaintext decoy,
    wrong certificate) to the garbage collector, which then reports "unclosed transport"
    wherever it happens to run. In the async decoy modules that report is not a finding (the
    token assertions are the tests' own), so it is ignored there."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and _is_async_module(module.__name__):
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning"))


@pytest.fixture(autouse=True, scope="module")
def _async_driver_garbage(request: pytest.FixtureRequest) -> Iterator[None]:
    """After an async decoy module, collect what its drivers dropped, before the next module
    (whose tests keep the warning an error)."""
    yield
    if _is_async_module(request.module.__name__):
        import gc
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
