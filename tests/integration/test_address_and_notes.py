"""address= (dial a tunnel, sign for and verify the endpoint) and refused-login notes, for real.

A loopback forwarder stands in for an SSH tunnel or a port-forward: the driver dials it, the
token is signed for the server's own host:port, and TLS verify-full checks the server's name.
"""

from __future__ import annotations

from typing import Any

import pytest

from rds_iam_auth import ConfigurationError, Connector
from tests.emulator import LONG_TERM, Emulator

from .conftest import Target
from .drivers import whoami
from .forwarder import forwarding
from .test_emulator_logins import assert_refused, driver_error

pytestmark = pytest.mark.integration


def connector_for(target: Target, **kwargs: Any) -> Connector:
    return Connector(
        credentials=LONG_TERM.botocore_credentials(),
        region=target.info.region,
        ca=target.info.ca_path,
        **kwargs,
    )


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1"])
def test_login_through_a_tunnel_with_verify_full(
    target: Target, emulator: Emulator, listen: str
) -> None:
    info = target.info
    before = len(emulator.verifier_log(target.engine))
    if not target.profile.supports_address:
        assert_address_refused(target, listen)
        return
    with forwarding(("127.0.0.1", info.port), listen) as tunnel, connector_for(target) as c:
        # "localhost" is on the server's certificate and among the names its verifier accepts
        # in a token: it plays the RDS endpoint name here, the forwarder the tunnel.
        conn = c.connect(
            "localhost",
            info.user,
            driver=target.driver,
            port=info.port,
            address=tunnel.address,
            **target.db_kwargs,
        )
        try:
            user, tls = whoami(conn, target.engine)
        finally:
            conn.close()
        assert tunnel.connections == 1
        signed_for = c.token("localhost", info.port, info.user).value  # the cached one it sent
    assert signed_for.startswith(f"localhost:{info.port}/?Action=connect&")
    assert user == info.user
    assert tls.startswith(("TLSv1.", "TLS_"))
    verdicts = emulator.verifier_log(target.engine)[before:]
    assert [v.split()[0] for v in verdicts] == ["ACCEPTED"]


def assert_address_refused(target: Target, listen: str = "127.0.0.1") -> None:
    """Drivers that cannot verify a name other than the one they dial refuse address=."""
    with forwarding(("127.0.0.1", target.info.port), listen) as tunnel, connector_for(target) as c:
        for call in (c.connect, c.connect_kwargs, c.creator):
            with pytest.raises(ConfigurationError, match="address= is not possible"):
                call("localhost", target.info.user, driver=target.driver, address=tunnel.address)
        assert tunnel.connections == 0


def test_a_tunnel_does_not_relax_the_name_check(target: Target, emulator: Emulator) -> None:
    info = target.info
    before = len(emulator.verifier_log(target.engine))
    if not target.profile.supports_address:
        assert_address_refused(target)
        return
    with forwarding(("127.0.0.1", info.port)) as tunnel, connector_for(target) as c:
        with pytest.raises(driver_error(target)) as excinfo:
            c.connect(
                "db.example.com",  # not on the server's certificate
                info.user,
                driver=target.driver,
                port=info.port,
                address=tunnel.address,
                **target.db_kwargs,
            )
        assert tunnel.connections >= 1
    message = str(excinfo.value).lower()
    assert "certificate" in message or "hostname" in message
    assert emulator.verifier_log(target.engine)[before:] == []  # no token reached the server


def test_address_forms_are_checked(target: Target) -> None:
    if not target.profile.supports_address:
        assert_address_refused(target)
        return
    with connector_for(target) as c:
        for bad in ("", "host:port", "[::1", "::1::x", "db.example.com:0", "a,b:5432", "h/x"):
            with pytest.raises(ConfigurationError, match="address="):
                c.connect_kwargs("localhost", "jane", driver=target.driver, address=bad)


def test_twice_refused_login_carries_notes(target: Target, emulator: Emulator) -> None:
    info = target.info
    before = len(emulator.verifier_log(target.engine))
    # Signed for the wrong region: the server refuses the token and its fresh replacement.
    with connector_for(target) as c:
        with pytest.raises(driver_error(target)) as excinfo:
            c.connect(
                info.host,
                info.user,
                driver=target.driver,
                port=info.port,
                region="eu-west-1",
                **target.db_kwargs,
            )
        assert c.stats.retries == 1
    assert_refused(excinfo.value, target)
    notes = excinfo.value.__notes__
    text = "\n".join(notes)
    assert "refused the IAM token twice" in notes[0]
    assert f"host '{info.host}' port {info.port}" in text
    assert "region eu-west-1 (from region=)" in text
    assert f"key {LONG_TERM.access_key}" in text
    assert notes[2].startswith("  1. the region")
    assert "X-Amz-Signature" not in text
    verdicts = emulator.verifier_log(target.engine)[before:]
    assert len(verdicts) == 2
    assert all("eu-west-1" in v for v in verdicts), verdicts
