"""Aurora DSQL without a server: host parsing, dsql_host(), the action, expires_in_s per kind,
the trust group and the Connector path (StaticSigner / SigV4Signer)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import certifi
import pytest
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth import ConfigurationError, Connector, Endpoint, RegionNotFoundError
from rds_iam_auth._dsql import (
    DSQL_ACTIONS,
    MAX_DSQL_EXPIRES_IN_S,
    dsql_action,
    dsql_host,
    validate_dsql_action,
)
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.endpoint import parse_endpoint, region_from_host
from rds_iam_auth.signer import (
    MAX_EXPIRES_IN_S,
    SigV4Signer,
    check_expires_for,
    generate_dsql_token,
    validate_expires_in,
)
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import ca_bundle_path, trust_group

CLUSTER = "abcdefghijklmnopqrstuvwxyz"
HOST = f"{CLUSTER}.dsql.us-east-1.on.aws"
RDS_HOST = "mydb.c9akciq32.us-east-1.rds.amazonaws.com"
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def _signer(**kwargs: object) -> SigV4Signer:
    return SigV4Signer(CredentialSource(credentials=CREDS), **kwargs)  # type: ignore[arg-type]


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "region"),
    [
        (HOST, "us-east-1"),
        (f"{CLUSTER}.dsql.eu-west-2.on.aws", "eu-west-2"),
        (f"{CLUSTER}.dsql-fnh4.us-east-2.on.aws", "us-east-2"),  # PrivateLink form
        (f"{CLUSTER}.dsql-a1b2.ap-northeast-3.on.aws", "ap-northeast-3"),
        ("abc123.dsql.us-west-2.on.aws", "us-west-2"),
        (f"{CLUSTER.upper()}.DSQL.US-EAST-1.ON.AWS.", "us-east-1"),
    ],
)
def test_dsql_hosts_parse_to_kind_dsql(host: str, region: str) -> None:
    endpoint = parse_endpoint(host, 5432)
    assert endpoint == Endpoint(host, 5432, region, "dsql")  # the host is kept as given
    assert region_from_host(host) == region
    assert parse_endpoint(host, 5432, "ca-central-1").region == "ca-central-1"  # region= wins


@pytest.mark.parametrize(
    "host",
    [
        f"{CLUSTER}.dsql.us-east-1.on.aws.example.com",  # look-alikes are custom DNS names
        f"{CLUSTER}.dsql.us-east-1.on.aws.evil.com.",
        "dsql.us-east-1.on.aws",
        f"x.{CLUSTER}.dsql.us-east-1.on.aws",
        f"{CLUSTER}.dsql.us-east-1.on.aws.cn",
        f"{CLUSTER}.dsql.useast1.on.aws",
        f"{CLUSTER}.notdsql.us-east-1.on.aws",
        f"{CLUSTER}.dsql-.us-east-1.on.aws",
        f"{CLUSTER}.dsql.us-east-1.api.aws",  # the control-plane API, not a cluster
    ],
)
def test_look_alikes_are_not_dsql(host: str) -> None:
    with pytest.raises(RegionNotFoundError, match="region="):
        parse_endpoint(host, 5432)
    assert parse_endpoint(host, 5432, "us-east-1").kind == "custom"


def test_dsql_host_builds_the_cluster_endpoint() -> None:
    assert dsql_host(CLUSTER, "us-east-1") == HOST
    assert parse_endpoint(dsql_host("AbC9", "eu-west-1"), 5432).kind == "dsql"


@pytest.mark.parametrize(
    ("cluster_id", "region", "says"),
    [
        (HOST, "us-east-1", "not a host name"),
        ("", "us-east-1", "letters and digits"),
        ("abc-def", "us-east-1", "letters and digits"),
        ("a" * 64, "us-east-1", "1..63"),
        (123, "us-east-1", "must be a str"),
        (CLUSTER, "US-EAST-1", "region"),
        (CLUSTER, None, "region"),
    ],
)
def test_dsql_host_refuses_bad_input(cluster_id: object, region: object, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        dsql_host(cluster_id, region)  # type: ignore[arg-type]


# --- the action -----------------------------------------------------------------------------


def test_admin_signs_dbconnectadmin_and_every_other_role_dbconnect() -> None:
    assert dsql_action("admin") == "DbConnectAdmin"
    for user in ("app", "Admin", "ADMIN", "admin ", "administrator", "rds_iam"):
        assert dsql_action(user) == "DbConnect"
    assert dsql_action("app", "DbConnectAdmin") == "DbConnectAdmin"
    assert dsql_action("admin", "DbConnect") == "DbConnect"
    assert DSQL_ACTIONS == ("DbConnect", "DbConnectAdmin")


@pytest.mark.parametrize("bad", ["dbconnect", "connect", "", "DbConnectAdmin ", 1, True])
def test_bad_action_override(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="dsql_action"):
        validate_dsql_action(bad)
    with pytest.raises(ConfigurationError, match="dsql_action"):
        _signer(dsql_action=bad)


def test_signer_signs_each_user_with_its_action() -> None:
    endpoint = parse_endpoint(HOST, 5432)
    admin = _signer().sign(endpoint, "admin", now=NOW)
    role = _signer().sign(endpoint, "app", now=NOW)
    assert admin.value.startswith(f"{HOST}/?Action=DbConnectAdmin&X-Amz-Algorithm=")
    assert role.value.startswith(f"{HOST}/?Action=DbConnect&X-Amz-Algorithm=")
    assert "%2Fus-east-1%2Fdsql%2Faws4_request" in role.value
    assert (admin.user, admin.port, admin.region) == ("admin", 5432, "us-east-1")
    assert "dsql_action='DbConnect'" in repr(_signer(dsql_action="DbConnect"))
    # The override applies to DSQL only: RDS tokens are unchanged by it.
    rds = parse_endpoint(RDS_HOST, 5432)
    forced = _signer(dsql_action="DbConnectAdmin").sign(rds, "admin", now=NOW)
    assert forced.value == _signer().sign(rds, "admin", now=NOW).value
    assert "Action=connect&DBUser=admin&" in forced.value


# --- expires_in_s ---------------------------------------------------------------------------


@pytest.mark.parametrize("expires_in_s", [1, 900, 901, 3600, MAX_DSQL_EXPIRES_IN_S])
def test_dsql_accepts_up_to_a_week(expires_in_s: int) -> None:
    token = _signer(expires_in_s=expires_in_s).sign(parse_endpoint(HOST, 5432), "app", now=NOW)
    assert f"&X-Amz-Expires={expires_in_s}&" in token.value
    assert token.expires_at - token.signed_at == timedelta(seconds=expires_in_s)
    assert f"&X-Amz-Expires={expires_in_s}&" in generate_dsql_token(
        HOST, credentials=CREDS, expires_in_s=expires_in_s, now=NOW
    )


@pytest.mark.parametrize("expires_in_s", [0, -1, MAX_DSQL_EXPIRES_IN_S + 1, 900.0, True, "60"])
def test_bad_expires_in_s_for_dsql(expires_in_s: object) -> None:
    with pytest.raises(ConfigurationError, match="expires_in_s"):
        _signer(expires_in_s=expires_in_s)
    with pytest.raises(ConfigurationError, match="expires_in_s"):
        generate_dsql_token(HOST, credentials=CREDS, expires_in_s=expires_in_s)  # type: ignore[arg-type]


def test_rds_hosts_keep_the_900_second_limit() -> None:
    signer = _signer(expires_in_s=901)
    with pytest.raises(ConfigurationError, match="expires_in_s=901") as info:
        signer.sign(parse_endpoint(RDS_HOST, 5432), "app", now=NOW)
    assert "not an Aurora DSQL host" in str(info.value)
    with pytest.raises(ConfigurationError, match="expires_in_s=3600"):
        rds_iam_auth.generate_auth_token(
            RDS_HOST, 5432, "app", credentials=CREDS, expires_in_s=3600, now=NOW
        )
    assert check_expires_for(parse_endpoint(RDS_HOST, 5432), MAX_EXPIRES_IN_S) == 900
    assert check_expires_for(parse_endpoint(HOST, 5432), MAX_DSQL_EXPIRES_IN_S) == 604_800
    # Unchanged default: 1..900 (StaticSigner and today's Connector check use it).
    with pytest.raises(ConfigurationError, match="between 1 and 900 seconds"):
        validate_expires_in(901)
    assert validate_expires_in(604_800, MAX_DSQL_EXPIRES_IN_S) == 604_800


def test_one_connector_serves_dsql_and_rds_with_the_limit_per_host() -> None:
    connector = Connector(signer=_signer(expires_in_s=3600))
    assert "&X-Amz-Expires=3600&" in connector.token(HOST, 5432, "admin").value
    with pytest.raises(ConfigurationError, match="expires_in_s=3600"):
        connector.token(RDS_HOST, 5432, "app")
    assert connector.stats.signings == 1


def test_the_default_lifetime_is_900_for_both_kinds() -> None:
    for host in (HOST, RDS_HOST):
        token = _signer().sign(parse_endpoint(host, 5432), "app", now=NOW)
        assert token.expires_at == NOW + timedelta(seconds=900)
        assert "&X-Amz-Expires=900&" in token.value


# --- generate_dsql_token ----------------------------------------------------------------------


def test_generate_dsql_token_region_and_host_rules() -> None:
    # Any host with region= (a CNAME in front of the cluster) signs as DSQL.
    token = generate_dsql_token("db.example.com", region="eu-west-1", credentials=CREDS, now=NOW)
    assert token.startswith("db.example.com/?Action=DbConnect&")
    assert "%2Feu-west-1%2Fdsql%2F" in token
    with pytest.raises(RegionNotFoundError):
        generate_dsql_token("db.example.com", credentials=CREDS, now=NOW)
    with pytest.raises(ConfigurationError, match="admin must be True or False"):
        generate_dsql_token(HOST, admin="yes", credentials=CREDS)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="host"):
        generate_dsql_token(f"https://{HOST}", credentials=CREDS)
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        generate_dsql_token(HOST, credentials=CREDS, now=datetime(2024, 1, 1))


def test_generate_auth_token_signs_dsql_hosts_by_user() -> None:
    admin = rds_iam_auth.generate_auth_token(HOST, 5432, "admin", credentials=CREDS, now=NOW)
    role = rds_iam_auth.generate_auth_token(HOST, 9999, "app", credentials=CREDS, now=NOW)
    assert admin == generate_dsql_token(HOST, admin=True, credentials=CREDS, now=NOW)
    assert role == generate_dsql_token(HOST, credentials=CREDS, now=NOW)  # no port in it


# --- the Connector path -----------------------------------------------------------------------


def test_connector_signs_dsql_through_parse_endpoint_and_caches_per_user() -> None:
    signer = StaticSigner(["t-admin", "t-app"])
    connector = Connector(signer=signer, ca="certifi")
    assert connector.token(HOST, 5432, "admin").value == "t-admin"
    assert connector.token(HOST, 5432, "app").value == "t-app"
    assert connector.token(HOST.upper() + ".", 5432, "admin").value == "t-admin"  # cache hit
    assert [(e.kind, e.region, user) for e, user, _ in signer.calls] == [
        ("dsql", "us-east-1", "admin"),
        ("dsql", "us-east-1", "app"),
    ]


def test_connector_with_sigv4_signs_dsql_tokens() -> None:
    connector = Connector(credentials=CREDS)
    token = connector.token(HOST, 5432, "admin")
    assert token.value.startswith(f"{HOST}/?Action=DbConnectAdmin&")
    assert token.region == "us-east-1"


@pytest.mark.parametrize("host", [HOST, f"{CLUSTER}.dsql-fnh4.us-east-1.on.aws"])
def test_dsql_trusts_certifi_by_default(host: str) -> None:
    endpoint = parse_endpoint(host, 5432)
    assert trust_group(endpoint) == "public"
    assert ca_bundle_path(None, endpoint) == certifi.where()
    kwargs = Connector(signer=StaticSigner("t")).connect_kwargs(host, "admin", driver="psycopg")
    assert kwargs["sslrootcert"] == certifi.where()
    assert kwargs["sslmode"] == "verify-full"
    assert kwargs["host"] == host
    assert kwargs["port"] == 5432


def test_connector_expires_in_s_is_per_host() -> None:
    connector = Connector(credentials=CREDS, expires_in_s=3600)
    assert "&X-Amz-Expires=3600&" in connector.token(HOST, 5432, "admin").value
    with pytest.raises(ConfigurationError, match="expires_in_s=3600"):
        connector.token(RDS_HOST, 5432, "app")
    assert connector.stats.signings == 1  # refused before signing
    with pytest.raises(ConfigurationError, match="604800"):
        Connector(credentials=CREDS, expires_in_s=604_801)
