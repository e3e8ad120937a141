"""``address=`` dials elsewhere but signs for, and verifies, the endpoint's own name.

``connect("db.example.com", ..., port=5432, address="127.0.0.1:<decoy port>")`` is how SSH
tunnels, port-forwards and CNAMEs keep ``verify-full``: the socket goes to ``address``, the token
is signed for ``db.example.com:5432`` and the certificate must name ``db.example.com``. So a
decoy at ``address`` whose certificate does not (or is not from the trusted CA, or offers no TLS)
gets nothing, while the good decoy (its certificate names ``db.example.com``) gets the token.

Each refusal must come from the driver after dialling (``decoy.connections >= 1``): a
``ConfigurationError`` or ``TypeError`` here would mean ``address=`` is not supported at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from rds_iam_auth import ConfigurationError

from ._common import TOKEN, USER, Kit, assert_no_leak, psycopg, pymysql
from .decoys import ATTACK_MODES, Decoy

ENDPOINT = "db.example.com"
DRIVERS = {"psycopg": ("pg", 5432), "pymysql": ("mysql", 3306)}
IMPOSTORS = (*ATTACK_MODES, "ip-only")
"""``ip-only`` is trusted and valid for 127.0.0.1, the dialled address, but not for the endpoint."""


def _connect(kit: Kit, driver: str, decoy: Decoy) -> Any:
    return kit.connector.connect(
        ENDPOINT, USER, driver=driver, port=DRIVERS[driver][1], address=f"127.0.0.1:{decoy.port}"
    )


def _connection_error(driver: str) -> type[BaseException]:
    return psycopg.OperationalError if driver == "psycopg" else pymysql.err.OperationalError


@pytest.mark.parametrize("mode", IMPOSTORS)
@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_address_to_a_decoy_never_leaks(kit: Kit, driver: str, mode: str) -> None:
    decoy = kit.decoy(DRIVERS[driver][0], mode)
    with pytest.raises(_connection_error(driver)):
        _connect(kit, driver, decoy).close()
    assert decoy.connections >= 1, "address= did not dial the decoy"
    assert_no_leak(decoy)


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_address_to_the_good_server_signs_for_the_endpoint(kit: Kit, driver: str) -> None:
    protocol, port = DRIVERS[driver]
    decoy = kit.decoy(protocol, "good")
    with pytest.raises(_connection_error(driver)):  # the decoy refuses every login
        _connect(kit, driver, decoy).close()
    assert decoy.passwords
    assert set(decoy.passwords) == {TOKEN}
    assert decoy.tls_handshakes_completed == len(decoy.passwords)
    endpoint, user, _now = kit.signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (ENDPOINT, port, USER)


@pytest.mark.parametrize("driver", sorted(DRIVERS))
@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:1 sslmode=disable", "127.0.0.1,127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ""],
)
def test_malformed_address_is_refused(kit: Kit, driver: str, address: str) -> None:
    with pytest.raises(ConfigurationError, match="address"):
        kit.connector.connect(
            ENDPOINT, USER, driver=driver, port=DRIVERS[driver][1], address=address
        )
