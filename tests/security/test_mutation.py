"""Objects the library hands out cannot weaken TLS for any later connection.

``connect_kwargs()`` returns the driver's keywords, PyMySQL's ``ssl`` context among them, and a
PyMySQL connection keeps that context as ``conn.ctx``. Loading the RDS bundle is slow, so the
library reuses contexts; if the one it returns is the one it reuses, a caller that "just turns
off the host name check for this one tunnel" turns it off for every connection in the process.
Each test uses a CA bundle of its own (``private_ca``), so a leak here cannot spill into others.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable

import pytest

from ._common import TOKEN, USER, Kit, assert_attempt_refused, connect_to, psycopg, pymysql

Mutation = Callable[[ssl.SSLContext, Kit], None]


def _no_hostname_check(context: ssl.SSLContext, kit: Kit) -> None:
    context.check_hostname = False


def _cert_none(context: ssl.SSLContext, kit: Kit) -> None:
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE


def _trust_rogue(context: ssl.SSLContext, kit: Kit) -> None:
    context.load_verify_locations(kit.rogue_ca)


MUTATIONS = [
    pytest.param(_no_hostname_check, "wrong-name", id="check_hostname=False"),
    pytest.param(_cert_none, "wrong-name", id="CERT_NONE-wrong-name"),
    pytest.param(_cert_none, "untrusted", id="CERT_NONE-untrusted"),
    pytest.param(_trust_rogue, "untrusted", id="load_verify_locations(rogue)"),
]
SAME_OR_ANOTHER = pytest.mark.parametrize("same", [True, False], ids=["same", "another"])


def _mutate(mutation: Mutation, context: ssl.SSLContext, kit: Kit) -> None:
    """Apply ``mutation``; a context that refuses to be changed is one way to pass."""
    with contextlib.suppress(AttributeError, TypeError, ValueError, ssl.SSLError):
        mutation(context, kit)


@SAME_OR_ANOTHER
@pytest.mark.parametrize(("mutation", "mode"), MUTATIONS)
def test_mutating_connect_kwargs_ssl_weakens_nothing(
    kit: Kit, mutation: Mutation, mode: str, same: bool
) -> None:
    decoy = kit.decoy("mysql", mode)
    first = kit.new_connector(kit.private_ca())
    kwargs = first.connect_kwargs(decoy.host, USER, driver="pymysql", port=decoy.port)
    _mutate(mutation, kwargs["ssl"], kit)
    target = first if same else kit.new_connector(kit.private_ca())
    assert_attempt_refused(connect_to(target, decoy, "pymysql"), decoy)


@SAME_OR_ANOTHER
@pytest.mark.parametrize(("mutation", "mode"), MUTATIONS)
def test_mutating_a_connections_ctx_weakens_nothing(
    kit: Kit, mutation: Mutation, mode: str, same: bool
) -> None:
    decoy = kit.decoy("mysql", mode)
    first = kit.new_connector(kit.private_ca())
    # The connector refuses defer_connect=, but a caller can hand the kwargs to PyMySQL with
    # it and reach the context PyMySQL keeps as conn.ctx.
    kwargs = first.connect_kwargs(decoy.host, USER, driver="pymysql", port=decoy.port)
    conn = pymysql.connect(**kwargs, defer_connect=True)
    assert conn.ctx is kwargs["ssl"]
    _mutate(mutation, conn.ctx, kit)
    target = first if same else kit.new_connector(kit.private_ca())
    assert_attempt_refused(connect_to(target, decoy, "pymysql"), decoy)


@pytest.mark.parametrize("mode", ["plaintext", "wrong-name", "untrusted"])
def test_mutating_psycopg_connect_kwargs_weakens_nothing(kit: Kit, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    kwargs = kit.connector.connect_kwargs(decoy.host, USER, driver="psycopg", port=decoy.port)
    kwargs.update(sslmode="disable", sslrootcert=kit.rogue_ca, requiressl="0")
    assert_attempt_refused(connect_to(kit.connector, decoy, "psycopg"), decoy)


def test_pymysql_connect_kwargs_positive_path(kit: Kit) -> None:
    # The kwargs as returned, handed to PyMySQL by the caller: verified TLS to the good decoy,
    # which then receives exactly the token. This is what the refusals above are measured by.
    decoy = kit.decoy("mysql", "good")
    connector = kit.new_connector(kit.private_ca())
    kwargs = connector.connect_kwargs(decoy.host, USER, driver="pymysql", port=decoy.port)
    with pytest.raises(pymysql.err.OperationalError) as info:
        pymysql.connect(**kwargs)
    assert info.value.args[0] == 1045
    assert decoy.passwords == [TOKEN]
    assert decoy.tls_handshakes_completed == 1


def test_psycopg_connect_kwargs_positive_path(kit: Kit) -> None:
    decoy = kit.decoy("pg", "good")
    kwargs = kit.connector.connect_kwargs(decoy.host, USER, driver="psycopg", port=decoy.port)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**kwargs)
    assert decoy.passwords == [TOKEN]
    assert decoy.tls_handshakes_completed == 1
