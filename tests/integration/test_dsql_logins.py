"""Real Aurora DSQL logins through the emulator's DSQL mode, over verified TLS.

The PostgreSQL server answers as ``abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws``: its
verifier checks DSQL tokens (service ``dsql``, no port, ``DbConnectAdmin`` for ``admin`` and
``DbConnect`` for other roles) and its certificate names that host. The connector signs for
the DSQL host name, TLS verifies that name (verify-full) and the socket goes to
``address="127.0.0.1:<port>"``, as through a tunnel to a real cluster.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest

from rds_iam_auth import Connector, Endpoint
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.signer import SigV4Signer, generate_dsql_token
from rds_iam_auth.testing import StaticSigner
from tests.emulator import LONG_TERM, TEMPORARY, Emulator, FakeKey
from tests.emulator.harness import DsqlInfo

from .async_drivers import ASYNC_PROFILES, close
from .async_drivers import whoami as whoami_async
from .drivers import PROFILES, whoami

pytestmark = pytest.mark.integration

SYNC_DRIVERS = ("psycopg", "psycopg2", "pg8000")
ASYNC_DRIVERS = ("asyncpg", "psycopg")
ROLES = ("admin", "role")


@pytest.fixture
def dsql(emulator: Emulator) -> DsqlInfo:
    return emulator.dsql


def _user(dsql: DsqlInfo, role: str) -> str:
    return dsql.admin_user if role == "admin" else dsql.role_user


def _connector(dsql: DsqlInfo, key: FakeKey = LONG_TERM, **kwargs: Any) -> Connector:
    # No region=: it comes from the DSQL host name.
    return Connector(credentials=key.botocore_credentials(), ca=dsql.ca_path, **kwargs)


def _open(connector: Connector, dsql: DsqlInfo, user: str, driver: str) -> Any:
    return connector.connect(
        dsql.host,
        user,
        driver=driver,
        address=dsql.address,
        **{PROFILES[driver].db_key: dsql.database},
    )


def _verdicts(emulator: Emulator, before: int) -> list[str]:
    return emulator.verifier_log("postgres")[before:]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("driver", SYNC_DRIVERS)
def test_login_as_admin_and_as_a_role(
    emulator: Emulator, dsql: DsqlInfo, driver: str, role: str
) -> None:
    user = _user(dsql, role)
    before = len(emulator.verifier_log("postgres"))
    with _connector(dsql) as connector:
        conn = _open(connector, dsql, user, driver)
        try:
            server_user, tls = whoami(conn, "postgres")
        finally:
            conn.close()
        token = connector.token(dsql.host, 5432, user)  # the cached one the login used
        assert connector.stats.signings == 1
        assert connector.stats.retries == 0
    assert server_user == user
    assert tls.startswith("TLSv1.")
    action = "DbConnectAdmin" if role == "admin" else "DbConnect"
    # No port and no user in a DSQL token, though the server listens on another port.
    assert token.value.startswith(f"{dsql.host}/?Action={action}&X-Amz-Algorithm=")
    assert "DBUser" not in token.value
    assert f"%2F{dsql.region}%2Fdsql%2Faws4_request" in token.value
    assert _verdicts(emulator, before) == [f"ACCEPTED user={user!r} key={LONG_TERM.access_key}"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("driver", ASYNC_DRIVERS)
def test_async_login_as_admin_and_as_a_role(
    emulator: Emulator, dsql: DsqlInfo, driver: str, role: str
) -> None:
    user = _user(dsql, role)
    profile = ASYNC_PROFILES[driver]
    before = len(emulator.verifier_log("postgres"))

    async def main() -> tuple[str, bool]:
        with _connector(dsql, TEMPORARY) as connector:
            conn = await connector.connect_async(
                dsql.host,
                user,
                driver=driver,
                address=dsql.address,
                **{profile.db_key: dsql.database},
            )
            try:
                return await whoami_async(conn, driver)
            finally:
                await close(conn, driver)

    assert asyncio.run(main()) == (user, True)
    assert _verdicts(emulator, before) == [f"ACCEPTED user={user!r} key={TEMPORARY.access_key}"]


def test_admin_and_role_tokens_are_cached_apart(emulator: Emulator, dsql: DsqlInfo) -> None:
    with _connector(dsql) as connector:
        for _ in range(2):
            for role in ROLES:
                _open(connector, dsql, _user(dsql, role), "psycopg").close()
        assert connector.stats.signings == 2
        assert connector.stats.cache_hits == 2


@pytest.mark.parametrize(("role", "forced"), [("admin", "DbConnect"), ("role", "DbConnectAdmin")])
@pytest.mark.parametrize("driver", SYNC_DRIVERS)
def test_the_wrong_action_is_refused(
    emulator: Emulator, dsql: DsqlInfo, driver: str, role: str, forced: Any
) -> None:
    user = _user(dsql, role)
    profile = PROFILES[driver]
    signer = SigV4Signer(
        CredentialSource(credentials=LONG_TERM.botocore_credentials()), dsql_action=forced
    )
    before = len(emulator.verifier_log("postgres"))
    with Connector(signer=signer, ca=dsql.ca_path) as connector:
        with pytest.raises(profile.refused_class()) as info:
            _open(connector, dsql, user, driver)
        assert connector.stats.retries == 1  # the connector retried once with a fresh token
    assert profile.refused(info.value)
    want = "DbConnectAdmin" if role == "admin" else "DbConnect"
    refusal = f"REFUSED user={user!r}: Action is {forced!r}, not {want!r} for {user!r}"
    assert _verdicts(emulator, before) == [refusal, refusal]


def test_a_week_long_token_is_accepted(emulator: Emulator, dsql: DsqlInfo) -> None:
    signer = SigV4Signer(
        CredentialSource(credentials=LONG_TERM.botocore_credentials()), expires_in_s=604_800
    )
    with Connector(signer=signer, ca=dsql.ca_path) as connector:
        _open(connector, dsql, dsql.role_user, "psycopg").close()
        token = connector.token(dsql.host, 5432, dsql.role_user)
    assert "&X-Amz-Expires=604800&" in token.value
    assert (token.expires_at - token.signed_at).total_seconds() == 604_800


def _static_login(emulator: Emulator, dsql: DsqlInfo, token: str, user: str) -> list[str]:
    before = len(emulator.verifier_log("postgres"))
    connector = Connector(signer=StaticSigner(token), ca=dsql.ca_path)
    with connector, pytest.raises(PROFILES["psycopg"].refused_class()) as info:
        _open(connector, dsql, user, "psycopg")
    assert PROFILES["psycopg"].refused(info.value)
    return _verdicts(emulator, before)


def test_an_rds_token_for_the_dsql_host_is_refused(emulator: Emulator, dsql: DsqlInfo) -> None:
    # The same host signed the RDS way (rds-db, host:port, DBUser): not a DSQL token.
    signer = SigV4Signer(CredentialSource(credentials=LONG_TERM.botocore_credentials()))
    rds_like = Endpoint(dsql.host, 5432, dsql.region, "custom")
    token = signer.sign(rds_like, dsql.admin_user, now=datetime.now(timezone.utc)).value
    assert token.startswith(f"{dsql.host}:5432/?Action=connect&DBUser=admin&")
    verdicts = _static_login(emulator, dsql, token, dsql.admin_user)
    assert len(verdicts) == 2
    assert all("signed for endpoint" in v for v in verdicts), verdicts


def test_a_token_for_another_cluster_is_refused(emulator: Emulator, dsql: DsqlInfo) -> None:
    other = dsql.host.replace("abcdefghij", "zzzzzzzzzz")
    token = generate_dsql_token(
        other, credentials=LONG_TERM.botocore_credentials(), now=datetime.now(timezone.utc)
    )
    verdicts = _static_login(emulator, dsql, token, dsql.role_user)
    assert len(verdicts) == 2
    assert all(f"signed for endpoint {other!r}" in v for v in verdicts), verdicts


def test_tls_verifies_the_dsql_name_before_the_token_is_sent(
    emulator: Emulator, dsql: DsqlInfo
) -> None:
    before = len(emulator.verifier_log("postgres"))
    errors = PROFILES["psycopg"].connection_errors()
    # certifi, the default CA for DSQL hosts, does not know the emulator's CA.
    default_ca = Connector(credentials=LONG_TERM.botocore_credentials())
    with default_ca, pytest.raises(errors, match="certificate verify failed"):
        _open(default_ca, dsql, dsql.admin_user, "psycopg")
    # The emulator's CA, but a cluster name its certificate does not carry.
    other = dsql.host.replace("abcdefghij", "zzzzzzzzzz")
    with _connector(dsql) as connector, pytest.raises(errors):
        connector.connect(other, dsql.admin_user, driver="psycopg", address=dsql.address)
    assert _verdicts(emulator, before) == []  # no token reached the server
