"""The async path under other event loops (uvloop) and across fork, like the sync path."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from rds_iam_auth import Connector
from rds_iam_auth.testing import FakeClock
from tests.forking import assert_child_succeeded, fork_running
from tests.unit.cache_helpers import START, WAIT_S
from tests.unit.test_cache_async import HOST, GatedSigner


def test_token_async_under_uvloop() -> None:
    import uvloop  # a test dependency (noxfile.py TEST_DEPS)

    signer = GatedSigner()
    connector = Connector(signer=signer, clock=FakeClock(START))

    async def main() -> list[str]:
        assert "uvloop" in type(asyncio.get_running_loop()).__module__
        logins = [
            asyncio.ensure_future(connector.token_async(HOST, 5432, "app")) for _ in range(20)
        ]
        while not signer.entered.is_set():  # the loop is free while the signing waits
            await asyncio.sleep(0)
        signer.release.set()
        return [t.value for t in await asyncio.gather(*logins)]

    assert uvloop.run(main()) == ["token-value"] * 20
    assert signer.calls == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_a_coroutine_waits_for_a_signing() -> None:
    # The parent's signing is in flight (its worker thread does not exist in the child): the
    # child must sign on its own instead of awaiting a flight nobody will finish.
    signer = GatedSigner()
    connector = Connector(signer=signer, clock=FakeClock(START))
    done = threading.Event()

    def parent_loop() -> None:
        asyncio.run(connector.token_async(HOST, 5432, "app"))
        done.set()

    thread = threading.Thread(target=parent_loop)
    thread.start()
    assert signer.entered.wait(WAIT_S)

    def child() -> bool:
        signer.release.set()  # the child's copy: its own signing may pass
        # Without the fork reset it would await the parent's flight, led by a thread the child
        # does not have, until the alarm.
        token = asyncio.run(connector.token_async(HOST, 5432, "app"))
        return token.value == "token-value"

    pid = fork_running(child, alarm_s=10)
    signer.release.set()
    assert done.wait(WAIT_S)
    thread.join(WAIT_S)
    assert_child_succeeded(pid, "the child awaited the parent's signing forever")
