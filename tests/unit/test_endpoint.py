"""parse_endpoint: region inference from every RDS host form (DESIGN.md §5) and input checks."""

from __future__ import annotations

import pytest

import rds_iam_auth
from rds_iam_auth import ConfigurationError, Endpoint, RegionNotFoundError, parse_endpoint
from rds_iam_auth.signer import validate_user
from rds_iam_auth.testing import StaticSigner

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
        "xn--bcher-kva.example",
        "localhost",
        "10.0.0.1",
    ],
)
def test_unusual_but_valid_hosts(host: str) -> None:
    assert parse_endpoint(host, 5432, "us-east-1").host == host


# --- what a host or user must not contain (security review) ---------------------------------

RDS_HOST = "mydb.abc.us-east-1.rds.amazonaws.com"
CONTROL = ["\x00", "\x01", "\x08", "\x1b", "\x1f", "\t", "\n", "\r", "\x7f"]
IPV6_HINT = 'host name as host and dial the IPv6 address with address="[::1]:5432"'
NON_ASCII = ["bücher.example", "\uff4d\uff59\uff44\uff42.example", "db\u3002example.com", "x.cöm"]
CONTROL_HOSTS = [(c + RDS_HOST, RDS_HOST.replace(".", c, 1), RDS_HOST + c) for c in CONTROL]
IPV6 = ["::1", "[::1]", "2001:db8::5", "[2001:db8::5]:5432", "fe80::1%eth0", "::ffff:10.0.0.1"]
# (host, what the message says). libpq stops reading its conninfo at a NUL (dropping the TLS
# settings after it) and dials each host of a comma-separated list with the token.
REFUSED_HOSTS = [
    *((h, "host must not contain control characters") for hs in CONTROL_HOSTS for h in hs),
    *((h, "one host per connection") for h in ["a.example,b.example", f"{RDS_HOST},x", ",a"]),
    *((h, "punycode (xn--) form") for h in NON_ASCII),
    ("bücher.example", "form, e.g. 'xn--bcher-kva.example'"),
    *((h, IPV6_HINT) for h in IPV6),
    (f"{RDS_HOST}:5432", f"pass host='{RDS_HOST}', port=5432 separately"),
    ("db.example:x", "pass the port separately with port="),
    *((f"db{c}1.example.com", "not valid in a host name") for c in ";'\"\\=%*!#[](){}<>|&$+^~`"),
]


def _static_connector() -> rds_iam_auth.Connector:
    return rds_iam_auth.Connector(signer=StaticSigner("tok"), ca="certifi")


@pytest.mark.parametrize(("host", "says"), REFUSED_HOSTS)
def test_refused_hosts_say_why(host: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_endpoint(host, 5432, "us-east-1")
    assert says in str(info.value)
    with pytest.raises(ConfigurationError, match="host"):
        _static_connector().token(host, 5432, "app", region="us-east-1")


@pytest.mark.parametrize(
    "host",
    ["postgresql://u:s3cret@db/x", "host=db password=s3cret", "a\x00password=s3cret", "a;b=s3cret"],
)
def test_refused_host_messages_do_not_echo_it(host: str) -> None:
    # A URL or a conninfo string passed as the host may carry a password.
    with pytest.raises(ConfigurationError, match="host") as info:
        parse_endpoint(host, 5432, "us-east-1")
    assert "s3cret" not in str(info.value)


# A lone surrogate is what undecodable bytes from os.environ become; it cannot be signed.
@pytest.mark.parametrize(
    ("char", "says"),
    [*((c, "must not contain control characters") for c in CONTROL), ("\udcff", "is not valid")],
)
def test_bad_characters_in_user_are_refused(char: str, says: str) -> None:
    user = f"iam{char}user"
    with pytest.raises(ConfigurationError, match=f"user {says}"):
        validate_user(user)
    with pytest.raises(ConfigurationError, match="user"):
        _static_connector().token(RDS_HOST, 5432, user)
    with pytest.raises(ConfigurationError, match="user"):
        rds_iam_auth.generate_auth_token(RDS_HOST, 5432, user)


@pytest.mark.parametrize("user", ["app", "iam user@x", "日本語", "a;b='c'", "%2F", "\N{SNOWMAN}"])
def test_unusual_but_valid_users(user: str) -> None:
    assert validate_user(user) == user
