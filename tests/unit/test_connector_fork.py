"""Forking while another thread holds one of the Connector's locks must not hang the child."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from typing import Any

import pytest

import rds_iam_auth
from rds_iam_auth import Connector
from rds_iam_auth import _default as connector_module
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.testing import FakeClock, StaticSigner
from tests.forking import assert_child_succeeded, fork_running

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.mark.regression
def test_fork_during_a_region_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (finding 9): the Connector's own lock (held while the default region is looked
    # up) was not reset after fork; the child deadlocked on its first region lookup.
    entered, release = threading.Event(), threading.Event()

    def slow_region(self: CredentialSource) -> str:
        entered.set()
        assert release.wait(10)
        return "eu-west-1"

    monkeypatch.setattr(CredentialSource, "region", slow_region)
    from botocore.credentials import Credentials

    c = Connector(
        credentials=Credentials("AKIDEXAMPLE", "secret"),
        ca="certifi",
        clock=FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc)),
    )
    looker = threading.Thread(target=lambda: c.connect_kwargs("10.0.0.1", "app", driver="pymysql"))
    looker.start()
    assert entered.wait(10)
    release_in_child = release.set  # the child has no looker thread: let its own lookup pass

    def child() -> bool:
        release_in_child()
        return c._targets._default_region() == "eu-west-1"

    pid = fork_running(child, alarm_s=5)
    release.set()
    looker.join(10)
    assert_child_succeeded(pid, "child hung on the Connector's lock after fork")


@pytest.mark.regression
def test_fork_while_the_default_connector_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (finding 9): the default Connector's lock was not reset after fork.
    entered, release = threading.Event(), threading.Event()
    real_init = Connector.__init__

    def slow_init(self: Connector, **kwargs: Any) -> None:
        entered.set()
        assert release.wait(10)
        real_init(self, signer=StaticSigner("t"), ca="certifi", region="us-east-1")

    monkeypatch.setattr(connector_module, "_default_connector", None)
    monkeypatch.setattr(Connector, "__init__", slow_init)
    builder = threading.Thread(target=connector_module._get_default)
    builder.start()
    assert entered.wait(10)

    def child() -> bool:
        release.set()  # in the child: its own construction must not wait for a lost thread
        return isinstance(connector_module._get_default(), Connector)

    pid = fork_running(child, alarm_s=5)
    release.set()
    builder.join(10)
    assert_child_succeeded(pid, "child hung on the default Connector's lock after fork")
    assert rds_iam_auth.connect is not None
