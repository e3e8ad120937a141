"""The psycopg2 adapter: exact keywords, the allowlist, address=, refusals, the libpq table."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

import psycopg
import psycopg2
import psycopg2.extensions
import psycopg2.extras
import pytest
import trustme

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth.drivers import ConnectKwargs, _libpq, get_adapter
from rds_iam_auth.drivers import psycopg2 as adapter
from rds_iam_auth.drivers._libpq import options_of_version
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import TlsSettings

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:5432/?Action=connect&DBUser=app&X-Amz-Signature=abc"
LIBPQ_17 = 170011
# What the connector sets so that neither PG* variables nor a service file can, on libpq 17
# (psycopg2-binary 2.9.13). libpq 17 has no sslkeylogfile option, so it is not sent.
PINNED_17 = {"hostaddr": "", "gssencmode": "disable", "ssl_min_protocol_version": "TLSv1.2"}
PAM_MESSAGE = (
    'connection to server at "127.0.0.1", port 5432 failed: FATAL:  PAM authentication '
    'failed for user "app"\n'
)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


@pytest.fixture
def libpq(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Pretend the loaded libpq is a given version: ``libpq(180000)``; 17 by default."""

    def use(version: int) -> None:
        monkeypatch.setattr(psycopg2.extensions, "libpq_version", lambda: version)

    use(LIBPQ_17)
    return use


def pg2(tls: TlsSettings, address: Any = None, **user_kwargs: Any) -> ConnectKwargs:
    return adapter.build_kwargs(
        host=HOST,
        port=5432,
        user="app",
        password=TOKEN,
        tls=tls,
        address=address,
        user_kwargs=user_kwargs,
    )


# --- exact keywords --------------------------------------------------------------------------


def test_registered_with_engine_defaults() -> None:
    assert get_adapter("psycopg2") is adapter
    assert (adapter.NAME, adapter.DEFAULT_PORT, adapter.SUPPORTS_ADDRESS) == (
        "psycopg2",
        5432,
        True,
    )


def test_exact_kwargs(full: TlsSettings, ca_file: str, libpq: Any) -> None:
    kwargs = pg2(full)
    assert kwargs == {
        "host": HOST,
        "port": 5432,
        "user": "app",
        "password": TOKEN,
        "sslmode": "verify-full",
        "sslrootcert": ca_file,
        **PINNED_17,
    }
    assert TOKEN not in repr(kwargs)
    assert "<redacted>" in repr(kwargs)


def test_verify_ca_mode(ca_file: str, libpq: Any) -> None:
    tls = TlsSettings("verify-ca", ca_file)
    assert pg2(tls)["sslmode"] == "verify-ca"
    assert pg2(tls, sslmode="verify-full")["sslmode"] == "verify-full"
    with pytest.raises(ConfigurationError, match="tls="):
        pg2(tls, sslmode="require")


@pytest.mark.parametrize(
    ("version", "pinned"),
    [
        (90624, {"hostaddr": ""}),
        (110022, {"hostaddr": ""}),
        (120000, {"hostaddr": "", "gssencmode": "disable"}),
        (130000, PINNED_17),
        (LIBPQ_17, PINNED_17),
        (180000, {**PINNED_17, "sslkeylogfile": ""}),
    ],
)
def test_pinned_options_follow_the_libpq_version(
    full: TlsSettings, libpq: Any, version: int, pinned: dict[str, str]
) -> None:
    # An option the loaded libpq does not have would fail every connection ("invalid
    # connection option"); one it has but we do not pin could come from PG* or a service file.
    libpq(version)
    kwargs = pg2(full)
    assert {k: kwargs[k] for k in kwargs if k in _PINNABLE} == pinned


_PINNABLE = {"hostaddr", "gssencmode", "ssl_min_protocol_version", "sslkeylogfile"}


def test_pinned_options_exist_in_the_installed_libpq(full: TlsSettings) -> None:
    real = _libpq_of(psycopg2._psycopg.__file__)[1]
    assert set(pg2(full)) <= real


def test_user_kwargs_merged_and_database_alias(full: TlsSettings, libpq: Any) -> None:
    kwargs = pg2(full, database="app", connect_timeout=5, application_name="svc", options="-c x=1")
    assert "database" not in kwargs
    assert (kwargs["dbname"], kwargs["connect_timeout"], kwargs["application_name"]) == (
        "app",
        5,
        "svc",
    )
    assert kwargs["options"] == "-c x=1"
    assert pg2(full, dbname="app")["dbname"] == "app"


def test_database_and_dbname_together_refused(full: TlsSettings, libpq: Any) -> None:
    with pytest.raises(ConfigurationError, match="dbname= or database="):
        pg2(full, database="a", dbname="b")


def test_option_of_a_newer_libpq_refused_by_name(full: TlsSettings, libpq: Any) -> None:
    with pytest.raises(ConfigurationError, match="min_protocol_version= is not an option"):
        pg2(full, min_protocol_version="3.0")
    libpq(180000)
    assert pg2(full, min_protocol_version="3.0")["min_protocol_version"] == "3.0"


# --- the allowlist ---------------------------------------------------------------------------


def test_policy_is_libpq_plus_psycopg2_keywords() -> None:
    assert adapter.POLICY.allowed == _libpq.ALLOWED | {
        "database",
        "cursor_factory",
        "connection_factory",
    }
    assert set(adapter.POLICY.owned) == set(_libpq.OWNED) | {"async", "async_"}


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("sslmode", "tls="),
        ("sslrootcert", "ca="),
        ("requiressl", "tls="),
        ("sslnegotiation", "tls="),
        ("sslsni", "tls="),
        ("ssl_min_protocol_version", "tls="),
        ("sslcrl", "tls="),
        ("hostaddr", "address="),
        ("host", "connect()"),
        ("port", "connect()"),
        ("user", "connect()"),
        ("password", "IAM token"),
        ("passfile", "IAM token"),
        ("require_auth", "IAM token"),
        ("sslkeylogfile", "session keys"),
        ("gssencmode", "GSS"),
        ("service", "configuration file"),
        ("dsn", "DSN string"),
        ("async", "retry"),
        ("async_", "retry"),
    ],
)
def test_owned_keywords_refused_naming_the_fix(
    full: TlsSettings, libpq: Any, name: str, fix: str
) -> None:
    value = "disable" if name == "sslmode" else "x"
    with pytest.raises(ConfigurationError, match=f"{name}=") as info:
        pg2(full, **{name: value})
    assert fix in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "application_name=x sslmode",
        "sslmode ",
        " sslmode",
        "SSLMODE",
        "sslmode=",
        "hostaddr ",
        "tty",
        "",
        "connection_factory ",
    ],
)
def test_unknown_names_refused(full: TlsSettings, libpq: Any, name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown or unsupported keyword"):
        pg2(full, **{name: "disable"})


def test_why_names_must_be_allowlisted() -> None:
    # psycopg2 quotes DSN values but not names: a name can smuggle in another option.
    dsn = psycopg2.extensions.make_dsn(sslmode="verify-full", **{"application_name=x sslmode": "0"})
    assert psycopg2.extensions.parse_dsn(dsn)["sslmode"] == "0"


@pytest.mark.parametrize(
    "value",
    ["x sslmode=disable", "x' sslmode='disable", "a\\' sslmode=disable", "", "a=b", "é ü"],
)
def test_values_reach_libpq_as_one_value(full: TlsSettings, libpq: Any, value: str) -> None:
    kwargs = pg2(full, dbname=value, application_name=value)
    parsed = psycopg2.extensions.parse_dsn(psycopg2.extensions.make_dsn(**kwargs))
    assert parsed == {k: str(v) for k, v in kwargs.items()}
    assert parsed["sslmode"] == "verify-full"


@pytest.mark.parametrize("value", ["x\x00", "a\nsslmode=disable", "a\rb", "\x7f"])
def test_control_characters_refused(full: TlsSettings, libpq: Any, value: str) -> None:
    with pytest.raises(ConfigurationError, match="control character"):
        pg2(full, dbname=value)


@pytest.mark.parametrize("value", [b"app", ["app"], {"a": 1}, object()])
def test_values_must_be_text_or_numbers(full: TlsSettings, libpq: Any, value: object) -> None:
    with pytest.raises(ConfigurationError, match="must be a str or int or float"):
        pg2(full, dbname=value)


def test_cursor_and_connection_factories(full: TlsSettings, libpq: Any) -> None:
    kwargs = pg2(
        full,
        cursor_factory=psycopg2.extras.RealDictCursor,
        connection_factory=psycopg2.extras.LoggingConnection,
    )
    assert kwargs["cursor_factory"] is psycopg2.extras.RealDictCursor
    assert kwargs["connection_factory"] is psycopg2.extras.LoggingConnection
    assert pg2(full, connection_factory=None)["connection_factory"] is None


@pytest.mark.parametrize(
    "factory",
    [
        lambda dsn: psycopg2.extensions.connection(dsn + " sslmode=disable"),
        "psycopg2.extras.RealDictConnection",
        psycopg2.extras.RealDictCursor,
        psycopg2.extensions.cursor,
    ],
    ids=["function", "string", "cursor-class", "base-cursor"],
)
def test_connection_factory_must_be_a_connection_class(
    full: TlsSettings, libpq: Any, factory: object
) -> None:
    with pytest.raises(ConfigurationError, match=r"subclass of psycopg2\.extensions\.connection"):
        pg2(full, connection_factory=factory)


@pytest.mark.parametrize("factory", ["psycopg2.extras.DictCursor", 3])
def test_cursor_factory_must_be_callable(full: TlsSettings, libpq: Any, factory: object) -> None:
    with pytest.raises(ConfigurationError, match="cursor_factory= must be a cursor class"):
        pg2(full, cursor_factory=factory)


# --- address= --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "hostaddr", "port"),
    [
        ("127.0.0.1:6432", "127.0.0.1", 6432),
        ("[::1]:15432", "::1", 15432),
        ("10.0.0.5", "10.0.0.5", 5432),
    ],
)
def test_address_dials_hostaddr_and_verifies_host(
    ca_file: str, libpq: Any, address: str, hostaddr: str, port: int
) -> None:
    signer = StaticSigner("tok")
    with Connector(signer=signer, ca=ca_file) as c:
        kwargs = c.connect_kwargs(HOST, "app", driver="psycopg2", address=address, dbname="d")
    assert kwargs == {
        "host": HOST,  # the name verify-full checks and the token is signed for
        "port": port,
        "user": "app",
        "password": "tok",
        "sslmode": "verify-full",
        "sslrootcert": ca_file,
        **PINNED_17,
        "hostaddr": hostaddr,
        "dbname": "d",
    }
    endpoint, user, _ = signer.calls[0]
    assert (endpoint.host, endpoint.port, user) == (HOST, 5432, "app")


def test_address_by_name_is_resolved_for_hostaddr(ca_file: str, libpq: Any) -> None:
    with Connector(signer=StaticSigner("tok"), ca=ca_file) as c:
        kwargs = c.connect_kwargs(HOST, "app", driver="psycopg2", address="localhost:6432")
    assert kwargs["hostaddr"] in {"127.0.0.1", "::1"}
    assert (kwargs["host"], kwargs["port"]) == (HOST, 6432)


@pytest.mark.parametrize("address", ["", "h:0", "127.0.0.1:1 sslmode=disable", "a,b:5432"])
def test_malformed_address_refused(ca_file: str, address: str) -> None:
    with (
        Connector(signer=StaticSigner("tok"), ca=ca_file) as c,
        pytest.raises(ConfigurationError, match="address="),
    ):
        c.connect_kwargs(HOST, "app", driver="psycopg2", address=address)


# --- refused logins --------------------------------------------------------------------------


def test_refused_pam_login_recognised() -> None:
    assert adapter.is_auth_refused(psycopg2.OperationalError(PAM_MESSAGE)) is True


def _with_sqlstate(exc: psycopg2.Error, sqlstate: str) -> psycopg2.Error:
    exc.__setstate__({"pgcode": sqlstate, "pgerror": str(exc)})
    return exc


@pytest.mark.parametrize(
    "exc",
    [
        psycopg2.OperationalError("connection to server failed: Connection refused"),
        psycopg2.OperationalError("SSL error: certificate verify failed"),
        psycopg2.ProgrammingError(PAM_MESSAGE),
        psycopg2.InterfaceError(PAM_MESSAGE),
        psycopg.OperationalError(PAM_MESSAGE),  # another driver's class
        ValueError(PAM_MESSAGE),
    ],
    ids=["refused-socket", "tls", "programming", "interface", "psycopg3", "value-error"],
)
def test_other_errors_are_not_refusals(exc: BaseException) -> None:
    assert adapter.is_auth_refused(exc) is False


def test_a_server_error_with_sqlstate_is_not_a_login_refusal() -> None:
    # After login the server sends SQLSTATEs; a refused PAM login at startup has none.
    exc = _with_sqlstate(psycopg2.OperationalError(PAM_MESSAGE), "28000")
    assert exc.pgcode == "28000"
    assert adapter.is_auth_refused(exc) is False


# --- driver missing, PSYCOPG_DEBUG, connect --------------------------------------------------


def test_missing_driver_named_by_creator(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # `import psycopg2` raises ImportError
    with Connector(signer=StaticSigner("tok"), ca=ca_file) as c:
        with pytest.raises(DriverNotInstalledError, match=r"rds-iam-auth\[psycopg2\]") as info:
            c.creator(HOST, "app", driver="psycopg2", dbname="d")
        assert isinstance(info.value, ImportError)
        assert info.value.__cause__ is None
        assert info.value.__context__ is None
        with pytest.raises(DriverNotInstalledError, match="psycopg2-binary"):
            c.connect(HOST, "app", driver="psycopg2")
    assert adapter.is_auth_refused(Exception(PAM_MESSAGE)) is False


def test_an_import_that_failed_once_is_not_remembered(
    monkeypatch: pytest.MonkeyPatch, full: TlsSettings, libpq: Any
) -> None:
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "psycopg2", None)
        assert "sslkeylogfile" in pg2(full)  # unknown libpq: every pinnable option is set
    assert "sslkeylogfile" not in pg2(full)  # libpq 17 again: it has no such option


@pytest.mark.parametrize("value", ["1", ""])
def test_psycopg_debug_refused(monkeypatch: pytest.MonkeyPatch, ca_file: str, value: str) -> None:
    # psycopg2 prints every DSN, password included, to stderr when this is set at import.
    monkeypatch.setenv("PSYCOPG_DEBUG", value)
    with pytest.raises(ConfigurationError, match="PSYCOPG_DEBUG"):
        adapter.load()
    with Connector(signer=StaticSigner("SECRET-TOKEN"), ca=ca_file) as c:
        for call in (c.creator, c.connect_kwargs, c.connect):
            with pytest.raises(ConfigurationError, match=r"PSYCOPG_DEBUG.*stderr") as info:
                call(HOST, "app", driver="psycopg2")
            assert "SECRET-TOKEN" not in str(info.value)


def test_connect_passes_exact_kwargs_to_psycopg2(
    monkeypatch: pytest.MonkeyPatch, ca_file: str, libpq: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def fake_connect(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "connection"

    monkeypatch.setattr(psycopg2, "connect", fake_connect)
    with Connector(signer=StaticSigner("tok"), ca=ca_file) as c:
        create = c.creator(
            HOST, "app", driver="psycopg2", database="db", cursor_factory=psycopg2.extras.DictCursor
        )
        assert create() == "connection"
    assert seen == [
        {
            "host": HOST,
            "port": 5432,
            "user": "app",
            "password": "tok",
            "sslmode": "verify-full",
            "sslrootcert": ca_file,
            **PINNED_17,
            "dbname": "db",
            "cursor_factory": psycopg2.extras.DictCursor,
        }
    ]


# --- the libpq option table, against real libpq builds ---------------------------------------


class _Option(ctypes.Structure):
    _fields_ = [
        ("keyword", ctypes.c_char_p),
        ("envvar", ctypes.c_char_p),
        ("compiled", ctypes.c_char_p),
        ("val", ctypes.c_char_p),
        ("label", ctypes.c_char_p),
        ("dispchar", ctypes.c_char_p),
        ("dispsize", ctypes.c_int),
    ]


def _libpq_of(path: str) -> tuple[int, set[str]]:
    """(PQlibVersion(), PQconndefaults() keywords) of the libpq that ``path`` is or links."""
    lib = ctypes.CDLL(path)  # dlsym on an extension module also searches what it links
    lib.PQconndefaults.restype = ctypes.POINTER(_Option)
    lib.PQconninfoFree.argtypes = [ctypes.POINTER(_Option)]
    options = lib.PQconndefaults()
    names: set[str] = set()
    i = 0
    while options[i].keyword:
        names.add(options[i].keyword.decode())
        i += 1
    lib.PQconninfoFree(options)
    return int(lib.PQlibVersion()), names


def _every_libpq() -> list[tuple[str, int, set[str]]]:
    """psycopg2's libpq, psycopg's, and the system's (Debian's libpq5) when there is one."""
    found = [
        ("psycopg2", *_libpq_of(psycopg2._psycopg.__file__)),
        (
            "psycopg",
            psycopg.pq.version(),
            {opt.keyword.decode() for opt in psycopg.pq.Conninfo.get_defaults()},
        ),
    ]
    system = ctypes.util.find_library("pq")
    if system:
        found.append(("system", *_libpq_of(system)))
    return found


def test_option_table_matches_every_libpq_here() -> None:
    found = _every_libpq()
    assert found[0][1] == psycopg2.extensions.libpq_version()
    for where, version, names in found:
        assert options_of_version(version) == names, (where, version)
    assert len({version // 10000 for _, version, _ in found}) >= 2  # two releases at least


def test_option_table_history() -> None:
    assert "gssencmode" not in options_of_version(110000)
    assert "gssencmode" in options_of_version(120000)
    assert "ssl_min_protocol_version" in options_of_version(130000)
    assert {"sslcertmode", "require_auth", "load_balance_hosts"} <= options_of_version(160000)
    assert "sslnegotiation" in options_of_version(170000) - options_of_version(160000)
    assert {"sslkeylogfile", "min_protocol_version"} <= options_of_version(180000)
    assert "sslkeylogfile" not in options_of_version(LIBPQ_17)
    # Newer than the table: the newest options known here (new ones stay refused by name).
    assert options_of_version(190000) == options_of_version(180000)
