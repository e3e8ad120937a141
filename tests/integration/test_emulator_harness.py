"""The emulator cleans up after itself: on stop(), and when its owner is killed outright."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.emulator import Emulator, unavailable_reason

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(autouse=True)
def _needs_emulator(emulator: Emulator) -> None:
    """Skip or fail exactly like the other integration tests."""
    assert unavailable_reason() is None


def test_two_emulators_side_by_side_then_stop_removes_everything() -> None:
    with Emulator(mariadb=False) as first, Emulator(mariadb=False) as second:
        assert first.pg.port != second.pg.port
        assert first.base != second.base
        pam_files = first.pam_files + second.pam_files
        assert len(set(pam_files)) == 2
        assert all(p.exists() for p in pam_files)
        pids = [first.pg.pid, second.pg.pid]
    assert not any(_alive(pid) for pid in pids)
    assert not any(p.exists() for p in pam_files)
    assert not first.base.exists()
    assert not second.base.exists()


def test_servers_die_with_their_owner_even_on_sigkill() -> None:
    code = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.emulator import Emulator\n"
        "emu = Emulator(mariadb=False).start()\n"
        "print(emu.pg.pid, emu.base, *emu.pam_files, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    owner = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert owner.returncode == -9, owner.stderr
    pid_text, base, *pam_files = owner.stdout.split()
    pid = int(pid_text)
    # The watchdog notices its owner is gone and cleans up within a second or two.
    assert _wait_until(lambda: not _alive(pid), timeout=30), "server outlived its owner"
    assert _wait_until(lambda: not Path(base).exists(), timeout=30)
    assert not any(Path(p).exists() for p in pam_files)


def test_concurrent_starts_do_not_collide() -> None:
    # MariaDB's bootstrap deletes "#sql*" files in its tmpdir at start-up; with a shared /tmp,
    # concurrent bootstraps deleted each other's temporary tables and failed.
    import threading

    emulators = [Emulator(postgres=False) for _ in range(4)]
    errors: list[BaseException] = []

    def start(emu: Emulator) -> None:
        try:
            emu.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(emu,)) for emu in emulators]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert len({emu.mysql.port for emu in emulators}) == 4
    finally:
        for emu in emulators:
            emu.stop()
