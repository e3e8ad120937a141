"""``address=`` with the asyncio drivers: dial elsewhere, sign for and verify the endpoint.

``connect_async("db.example.com", ..., address="127.0.0.1:<decoy port>")``: the socket goes to
the decoy, the token is signed for ``db.example.com`` and the certificate must name it. asyncpg,
aiomysql and asyncmy pass the dialled host as ``server_hostname``; the connector's context
(``wrap_bio``) verifies the endpoint's name instead. psycopg dials the numeric ``hostaddr``.
So a decoy at the address whose certificate does not name the endpoint (``ip-only`` is trusted
and valid for 127.0.0.1, the address dialled), is from another CA, or offers no TLS gets
nothing; the good decoy gets the token.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from rds_iam_auth import ConfigurationError

from ._async_common import ASYNC_DRIVERS, assert_async_refused, run
from ._common import TOKEN, USER, Kit
from .decoys import ATTACK_MODES, Decoy

ENDPOINT = "db.example.com"
PORTS = {"pg": 5432, "mysql": 3306}
IMPOSTORS = (*ATTACK_MODES, "ip-only")
DRIVERS = sorted(ASYNC_DRIVERS)


def _attempt(kit: Kit, driver: str, decoy: Decoy, address: str | None = None) -> Awaitable[Any]:
    port = PORTS[ASYNC_DRIVERS[driver]]
    dial = f"127.0.0.1:{decoy.port}" if address is None else address
    return kit.connector.connect_async(ENDPOINT, USER, driver=driver, port=port, address=dial)


@pytest.mark.parametrize("mode", IMPOSTORS)
@pytest.mark.parametrize("driver", DRIVERS)
def test_address_to_an_impostor_never_leaks(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy(ASYNC_DRIVERS[driver], mode)
    error = assert_async_refused(lambda: _attempt(kit, driver, decoy), decoy)
    assert not isinstance(error, ConfigurationError), "address= is not supported at all"
    assert decoy.connections >= 1, "address= did not dial the decoy"
    assert decoy.startups == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_address_to_the_good_server_signs_for_the_endpoint(kit: Kit, driver: str) -> None:
    decoy = kit.decoy(ASYNC_DRIVERS[driver], "good")
    error = assert_async_refused(lambda: _attempt(kit, driver, decoy))
    assert not isinstance(error, ConfigurationError)
    assert decoy.passwords
    assert set(decoy.passwords) == {TOKEN}
    assert decoy.tls_handshakes_completed == len(decoy.passwords)
    endpoint, user, _now = kit.signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (ENDPOINT, PORTS[ASYNC_DRIVERS[driver]], USER)


@pytest.mark.parametrize("driver", DRIVERS)
def test_address_by_name_is_dialled_and_verified(kit: Kit, driver: str) -> None:
    # "localhost" resolves to 127.0.0.1 (psycopg's adapter resolves it in a worker thread,
    # the other drivers on the loop); the ip-only certificate names localhost, not ENDPOINT.
    decoy = kit.decoy(ASYNC_DRIVERS[driver], "ip-only")
    assert_async_refused(lambda: _attempt(kit, driver, decoy, f"localhost:{decoy.port}"), decoy)
    assert decoy.connections >= 1


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "address", ["127.0.0.1:1 sslmode=disable", "127.0.0.1,127.0.0.1", "/tmp/.s.PGSQL.5432", ""]
)
def test_malformed_address_is_refused(kit: Kit, driver: str, address: str) -> None:
    # A path would be a Unix socket to asyncpg: no TLS at all.
    with pytest.raises(ConfigurationError, match="address"):
        run(_attempt(kit, driver, kit.decoy(ASYNC_DRIVERS[driver], "good"), address))
