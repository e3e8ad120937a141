"""Fork while another thread holds a lock, and check the child still gets its work done."""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Callable


def fork_running(check: Callable[[], bool], *, alarm_s: int) -> int:
    """Fork; the child runs ``check`` and exits 0 if it returns True. Returns the child's PID.

    A child that hangs (on a lock held by a parent thread it does not have) is killed by
    SIGALRM after ``alarm_s`` seconds; see :func:`assert_child_succeeded`.
    """
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a multi-threaded process; that is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child: no test framework from here on, only an exit code
        code = 1
        try:
            signal.alarm(alarm_s)
            code = 0 if check() else 2
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    return pid


def assert_child_succeeded(pid: int, hang_message: str) -> None:
    """Wait for the child of :func:`fork_running`; it must have exited 0, not been killed."""
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"{hang_message} ({status=})"
    assert os.WEXITSTATUS(status) == 0
