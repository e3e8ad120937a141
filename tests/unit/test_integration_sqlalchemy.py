"""rds_iam_auth.integrations.sqlalchemy without a server: what install() and the URL plugin
accept and refuse, and that nothing is sent anywhere when they refuse."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from rds_iam_auth import ConfigurationError, Connector
from rds_iam_auth.integrations.sqlalchemy import URL_OPTIONS, RdsIamPlugin, install
from rds_iam_auth.testing import StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
PG = f"postgresql+psycopg://jane@{HOST}/app"
MYSQL = f"mysql+pymysql://jane@{HOST}/app"


def _connector() -> tuple[Connector, StaticSigner]:
    signer = StaticSigner("tok")
    return Connector(signer=signer, ca="certifi"), signer


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://jane@{HOST}:5433/app?application_name=x",
        f"postgresql+psycopg2://jane@{HOST}/app",
        f"postgresql+pg8000://jane@{HOST}/app",
        f"postgresql://jane@{HOST}/app",  # psycopg, SQLAlchemy 2.1's default
        f"mysql+pymysql://jane@{HOST}/app?charset=utf8mb4",
        f"mariadb+pymysql://jane@{HOST}/app",
        f"mysql+mysqlconnector://jane@{HOST}/app",
        f"mysql+mysqldb://jane@{HOST}/app",
    ],
)
def test_install_accepts_every_sync_dialect(url: str) -> None:
    connector, signer = _connector()
    engine = sa.create_engine(url)
    assert install(engine, connector) is connector
    assert signer.calls == []  # nothing signed until a connection is made


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+asyncpg://jane@{HOST}/app?prepared_statement_cache_size=0",
        f"postgresql+psycopg://jane@{HOST}/app",
        f"mysql+aiomysql://jane@{HOST}/app",
        f"mysql+asyncmy://jane@{HOST}/app",
    ],
)
def test_install_accepts_every_async_dialect(url: str) -> None:
    connector, _ = _connector()
    engine = create_async_engine(url)
    assert install(engine, connector) is connector
    asyncio.run(engine.dispose())


def test_install_builds_a_connector_from_its_options() -> None:
    connector = install(sa.create_engine(PG), ca="certifi", tls="verify-ca")
    assert repr(connector).startswith("Connector(region=None, tls='verify-ca', ca='certifi'")


@pytest.mark.parametrize(
    ("engine", "match"),
    [
        (sa.create_engine("sqlite://"), r"sqlite\+pysqlite; use one of postgresql\+psycopg"),
        ("postgresql+psycopg://", "takes a SQLAlchemy Engine or AsyncEngine, not str"),
    ],
)
def test_install_refuses_what_it_cannot_serve(engine: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        install(engine, _connector()[0])


@pytest.mark.parametrize(
    ("url", "match"),
    [
        (f"{PG}?sslmode=disable", "sslmode='disable' would weaken TLS"),
        (f"{MYSQL}?ssl_ca=/tmp/ca.pem", "do not pass ssl=; TLS is the connector's"),
        (f"{PG}?region=us-east-1", "region= in the URL query .* use rds_iam_region="),
        (f"{PG}?hostaddr=10.0.0.1", "pass address='ip:port'"),
        (f"postgresql+psycopg://jane@{HOST},other.example.com/app", "must name one host"),
        (f"postgresql+psycopg://{HOST}/app", "must name the database user"),
    ],
)
def test_url_options_are_checked_at_install(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        install(sa.create_engine(url), _connector()[0])


def test_a_password_in_the_url_is_refused_without_echoing_it() -> None:
    url = f"postgresql+psycopg://jane:hunter2@{HOST}/app"
    with pytest.raises(ConfigurationError, match="remove the password") as refused:
        install(sa.create_engine(url), _connector()[0])
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ConfigurationError, match="remove the password") as refused:
        RdsIamPlugin(make_url(url + "?plugin=rds_iam"), {})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("connect_args", "match"),
    [
        ({"password": "hunter2"}, "remove the password"),
        ({"sslmode": "require"}, "sslmode='require' would weaken TLS"),
        ({"sslkeylogfile": "/tmp/keys"}, "writing TLS session keys"),
    ],
)
def test_connect_args_meet_the_keyword_policy(connect_args: dict[str, str], match: str) -> None:
    engine = sa.create_engine(PG, connect_args=connect_args)
    install(engine, _connector()[0])
    with pytest.raises(ConfigurationError, match=match) as refused:  # before the driver runs
        engine.connect()
    assert "hunter2" not in str(refused.value)


def test_a_url_without_host_takes_it_from_connect_args_at_connect_time() -> None:
    connector, signer = _connector()
    engine = sa.create_engine("postgresql+psycopg://", connect_args={"dbname": "app"})
    install(engine, connector)  # nothing to check yet: SQLAlchemy keeps connect_args
    with pytest.raises(ConfigurationError, match="must name one host"):
        engine.connect()
    assert signer.calls == []


def test_connector_options_belong_on_the_connector() -> None:
    with pytest.raises(ConfigurationError, match=r"ca=, profile= configure a new Connector"):
        install(sa.create_engine(PG), _connector()[0], ca="certifi", profile="dev")
    with pytest.raises(ConfigurationError, match=r"connector must be a rds_iam_auth\.Connector"):
        install(sa.create_engine(PG), "not a connector")  # type: ignore[arg-type]


def test_install_twice_is_refused() -> None:
    engine = sa.create_engine(PG)
    install(engine, _connector()[0])
    with pytest.raises(ConfigurationError, match="already installed"):
        install(engine, _connector()[0])


def _plugin(query: str, kwargs: dict[str, Any] | None = None) -> RdsIamPlugin:
    return RdsIamPlugin(make_url(f"{PG}?plugin=rds_iam&{query}"), {} if kwargs is None else kwargs)


def test_plugin_removes_its_options_and_keeps_the_drivers() -> None:
    url = make_url(f"{PG}?plugin=rds_iam&application_name=etl&rds_iam_region=eu-west-1")
    plugin = RdsIamPlugin(url, {})
    cleaned = plugin.update_url(url.difference_update_query(["plugin"]))
    assert dict(cleaned.query) == {"application_name": "etl"}
    assert plugin._options == {"region": "eu-west-1"}


def test_plugin_takes_every_documented_option() -> None:
    query = "&".join(f"{name}=v{i}" for i, name in enumerate(URL_OPTIONS))
    options = _plugin(query)._options
    assert sorted(options) == ["address", "ca", "profile", "region", "tls"]


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("rds_iam_regoin=us-east-1", "'rds_iam_regoin' .did you mean rds_iam_region.."),
        ("RDS_IAM_CA=certifi", "'RDS_IAM_CA' .did you mean rds_iam_ca.."),
        ("rds-iam-tls=verify-ca", "'rds-iam-tls' .did you mean rds_iam_tls.."),
        ("rds_iam_connector=x", "unknown URL option 'rds_iam_connector'"),
        ("rds_iam_region=a&rds_iam_region=b", "rds_iam_region is given 2 times"),
    ],
)
def test_plugin_refuses_unknown_options_by_name(query: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        _plugin(query)


def test_plugin_consumes_its_create_engine_keyword() -> None:
    connector, _ = _connector()
    kwargs: dict[str, Any] = {"rds_iam_connector": connector, "pool_size": 3}
    _plugin("rds_iam_region=us-east-1", kwargs)
    assert kwargs == {"pool_size": 3}  # SQLAlchemy would refuse a keyword left behind


def test_plugin_installs_on_the_engine_it_is_given() -> None:
    connector, signer = _connector()
    plugin = _plugin("rds_iam_address=127.0.0.1:1", {"rds_iam_connector": connector})
    engine = sa.create_engine(PG)
    plugin.engine_created(engine)
    assert plugin.connector is connector
    with pytest.raises(ConfigurationError, match="already installed"):
        install(engine, connector)
    assert signer.calls == []
