"""Which DATABASES OPTIONS the Django backends take as ours, and what they refuse by name.

No Django settings are configured here (that can happen once per process): these are the
checks every backend runs on its DATABASES entry, with the plugin's StaticSigner Connector.
"""

from __future__ import annotations

from typing import Any

import pytest

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.integrations.django._options import OURS, parse

pytest_plugins = ["rds_iam_auth.pytest_plugin"]

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def entry(**options: Any) -> dict[str, Any]:
    """A DATABASES entry as Django hands it to a backend."""
    return {"HOST": HOST, "PORT": "5432", "USER": "jane", "NAME": "app", "PASSWORD": "",
            "OPTIONS": options}  # fmt: skip


def refused(settings: dict[str, Any], *, mysql: bool = False) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse(settings, driver="mysqlclient" if mysql else "psycopg", alias="default", mysql=mysql)
    return str(info.value)


def test_our_options_configure_one_shared_connector() -> None:
    first = parse(entry(region="us-west-2", ca="certifi"), driver="psycopg", alias="default")
    again = parse(entry(region="us-west-2", ca="certifi"), driver="psycopg", alias="other")
    other = parse(entry(region="us-west-2", ca="system"), driver="psycopg", alias="default")
    assert first.connector is again.connector  # one token cache per setting, across aliases
    assert other.connector is not first.connector
    assert (first.host, first.port, first.user, first.driver) == (HOST, 5432, "jane", "psycopg")
    assert first.address is None
    assert set(OURS) == {"address", "ca", "connector", "profile", "region", "tls"}


def test_a_connector_instance_carries_the_token(rds_iam_connector: Connector) -> None:
    target = parse(entry(connector=rds_iam_connector), driver="psycopg", alias="default")
    assert target.connector is rds_iam_connector
    # What Django's get_connection_params() returns, our keys included (they are stripped).
    django_params = {"dbname": "app", "client_encoding": "UTF8", "host": HOST, "port": "5432",
                     "user": "jane", "connector": rds_iam_connector}  # fmt: skip
    kwargs = target.connect_kwargs(django_params)
    assert kwargs["password"] == "rds-iam-test-token"
    assert (kwargs["host"], kwargs["port"], kwargs["user"]) == (HOST, 5432, "jane")
    assert kwargs["sslmode"] == "verify-full"
    assert (kwargs["dbname"], kwargs["client_encoding"]) == ("app", "UTF8")
    assert "connector" not in kwargs


def test_driver_options_still_go_through_the_keyword_policy(rds_iam_connector: Connector) -> None:
    target = parse(entry(connector=rds_iam_connector), driver="psycopg", alias="default")
    with pytest.raises(ConfigurationError, match=r"sslmode='disable' would weaken TLS"):
        target.connect_kwargs({"sslmode": "disable"})
    with pytest.raises(ConfigurationError, match=r"unknown or unsupported keyword 'bogus'"):
        target.connect_kwargs({"bogus": 1})


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("regoin", "did you mean 'region'?"),
        ("regions", "did you mean 'region'?"),
        ("adress", "did you mean 'address'?"),
        ("conector", "did you mean 'connector'?"),
        ("use_iam_auth", "this ENGINE always logs in with an IAM token"),
        ("region_name", "use 'region'"),
        ("aws_profile", "use 'profile'"),
        ("cafile", "use 'ca'"),
        ("resolve_cname_enabled", "OPTIONS['address']"),
        ("rds_iam_region", "the name has no prefix: use 'region'"),
    ],
)
def test_misspelled_and_foreign_options_are_refused_by_name(key: str, hint: str) -> None:
    message = refused(entry(**{key: "x"}))
    assert f"DATABASES['default']['OPTIONS'][{key!r}] is not an rds_iam_auth option" in message
    assert hint in message


@pytest.mark.parametrize("key", ["isolation_level", "pool", "assume_role", "sslcert", "options"])
def test_django_and_driver_options_are_not_mistaken_for_ours(key: str) -> None:
    parse(entry(**{key: "x"}), driver="psycopg", alias="default")


@pytest.mark.parametrize(("key", "setting"), [("host", "'HOST'"), ("user", "'USER'")])
def test_target_options_point_at_the_settings_keys(key: str, setting: str) -> None:
    assert f"set DATABASES['default'][{setting}] instead" in refused(entry(**{key: "x"}))


@pytest.mark.parametrize("key", ["password", "passwd"])
def test_a_password_option_is_refused(key: str) -> None:
    assert "remove it; the password is the IAM token" in refused(entry(**{key: "x"}))


def test_none_means_the_default() -> None:
    target = parse(entry(tls=None, region=None, ca="certifi"), driver="psycopg", alias="d")
    assert "tls='verify-full'" in repr(target.connector)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PASSWORD": "secret"}, "['PASSWORD'] must be empty: the password is the IAM token"),
        ({"HOST": ""}, "['HOST'] must be the endpoint's host name"),
        ({"HOST": "/var/run/postgresql"}, "no Unix socket"),
        ({"USER": ""}, "['USER'] must name the database user"),
        ({"PORT": "five"}, "['PORT'] must be a port number"),
    ],
)
def test_settings_that_cannot_work_with_iam(change: dict[str, str], message: str) -> None:
    assert message in refused({**entry(), **change})


def test_port_may_be_empty_int_or_digits() -> None:
    assert parse({**entry(), "PORT": ""}, driver="psycopg", alias="d").port is None
    assert parse({**entry(), "PORT": 6543}, driver="psycopg", alias="d").port == 6543


def test_connector_settings_belong_on_a_given_connector(rds_iam_connector: Connector) -> None:
    message = refused(entry(connector=rds_iam_connector, ca="certifi", region="us-east-1"))
    assert "'ca', 'region' belong on that Connector" in message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "must be a Connector or an import path 'package.module:name'"),
        ("no_such_module_xyz:connector", "cannot import 'no_such_module_xyz:connector'"),
        ("rds_iam_auth:__version__", "is not a Connector (nor returns one)"),
    ],
)
def test_bad_connector_settings(value: object, message: str) -> None:
    assert message in refused(entry(connector=value))


def test_an_import_path_is_resolved_once_per_process() -> None:
    path = "tests.unit.test_django_options:shared_factory"
    first = parse(entry(connector=path), driver="psycopg", alias="a").connector
    assert parse(entry(connector=path), driver="psycopg", alias="b").connector is first
    assert CALLS == [1]


CALLS: list[int] = []


def shared_factory() -> Connector:
    """Named by an import path above: the backend calls it once and keeps the Connector."""
    from rds_iam_auth.testing import StaticSigner

    CALLS.append(1)
    return Connector(signer=StaticSigner("t"), region="us-east-1", ca="certifi")


def test_address_is_refused_for_mysql_with_the_reason() -> None:
    message = refused(entry(address="127.0.0.1:3306"), mysql=True)
    assert "not possible with the MySQL backend: mysqlclient verifies" in message


def test_option_values_of_the_wrong_type() -> None:
    assert "['OPTIONS']['region'] must be a string" in refused(entry(region=1))
    assert "['OPTIONS']['address'] must be a 'host:port' string" in refused(entry(address=1))


def test_no_driver_keyword_looks_like_one_of_ours() -> None:
    """The did-you-mean check must never refuse a keyword the drivers accept."""
    from rds_iam_auth.drivers import mysqlclient, psycopg, psycopg2

    for policy in (psycopg.POLICY, psycopg2.POLICY, mysqlclient.POLICY):
        for key in policy.allowed:
            parse(entry(**{key: None}), driver="psycopg", alias="default")


def test_profile_and_tls_reach_the_connector_and_are_checked_there() -> None:
    # A profile is resolved at the first signing, not when Django builds the backend.
    target = parse(entry(profile="app", tls="verify-ca", ca="certifi"), driver="psycopg", alias="d")
    assert "tls='verify-ca'" in repr(target.connector)
    assert "tls must be 'verify-full' or 'verify-ca'" in refused(entry(tls="require"))
