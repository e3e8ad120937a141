"""rds_iam_auth._fork: one after-fork hook for the package; owners reset in the child.

The hook itself is tested by calling it directly (deterministic, any platform) and through
real forks while another thread holds a registered lock (the child must not deadlock).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import types

import pytest

from rds_iam_auth import _fork
from rds_iam_auth.cache import TokenCache
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.testing import FakeClock
from tests.forking import assert_child_succeeded, fork_running
from tests.unit.cache_helpers import KEY, START, WAIT_S, CountingSigner, make_token

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


class Owner:
    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1


class Unhashable(Owner):
    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[int, object]:
    """An empty registry for this test: the hook then resets only what the test registered."""
    resets: dict[int, object] = {}
    monkeypatch.setattr(_fork, "_resets", resets)
    return resets


def test_resets_run_for_each_live_owner_in_registration_order(registry: dict[int, object]) -> None:
    calls: list[tuple[str, Owner]] = []
    first, second = Owner(), Unhashable()  # owners need not be hashable
    _fork.register(first, lambda o: calls.append(("first", o)))
    _fork.register(second, lambda o: calls.append(("second", o)))
    _fork.register(first, Owner.reset)  # one owner may register twice
    _fork._after_fork_in_child()
    assert calls == [("first", first), ("second", second)]
    assert first.resets == 1


def test_owners_are_held_weakly_and_dead_ones_are_dropped(registry: dict[int, object]) -> None:
    owner = Owner()
    calls: list[object] = []
    _fork.register(owner, calls.append)
    assert len(registry) == 1
    del owner
    gc.collect()
    assert registry == {}  # the weakref callback removed the entry
    _fork._after_fork_in_child()
    assert calls == []


def test_a_module_registers_its_module_level_lock(registry: dict[int, object]) -> None:
    module = types.ModuleType("fake_module_with_a_lock")
    module.lock = threading.Lock()  # type: ignore[attr-defined]
    module.lock.acquire()  # type: ignore[attr-defined]  # held by a thread the child lacks

    def reset(m: types.ModuleType) -> None:
        m.lock = threading.Lock()  # type: ignore[attr-defined]

    _fork.register(module, reset)
    _fork._after_fork_in_child()
    assert module.lock.acquire(blocking=False)  # type: ignore[attr-defined]


def test_a_reset_bound_to_its_owner_is_refused(registry: dict[int, object]) -> None:
    owner = Owner()
    with pytest.raises(ValueError, match="bound"):
        _fork.register(owner, owner.reset)  # type: ignore[arg-type]  # would never be collected
    assert registry == {}


def test_one_failing_reset_does_not_skip_the_others(registry: dict[int, object]) -> None:
    owner = Owner()

    def broken(o: Owner) -> None:
        raise RuntimeError("reset failed")

    _fork.register(owner, broken)
    _fork.register(owner, Owner.reset)
    with pytest.raises(RuntimeError, match="reset failed"):
        _fork._after_fork_in_child()
    assert owner.resets == 1


def test_the_package_installs_exactly_one_at_fork_hook() -> None:
    # Fixed: cache.py, credentials.py and tls.py each called os.register_at_fork with a
    # WeakSet of their own. Count the package's registrations in a fresh interpreter.
    code = (
        "import os\n"
        "hooks = []\n"
        "real = os.register_at_fork\n"
        "def spy(**kw):\n"
        "    hooks.append(kw['after_in_child'].__module__)\n"
        "    real(**kw)\n"
        "os.register_at_fork = spy\n"
        "import rds_iam_auth, rds_iam_auth.cache, rds_iam_auth.credentials, rds_iam_auth.tls\n"
        "print(sorted(h for h in hooks if h.startswith('rds_iam_auth')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['rds_iam_auth._fork']"


# --- real forks while another thread holds a registered lock ---------------------------------


def _hold(lock: threading.Lock) -> tuple[threading.Thread, threading.Event]:
    held, release = threading.Event(), threading.Event()

    def run() -> None:
        with lock:
            held.set()
            assert release.wait(WAIT_S)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert held.wait(WAIT_S)
    return thread, release


@needs_fork
def test_fork_while_another_thread_holds_the_cache_lock() -> None:
    cache = TokenCache(clock=FakeClock(START))
    kept = cache.get(KEY, CountingSigner())
    cache.invalidate(KEY, kept)  # the child's get() must take the lock, not the lock-free path
    thread, release = _hold(cache._lock)

    def in_child() -> bool:
        return cache.get(KEY, lambda now: make_token("child", now)).value == "child"

    pid = fork_running(in_child, alarm_s=5)
    release.set()
    thread.join(WAIT_S)
    assert_child_succeeded(pid, "child hung on TokenCache._lock after fork")


@needs_fork
def test_fork_while_another_thread_holds_a_credential_source_lock() -> None:
    from botocore.credentials import Credentials

    source = CredentialSource(credentials=Credentials("AKIDEXAMPLE", "secret"))
    thread, release = _hold(source._lock)

    def in_child() -> bool:
        with source._lock:  # what a first resolution in the child would take
            return source.get().access_key == "AKIDEXAMPLE"

    pid = fork_running(in_child, alarm_s=5)
    release.set()
    thread.join(WAIT_S)
    assert_child_succeeded(pid, "child hung on CredentialSource._lock after fork")


@needs_fork
def test_fork_while_another_thread_holds_a_registered_module_lock(
    registry: dict[int, object],
) -> None:
    module = types.ModuleType("fake_module_forked_with_a_lock")
    module.lock = threading.Lock()  # type: ignore[attr-defined]

    def reset(m: types.ModuleType) -> None:
        m.lock = threading.Lock()  # type: ignore[attr-defined]

    _fork.register(module, reset)
    thread, release = _hold(module.lock)  # type: ignore[attr-defined]

    def in_child() -> bool:
        with module.lock:  # type: ignore[attr-defined]
            return True

    pid = fork_running(in_child, alarm_s=5)
    release.set()
    thread.join(WAIT_S)
    assert_child_succeeded(pid, "child hung on a registered module lock after fork")


def test_a_platform_without_register_at_fork_imports_and_registers() -> None:
    code = (
        "import os\n"
        "del os.register_at_fork\n"  # as on Windows
        "import rds_iam_auth\n"
        "from rds_iam_auth import _fork\n"
        "from rds_iam_auth.cache import TokenCache\n"
        "cache = TokenCache(clock=lambda: 0.0)\n"
        "print(len(_fork._resets) >= 1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"
