"""The pg8000 adapter: exact keywords, what it refuses, address=, refusal recognition.

The refusal tests use pg8000's real exception classes with the fields measured on the emulator
(see the adapter's docstring); no test here opens a connection.
"""

from __future__ import annotations

import inspect
import json
import os
import ssl
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pg8000.dbapi
import pg8000.exceptions
import pytest
import trustme

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth._sslcontext import PinnedContext
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import pg8000 as adapter
from rds_iam_auth.testing import FakeClock, StaticSigner
from rds_iam_auth.tls import TlsSettings, context_for

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:5432/?Action=connect&DBUser=app&X-Amz-Signature=SECRETSIG"
ROOT = Path(__file__).resolve().parents[2]
# What the emulator's PostgreSQL 15 sent for a refused IAM token (PAM), field for field.
PAM_REFUSED = {
    "S": "FATAL",
    "V": "FATAL",
    "C": "28000",
    "M": 'PAM authentication failed for user "jane"',
    "F": "auth.c",
    "L": "334",
    "R": "auth_failed",
}
# And for a user pg_hba.conf has no line for: same SQLSTATE, another routine.
HBA_REJECTED = {
    **PAM_REFUSED,
    "M": 'no pg_hba.conf entry for host "127.0.0.1", user "nobody", database "appdb", SSL '
    "encryption",
    "L": "544",
    "R": "ClientAuthentication",
}


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


def build(tls: TlsSettings, address: Address | None = None, **user_kwargs: Any) -> dict[str, Any]:
    return adapter.build_kwargs(
        host=HOST,
        port=5432,
        user="app",
        password=TOKEN,
        tls=tls,
        address=address,
        user_kwargs=user_kwargs,
    )


def refused(tls: TlsSettings, **user_kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        build(tls, **user_kwargs)
    assert TOKEN not in str(info.value)
    return str(info.value)


def connector(ca_file: str, tokens: Any = TOKEN, **kwargs: Any) -> Connector:
    clock = FakeClock(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    return Connector(signer=StaticSigner(tokens), clock=clock, ca=ca_file, **kwargs)


# --- exact keywords ------------------------------------------------------------------------


def test_registry_entry() -> None:
    assert get_adapter("pg8000") is adapter
    assert (adapter.NAME, adapter.DEFAULT_PORT, adapter.SUPPORTS_ADDRESS) == ("pg8000", 5432, True)


def test_exact_kwargs(full: TlsSettings) -> None:
    kwargs = build(full)
    assert set(kwargs) == {"user", "host", "port", "password", "ssl_context"}
    assert (kwargs["user"], kwargs["host"], kwargs["port"]) == ("app", HOST, 5432)
    assert kwargs["password"] == TOKEN
    context = kwargs["ssl_context"]
    assert isinstance(context, PinnedContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.server_name == HOST
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1
    # One shared, read-only context per CA, mode and name (loading a bundle costs ~20 ms).
    assert build(full)["ssl_context"] is context is context_for(full, HOST)
    with pytest.raises(AttributeError, match="read-only"):
        context.verify_mode = ssl.CERT_NONE


def test_verify_ca_skips_only_the_name_check(ca_file: str) -> None:
    context = build(TlsSettings("verify-ca", ca_file))["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_repr_hides_the_token(full: TlsSettings) -> None:
    kwargs = build(full, database="app")
    assert TOKEN not in repr(kwargs)
    assert TOKEN not in str(kwargs)
    assert "'database': 'app'" in repr(kwargs)


def test_allowed_keywords_pass_through(full: TlsSettings) -> None:
    settings = {"search_path": "app,public", "statement_timeout": "5s", "options": "-c x.y=1"}
    kwargs = build(
        full,
        database="app",
        application_name="svc",
        replication="database",
        timeout=7.5,
        tcp_keepalive=False,
        source_address=["10.0.0.7", 0],
        startup_params=settings,
    )
    assert kwargs["database"] == "app"
    assert kwargs["application_name"] == "svc"
    assert kwargs["replication"] == "database"
    assert kwargs["timeout"] == 7.5
    assert kwargs["tcp_keepalive"] is False
    assert kwargs["source_address"] == ("10.0.0.7", 0)  # create_connection wants a tuple
    assert kwargs["startup_params"] == settings
    assert kwargs["startup_params"] is not settings  # checked copy, not the caller's dict
    assert build(full, database=None, timeout=None)["database"] is None


def test_every_keyword_of_the_installed_pg8000_is_classified() -> None:
    # Fail closed and on purpose: a pg8000 release with a new connect keyword fails this test
    # until someone decides whether it is harmless (allowed) or the connector's (owned).
    keywords = set(inspect.signature(pg8000.dbapi.connect).parameters)
    unclassified = keywords - adapter.POLICY.allowed - set(adapter.POLICY.owned)
    assert not unclassified, f"classify these pg8000 keywords: {unclassified}"
    assert set(adapter.POLICY.allowed) | set(adapter.POLICY.owned) == keywords


# --- owned and unknown keywords --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "points_to"),
    [
        ("host", "address="),
        ("port", "address="),
        ("user", "address="),
        ("unix_sock", "address="),
        ("sock", "address="),
        ("password", "IAM token"),
        ("ssl_context", "tls="),
    ],
)
def test_owned_keywords_are_refused_by_name(full: TlsSettings, name: str, points_to: str) -> None:
    message = refused(full, **{name: "x"})
    assert f"do not pass {name}=" in message
    assert points_to in message


@pytest.mark.parametrize(
    "value",
    [None, True, False, "unverified", "rogue", "system"],
)
def test_no_ssl_context_of_the_callers_is_accepted(
    full: TlsSettings, ca_file: str, value: object
) -> None:
    # None: unverified TLS falling back to plaintext; True: unverified; False: plaintext; and
    # any context of the caller's could trust another CA or skip the name check.
    if value == "unverified":
        value = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        value.check_hostname = False
        value.verify_mode = ssl.CERT_NONE
    elif value == "rogue":
        value = ssl.create_default_context(cafile=ca_file)
    elif value == "system":
        value = ssl.create_default_context()
    message = refused(full, ssl_context=value)
    assert "tls=" in message
    assert "ca=" in message


@pytest.mark.parametrize(
    "name",
    ["ssl", "sslmode", "sslrootcert", "ssl_context ", "dsn", "dbname", "passwd", "", "DATABASE"],
)
def test_other_names_are_refused(full: TlsSettings, name: str) -> None:
    assert "unknown or unsupported keyword" in refused(full, **{name: "x"})


def test_a_near_miss_suggests_the_keyword(full: TlsSettings) -> None:
    assert "did you mean 'database'" in refused(full, databse="app")
    assert "did you mean 'ssl_context'" in refused(full, **{"ssl_context ": None})


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("database", 5, "database= must be a str"),
        ("database", b"app", "database="),
        ("database", "app\x00user\x00postgres", "control character"),
        ("application_name", "svc\nx", "control character"),
        ("replication", 1, "replication= must be a str"),
        ("timeout", 0, "positive number of seconds"),
        ("timeout", -1, "positive number of seconds"),
        ("timeout", float("nan"), "positive number of seconds"),
        ("timeout", float("inf"), "positive number of seconds"),
        ("timeout", "5", "positive number of seconds"),
        ("timeout", True, "positive number of seconds"),
        ("tcp_keepalive", 1, "True or False"),
        ("tcp_keepalive", "yes", "True or False"),
        ("source_address", "10.0.0.7", "(local IP address, port) pair"),
        ("source_address", ("10.0.0.7",), "(local IP address, port) pair"),
        ("source_address", ("10.0.0.7", "0"), "(local IP address, port) pair"),
        ("source_address", ("10.0.0.7", 70000), "(local IP address, port) pair"),
        ("source_address", ("10.0.0.7", True), "(local IP address, port) pair"),
        ("source_address", ("10.0.0.7\x00", 0), "control character"),
    ],
)
def test_bad_values_are_refused(full: TlsSettings, name: str, value: object, message: str) -> None:
    assert message in refused(full, **{name: value})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("search_path=app", "must be a dict"),
        ({"user": "postgres"}, "address="),  # the login user is the one the token is for
        ({"database": "other"}, "pass database= instead"),
        ({"application_name": "x"}, "pass application_name= instead"),
        ({"replication": "true"}, "pass replication= instead"),
        ({"_pq_.command_tag": "x"}, "protocol extension"),
        ({"search path": "x"}, "not a PostgreSQL setting name"),
        ({"search_path\x00user": "x"}, "not a PostgreSQL setting name"),
        ({"": "x"}, "not a PostgreSQL setting name"),
        ({"é": "x"}, "not a PostgreSQL setting name"),
        ({1: "x"}, "not a PostgreSQL setting name"),
        ({"search_path": 1}, "must be a str"),
        ({"search_path": b"app"}, "must be a str"),
        ({"search_path": "app\x00user\x00postgres"}, "control character"),
    ],
)
def test_bad_startup_params_are_refused(full: TlsSettings, params: object, message: str) -> None:
    # pg8000 writes startup parameters into the packet unescaped: a NUL would append a second
    # user (the server keeps the last); the server's _pq_ answer makes pg8000 raise KeyError.
    assert message in refused(full, startup_params=params)


def test_startup_params_on_an_older_pg8000_is_named(
    full: TlsSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # startup_params= arrived in pg8000 1.31.3; the extra allows 1.31.0.
    older = frozenset(inspect.signature(pg8000.dbapi.connect).parameters) - {"startup_params"}
    monkeypatch.setattr(adapter, "_connect_parameters", lambda: older)
    assert "needs pg8000 >= 1.31.3" in refused(full, startup_params={"search_path": "x"})
    assert "startup_params" not in build(full, database="app")


# --- address= -----------------------------------------------------------------------------


@pytest.mark.parametrize("dial", [Address("127.0.0.1", 15432), Address("::1", 6432)])
def test_address_dials_elsewhere_and_verifies_the_endpoint(
    full: TlsSettings, dial: Address
) -> None:
    kwargs = build(full, dial)
    assert (kwargs["host"], kwargs["port"]) == (dial.host, dial.port)
    # pg8000 passes the dialled host as server_hostname; the context verifies HOST instead.
    assert kwargs["ssl_context"].server_name == HOST
    assert kwargs["ssl_context"].check_hostname is True


def test_address_through_the_connector(ca_file: str) -> None:
    with connector(ca_file) as c:
        kwargs = c.connect_kwargs(HOST, "app", driver="pg8000", address="bastion.internal:15432")
        signed = c.token(HOST, 5432, "app")
    assert (kwargs["host"], kwargs["port"]) == ("bastion.internal", 15432)  # pg8000 resolves it
    assert kwargs["ssl_context"].server_name == HOST
    assert (signed.host, signed.port) == (HOST, 5432)
    with pytest.raises(ConfigurationError, match="address="):
        connector(ca_file).connect_kwargs(HOST, "app", driver="pg8000", address="h:port")


# --- refusal recognition --------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        pg8000.exceptions.DatabaseError(PAM_REFUSED),
        pg8000.dbapi.OperationalError(PAM_REFUSED),  # a DatabaseError subclass
        pg8000.exceptions.DatabaseError({k: v for k, v in PAM_REFUSED.items() if k != "R"}),
    ],
    ids=["measured", "subclass", "no-routine"],
)
def test_refused_login_is_recognised(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        pg8000.exceptions.DatabaseError(HBA_REJECTED),  # a new token cannot fix pg_hba.conf
        pg8000.exceptions.DatabaseError({**PAM_REFUSED, "C": "28P01"}),
        pg8000.exceptions.DatabaseError({**PAM_REFUSED, "C": "3D000"}),
        pg8000.exceptions.InterfaceError(PAM_REFUSED),  # the legacy API's form: not ours
        pg8000.exceptions.InterfaceError("Server refuses SSL"),
        pg8000.exceptions.DatabaseError('FATAL 28000 PAM authentication failed for user "x"'),
        pg8000.exceptions.DatabaseError(),
        ssl.SSLCertVerificationError("certificate verify failed"),
        Exception(PAM_REFUSED),
    ],
    ids=["pg_hba", "28P01", "3D000", "legacy", "no-tls", "text", "no-args", "tls", "other"],
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


def _fake_pg8000(monkeypatch: pytest.MonkeyPatch, outcomes: list[Any]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    class FakeConnection:
        def __init__(self, password: str) -> None:
            self.password = password.encode()

    def connect(**kwargs: Any) -> Any:
        seen.append(kwargs)
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return FakeConnection(kwargs["password"])

    monkeypatch.setattr(pg8000.dbapi, "connect", connect)
    return seen


def test_connect_calls_the_dbapi_with_exact_kwargs_and_drops_the_token(
    monkeypatch: pytest.MonkeyPatch, ca_file: str
) -> None:
    seen = _fake_pg8000(monkeypatch, [None])
    with connector(ca_file) as c:
        conn = c.connect(HOST, "app", driver="pg8000", database="db")
    assert seen == [
        {
            "user": "app",
            "host": HOST,
            "port": 5432,
            "password": TOKEN,
            "ssl_context": context_for(TlsSettings("verify-full", ca_file), HOST),
            "database": "db",
        }
    ]
    # pg8000 would keep the token on the connection for its whole life; it is not needed.
    assert conn.password is None


def test_a_refused_token_is_retried_once(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    seen = _fake_pg8000(monkeypatch, [pg8000.exceptions.DatabaseError(PAM_REFUSED), None])
    with connector(ca_file, ["stale", "fresh"]) as c:
        c.connect(HOST, "app", driver="pg8000")
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    assert [k["password"] for k in seen] == ["stale", "fresh"]


def test_twice_refused_raises_the_drivers_error_with_notes(
    monkeypatch: pytest.MonkeyPatch, ca_file: str
) -> None:
    refusals = [pg8000.exceptions.DatabaseError(PAM_REFUSED) for _ in range(2)]
    _fake_pg8000(monkeypatch, list(refusals))
    with (
        connector(ca_file, ["t1", "t2"]) as c,
        pytest.raises(pg8000.exceptions.DatabaseError) as info,
    ):
        c.connect(HOST, "app", driver="pg8000")
    assert info.value is refusals[1]
    assert "refused the IAM token twice" in info.value.__notes__[0]
    assert 'GRANT rds_iam TO "app"' in "\n".join(info.value.__notes__)


def test_a_pg_hba_rejection_is_not_retried(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    seen = _fake_pg8000(monkeypatch, [pg8000.exceptions.DatabaseError(HBA_REJECTED)])
    with connector(ca_file) as c:
        with pytest.raises(pg8000.exceptions.DatabaseError) as info:
            c.connect(HOST, "app", driver="pg8000")
        assert (c.stats.retries, c.stats.signings) == (0, 1)
    assert len(seen) == 1
    assert not getattr(info.value, "__notes__", None)


# --- driver not installed, lazy import -----------------------------------------------------------


def test_missing_driver_is_named_by_creator(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    for module in ("pg8000", "pg8000.dbapi", "pg8000.exceptions"):
        monkeypatch.setitem(sys.modules, module, None)  # `import pg8000.dbapi` raises
    c = connector(ca_file)
    with pytest.raises(DriverNotInstalledError, match=r"pip install 'rds-iam-auth\[pg8000\]'"):
        c.creator(HOST, "app", driver="pg8000", database="app")
    with pytest.raises(DriverNotInstalledError) as info:
        c.connect(HOST, "app", driver="pg8000")
    assert isinstance(info.value, ImportError)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert adapter.is_auth_refused(Exception(PAM_REFUSED)) is False


def test_building_kwargs_does_not_import_pg8000() -> None:
    code = (
        "import json, sys\n"
        "from rds_iam_auth import Connector\n"
        "from rds_iam_auth.testing import StaticSigner\n"
        "c = Connector(signer=StaticSigner('t'), ca='certifi', region='us-east-1')\n"
        "c.connect_kwargs('db.internal', 'app', driver='pg8000', database='app', timeout=5)\n"
        "print(json.dumps('pg8000' in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) is False
