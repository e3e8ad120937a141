"""Regions and RDS host names: every partition in botocore's partitions.json, exact matching.

endpoint.py hard-codes the partitions' DNS suffixes and a region shape (importing botocore there
would make ``import rds_iam_auth`` load it); these tests read botocore's own data so that a
botocore release with a new partition, region or region naming scheme fails CI.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from botocore.loaders import create_loader

from rds_iam_auth import ConfigurationError, Connector, Endpoint, endpoint, parse_endpoint
from rds_iam_auth.endpoint import region_from_host, validate_region
from rds_iam_auth.testing import StaticSigner


def _partitions() -> list[dict[str, Any]]:
    data: dict[str, Any] = create_loader().load_data("partitions")
    partitions: list[dict[str, Any]] = data["partitions"]
    assert partitions, "botocore's partitions.json lists no partitions"
    return partitions


PARTITIONS = _partitions()


def _real_regions(partition: dict[str, Any]) -> list[str]:
    # The listed regions that match the partition's own regionRegex; the others are pseudo
    # regions for global service endpoints (`aws-global`), checked separately below.
    regex = re.compile(partition["regionRegex"])
    return [name for name in partition["regions"] if regex.fullmatch(name)]


REGIONS = [(p["id"], p["outputs"]["dnsSuffix"], r) for p in PARTITIONS for r in _real_regions(p)]
HOST_FORMS = ("mydb.abc123xyz.{region}.rds.{suffix}", "mydb.abc123xyz.rds.{region}.{suffix}")


def _examples(region_regex: str) -> list[str]:
    """Concrete names for a regionRegex such as ``^(us|eu)\\-\\w+\\-\\d+$``."""
    pieces: list[list[str]] = []
    rest = region_regex.removeprefix("^").removesuffix("$")
    token = re.compile(r"\\-|\\w\+|\\d\+|\(([a-z0-9|]+)\)|[a-z0-9]+")
    while rest:
        match = token.match(rest)
        assert match, f"unexpected syntax in regionRegex {region_regex!r} at {rest!r}"
        text = match.group(0)
        if match.group(1):
            pieces.append(match.group(1).split("|"))
        else:
            pieces.append([{"\\-": "-", "\\w+": "north", "\\d+": "7"}.get(text, text)])
        rest = rest[match.end() :]
    return ["".join(parts) for parts in itertools.product(*pieces)]


@pytest.mark.parametrize("partition", PARTITIONS, ids=lambda p: p["id"])
def test_every_partition_dns_suffix_is_known(partition: dict[str, Any]) -> None:
    assert partition["outputs"]["dnsSuffix"] in endpoint._DNS_SUFFIXES, (
        f"partition {partition['id']!r}: add its dnsSuffix to _DNS_SUFFIXES in endpoint.py"
    )


@pytest.mark.parametrize(("partition", "suffix", "region"), REGIONS)
def test_every_listed_region_is_valid(partition: str, suffix: str, region: str) -> None:
    assert validate_region(region) == region


@pytest.mark.parametrize("partition", PARTITIONS, ids=lambda p: p["id"])
def test_every_region_regex_shape_is_valid(partition: dict[str, Any]) -> None:
    examples = _examples(partition["regionRegex"])
    assert examples
    for region in examples:
        assert re.fullmatch(partition["regionRegex"], region)
        assert validate_region(region) == region


@pytest.mark.parametrize("partition", PARTITIONS, ids=lambda p: p["id"])
def test_only_global_pseudo_regions_are_left_out(partition: dict[str, Any]) -> None:
    others = set(partition["regions"]) - set(_real_regions(partition))
    assert all(name.endswith("-global") for name in others), others
    for name in others:  # not a region an RDS token can be signed for
        with pytest.raises(ValueError, match="region"):
            validate_region(name)


@pytest.mark.parametrize("form", HOST_FORMS, ids=["region.rds", "rds.region"])
@pytest.mark.parametrize(("partition", "suffix", "region"), REGIONS)
def test_rds_hosts_of_every_partition_infer_the_region(
    partition: str, suffix: str, region: str, form: str
) -> None:
    host = form.format(region=region, suffix=suffix)
    assert parse_endpoint(host, 5432) == Endpoint(host, 5432, region, "instance")
    assert region_from_host(host.upper() + ".") == region
    cluster = host.replace(".abc123xyz.", ".cluster-ro-abc123xyz.")
    assert parse_endpoint(cluster, 3306).kind == "cluster-ro"
    proxy = host.replace("mydb.abc123xyz.", "ro.endpoint.proxy-abc123xyz.")
    assert parse_endpoint(proxy, 5432) == Endpoint(proxy, 5432, region, "proxy-endpoint")


@pytest.mark.parametrize("form", HOST_FORMS, ids=["region.rds", "rds.region"])
@pytest.mark.parametrize(("partition", "suffix", "region"), REGIONS)
def test_look_alikes_in_every_partition_have_no_region(
    partition: str, suffix: str, region: str, form: str
) -> None:
    host = form.format(region=region, suffix=suffix)
    for look_alike in (
        f"{host}.example.com",
        f"{host}x",
        host.replace(f".{suffix}", f".x{suffix}"),
        host.replace(".rds.", ".rdsx."),
        host.removeprefix("mydb."),
    ):
        assert region_from_host(look_alike) is None, look_alike
        assert parse_endpoint(look_alike, 5432, "us-east-1").kind == "custom"


RDS_HOST = "mydb.abc.us-east-1.rds.amazonaws.com"


@pytest.mark.parametrize("region", ["us-east-1\n", "eu-west-2\n", "us-east-1\x00", "\nus-east-1"])
def test_region_with_a_newline_or_nul_is_refused(region: str) -> None:
    # `re.match` with `$` let "us-east-1\n" through, and it was signed into the token.
    with pytest.raises(ConfigurationError, match="region"):
        validate_region(region)
    with pytest.raises(ConfigurationError, match="region"):
        parse_endpoint(RDS_HOST, 5432, region)
    with pytest.raises(ConfigurationError, match="region"):
        Connector(signer=StaticSigner("t"), region=region, ca="certifi")


@pytest.mark.parametrize("suffix", ["\n", "\x00", "\n.example.com"])
def test_region_from_host_is_anchored_at_the_very_end(suffix: str) -> None:
    assert region_from_host(RDS_HOST) == "us-east-1"
    assert region_from_host(RDS_HOST + suffix) is None
