"""parse_endpoint: region inference from every RDS host form (DESIGN.md §5) and input checks."""

from __future__ import annotations

import pytest

import rds_iam_auth
from rds_iam_auth import ConfigurationError, Endpoint, RegionNotFoundError, parse_endpoint

# (host, region, kind) for every documented host form.
HOSTS = [
    # Standard partition: <name>.<prefix?><id>.<region>.rds.amazonaws.com
    ("mydb.c9akciq32.us-east-1.rds.amazonaws.com", "us-east-1", "instance"),
    ("db-1.abcdefghij12.eu-central-1.rds.amazonaws.com", "eu-central-1", "instance"),
    ("pg.123456789012.ap-southeast-2.rds.amazonaws.com", "ap-southeast-2", "instance"),
    ("aurora.cluster-c9akciq32.us-west-2.rds.amazonaws.com", "us-west-2", "cluster"),
    ("aurora.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com", "eu-west-1", "cluster-ro"),
    (
        "analytics.cluster-custom-c9akciq32.ap-northeast-1.rds.amazonaws.com",
        "ap-northeast-1",
        "cluster-custom",
    ),
    ("myproxy.proxy-c9akciq32.us-east-2.rds.amazonaws.com", "us-east-2", "proxy"),
    (
        "reader.endpoint.proxy-c9akciq32.sa-east-1.rds.amazonaws.com",
        "sa-east-1",
        "proxy-endpoint",
    ),
    ("limitless.shardgrp-c9akciq32.us-east-1.rds.amazonaws.com", "us-east-1", "shard-group"),
    ("mydb.abc.me-central-1.rds.amazonaws.com", "me-central-1", "instance"),
    ("mydb.abc.il-central-1.rds.amazonaws.com", "il-central-1", "instance"),
    # China: the same forms ending .amazonaws.com.cn
    ("mydb.c9akciq32.cn-north-1.rds.amazonaws.com.cn", "cn-north-1", "instance"),
    ("aurora.cluster-c9akciq32.cn-northwest-1.rds.amazonaws.com.cn", "cn-northwest-1", "cluster"),
    (
        "aurora.cluster-ro-c9akciq32.cn-north-1.rds.amazonaws.com.cn",
        "cn-north-1",
        "cluster-ro",
    ),
    ("p.proxy-c9akciq32.cn-north-1.rds.amazonaws.com.cn", "cn-north-1", "proxy"),
    (
        "ro.endpoint.proxy-c9akciq32.cn-northwest-1.rds.amazonaws.com.cn",
        "cn-northwest-1",
        "proxy-endpoint",
    ),
    # GovCloud: standard form with a us-gov-* region, or rds.<region>.amazonaws.com
    ("mydb.c9akciq32.us-gov-west-1.rds.amazonaws.com", "us-gov-west-1", "instance"),
    ("aurora.cluster-c9akciq32.us-gov-east-1.rds.amazonaws.com", "us-gov-east-1", "cluster"),
    ("mydb.c9akciq32.rds.us-gov-west-1.amazonaws.com", "us-gov-west-1", "instance"),
    ("aurora.cluster-ro-c9akciq32.rds.us-gov-east-1.amazonaws.com", "us-gov-east-1", "cluster-ro"),
    ("p.proxy-c9akciq32.rds.us-gov-west-1.amazonaws.com", "us-gov-west-1", "proxy"),
    # ISO partitions
    ("mydb.c9akciq32.rds.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "instance"),
    ("aurora.cluster-c9akciq32.rds.us-iso-west-1.c2s.ic.gov", "us-iso-west-1", "cluster"),
    ("mydb.c9akciq32.rds.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "instance"),
    (
        "aurora.cluster-custom-c9akciq32.rds.us-isob-east-1.sc2s.sgov.gov",
        "us-isob-east-1",
        "cluster-custom",
    ),
]


@pytest.mark.parametrize(("host", "region", "kind"), HOSTS)
def test_region_and_kind_from_host(host: str, region: str, kind: str) -> None:
    endpoint = parse_endpoint(host, 5432)
    assert endpoint == Endpoint(host, 5432, region, kind)  # type: ignore[arg-type]
    assert endpoint.key_host == host


@pytest.mark.parametrize(("host", "region", "kind"), HOSTS)
def test_upper_case_and_trailing_dot_are_kept_for_signing(
    host: str, region: str, kind: str
) -> None:
    for variant in (host.upper(), host + ".", host.upper() + ".", host.title()):
        endpoint = parse_endpoint(variant, 3306)
        assert endpoint.host == variant  # signed exactly as given
        assert endpoint.region == region
        assert endpoint.kind == kind
        assert endpoint.key_host == host


@pytest.mark.parametrize(("host", "region", "kind"), HOSTS)
def test_explicit_region_wins(host: str, region: str, kind: str) -> None:
    other = "ap-south-1" if region != "ap-south-1" else "us-east-1"
    endpoint = parse_endpoint(host, 5432, other)
    assert endpoint.region == other
    assert endpoint.kind == kind
    assert endpoint.host == host


def test_parse_endpoint_is_the_public_one() -> None:
    assert rds_iam_auth.parse_endpoint is parse_endpoint
    assert rds_iam_auth.Endpoint is Endpoint


def test_endpoint_is_frozen() -> None:
    endpoint = parse_endpoint("mydb.abc.us-east-1.rds.amazonaws.com", 5432)
    with pytest.raises(AttributeError):
        endpoint.port = 1  # type: ignore[misc]


NO_REGION_HOSTS = [
    "localhost",
    "127.0.0.1",
    "10.0.12.34",
    "db.internal.example.com",
    "mydb",
    # look-alikes: anchored patterns treat them as custom DNS names
    "x.abc.us-east-1.rds.amazonaws.com.example.com",
    "x.abc.us-east-1.rds.amazonaws.com.evil.com.",
    "rds.amazonaws.com",
    "us-east-1.rds.amazonaws.com",
    "x.abc.us-east-1.rds.amazonaws.org",
    "x.abc.us-east-1.rds.amazonaws.com.cn.example.com",
]


@pytest.mark.parametrize("host", NO_REGION_HOSTS)
def test_no_region_for_non_rds_hosts(host: str) -> None:
    with pytest.raises(RegionNotFoundError) as info:
        parse_endpoint(host, 5432)
    message = str(info.value)
    assert host in message
    assert "region=" in message  # says how to pass one
    assert isinstance(info.value, ConfigurationError)


@pytest.mark.parametrize("host", NO_REGION_HOSTS)
def test_non_rds_hosts_with_explicit_region(host: str) -> None:
    endpoint = parse_endpoint(host, 5432, region="eu-west-2")
    assert endpoint == Endpoint(host, 5432, "eu-west-2", "custom")


def test_global_writer_endpoint_needs_explicit_region() -> None:
    host = "writer.global-abc123xyz.global.rds.amazonaws.com"
    with pytest.raises(RegionNotFoundError, match="global") as info:
        parse_endpoint(host, 5432)
    assert "region=" in str(info.value)
    endpoint = parse_endpoint(host, 5432, region="us-east-1")
    assert endpoint == Endpoint(host, 5432, "us-east-1", "global")
    assert parse_endpoint(host.upper() + ".", 5432, region="us-east-1").kind == "global"


@pytest.mark.parametrize("port", [1, 443, 3306, 5432, 65535])
def test_valid_ports(port: int) -> None:
    assert parse_endpoint("localhost", port, "us-east-1").port == port


@pytest.mark.parametrize("port", [0, -1, 65536, 10**6])
def test_port_out_of_range(port: int) -> None:
    with pytest.raises(ConfigurationError, match="port") as info:
        parse_endpoint("mydb.abc.us-east-1.rds.amazonaws.com", port)
    assert str(port) in str(info.value)
    assert not isinstance(info.value, RegionNotFoundError)


@pytest.mark.parametrize("port", ["5432", True, False, 5432.0, b"5432", [5432]])
def test_port_of_wrong_type(port: object) -> None:
    with pytest.raises(ConfigurationError, match="port") as info:
        parse_endpoint("mydb.abc.us-east-1.rds.amazonaws.com", port)  # type: ignore[arg-type]
    assert "int" in str(info.value)


def test_port_is_required() -> None:
    with pytest.raises(ConfigurationError, match="port"):
        parse_endpoint("mydb.abc.us-east-1.rds.amazonaws.com")


@pytest.mark.parametrize(
    "host",
    [
        "",
        "   ",
        "postgresql://mydb.abc.us-east-1.rds.amazonaws.com",
        "https://mydb.abc.us-east-1.rds.amazonaws.com",
        "mydb.abc.us-east-1.rds.amazonaws.com/postgres",
        "mydb.abc.us-east-1.rds.amazonaws.com?sslmode=disable",
        "user@mydb.abc.us-east-1.rds.amazonaws.com",
        "mydb.abc.us-east-1.rds.amazonaws.com:5432",
        " mydb.abc.us-east-1.rds.amazonaws.com",
        "mydb.abc.us-east-1.rds.amazonaws.com\n",
        "my db.abc.us-east-1.rds.amazonaws.com",
        "::1",
        ".",
        "..",
        "mydb..us-east-1.rds.amazonaws.com",
        ".mydb.abc.us-east-1.rds.amazonaws.com",
        "mydb.abc.us-east-1.rds.amazonaws.com..",
        "a" * 64 + ".example.com",
        ".".join(["a" * 60] * 5),
    ],
)
def test_bad_host(host: str) -> None:
    with pytest.raises(ConfigurationError, match="host") as info:
        parse_endpoint(host, 5432, "us-east-1")
    assert not isinstance(info.value, RegionNotFoundError)


@pytest.mark.parametrize("host", [None, 123, b"localhost"])
def test_host_of_wrong_type(host: object) -> None:
    with pytest.raises(ConfigurationError, match="host"):
        parse_endpoint(host, 5432, "us-east-1")  # type: ignore[arg-type]


def test_host_is_checked_before_port() -> None:
    with pytest.raises(ConfigurationError, match="host"):
        parse_endpoint("https://x", 0)


@pytest.mark.parametrize(
    "region", ["", "US-EAST-1", "useast1", "us-east", "us_east_1", " us-east-1", 1, "global"]
)
def test_bad_explicit_region(region: object) -> None:
    with pytest.raises(ConfigurationError, match="region"):
        parse_endpoint("mydb.abc.us-east-1.rds.amazonaws.com", 5432, region)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "host",
    [
        "mydb.abc.us-east-1.rds.amazonaws.com.",
        "a" * 63 + ".example.com",
        "db_1.internal",
        "localhost",
        "10.0.0.1",
    ],
)
def test_unusual_but_valid_hosts(host: str) -> None:
    assert parse_endpoint(host, 5432, "us-east-1").host == host
