"""Shared by the doctor tests: moto's STS in server mode on loopback, a moto IAM user, and one
``doctor --json`` run in this process (so that a test can switch moto's authentication).

moto checks keys and policies only while ``moto.settings.INITIAL_NO_AUTH_ACTION_COUNT`` is
exceeded (0: always); then a key it does not know gets ``InvalidClientTokenId``, as from AWS,
and a key of a user it knows gets that user's identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import moto.settings
import pytest
from moto.server import ThreadedMotoServer

from rds_iam_auth.cli import main
from tests.emulator import ServerInfo

__all__ = ["causes", "doctor", "iam_user", "moto_sts", "set_keys", "use_sts"]


@contextmanager
def moto_sts() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 at a free port; its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def use_sts(monkeypatch: pytest.MonkeyPatch, url: str, *, authenticate: bool) -> None:
    """Send botocore's STS calls to ``url``; moto checks keys only with ``authenticate``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)
    count = 0 if authenticate else float("inf")
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", count)


def iam_user(sts_url: str, name: str) -> tuple[str, str]:
    """A moto IAM user allowed sts:GetCallerIdentity and denied rds-db:connect: its key."""
    iam = boto3.client(
        "iam",
        endpoint_url=sts_url,
        region_name="us-east-1",
        aws_access_key_id="AKIASETUP",
        aws_secret_access_key="setup",
    )
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
            {"Effect": "Deny", "Action": "rds-db:connect", "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def set_keys(
    monkeypatch: pytest.MonkeyPatch, access: str, secret: str, token: str | None = None
) -> None:
    """AWS keys in the environment, as botocore's first provider reads them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)


def doctor(
    capsys: pytest.CaptureFixture[str],
    info: ServerInfo,
    *extra: str,
    clock: Any = None,
    region: str | None = "us-east-1",
    ca: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """``main(["doctor", ..., "--json"])`` for ``info``'s server: the status and the report."""
    argv = [
        "doctor",
        "--hostname",
        info.host,
        "--port",
        str(info.port),
        "--username",
        info.user,
        "--dbname",
        info.database,
        "--ca",
        ca or info.ca_path,
        "--json",
        *extra,
    ]
    if region:
        argv += ["--region", region]
    if info.engine == "mariadb":
        argv += ["--engine", "mysql"]
    capsys.readouterr()
    status = main(argv, clock=clock)
    return status, json.loads(capsys.readouterr().out)


def causes(report: dict[str, Any]) -> list[str]:
    """The ids of the report's causes, most likely first."""
    return [cause["id"] for cause in report["causes"]]
