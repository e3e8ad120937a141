"""mysqlclient adapter: the exact keywords, what it refuses, and how it recognises a refusal."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from rds_iam_auth import ConfigurationError, Connector, DriverNotInstalledError
from rds_iam_auth.drivers import Address, get_adapter
from rds_iam_auth.drivers import mysqlclient as adapter
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import TlsSettings

MySQLdb = pytest.importorskip("MySQLdb")
cursors = pytest.importorskip("MySQLdb.cursors")

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
TOKEN = f"{HOST}:3306/?Action=connect&DBUser=app&X-Amz-Signature=abc"

# Every keyword MySQLdb.connect() takes in 2.3.2 (its C kwlist and Connection.__init__): each
# is either passed through or owned by the connector; none is left to chance.
DRIVER_KEYWORDS = {
    "host", "user", "password", "passwd", "database", "db", "port", "unix_socket", "conv",
    "connect_timeout", "compress", "named_pipe", "init_command", "read_default_file",
    "read_default_group", "client_flag", "ssl", "ssl_mode", "local_infile", "read_timeout",
    "write_timeout", "charset", "auth_plugin", "server_public_key_path", "local_infile_dir",
    "cursorclass", "collation", "use_unicode", "sql_mode", "binary_prefix",
    "executemany_fallback", "multi_statements", "autocommit",
}  # fmt: skip


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def full(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-full", ca_file)


@pytest.fixture
def verify_ca(ca_file: str) -> TlsSettings:
    return TlsSettings("verify-ca", ca_file)


@pytest.fixture(autouse=True)
def _no_disable_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(adapter.DISABLE_VERIFICATION_ENV, raising=False)


def build(tls: TlsSettings, at: str = HOST, **user_kwargs: Any) -> dict[str, Any]:
    return adapter.build_kwargs(
        host=at,
        port=3306,
        user="app",
        password=TOKEN,
        tls=tls,
        address=None,
        user_kwargs=user_kwargs,
    )


# --- the keywords ---------------------------------------------------------------------------


def test_exact_kwargs(full: TlsSettings, ca_file: str) -> None:
    assert build(full) == {
        "host": HOST,
        "port": 3306,
        "user": "app",
        "password": TOKEN,
        "ssl": {"ca": ca_file},
        "ssl_mode": "VERIFY_IDENTITY",
    }


def test_verify_ca_mode(verify_ca: TlsSettings, ca_file: str) -> None:
    kwargs = build(verify_ca)
    assert (kwargs["ssl"], kwargs["ssl_mode"]) == ({"ca": ca_file}, "VERIFY_CA")
    # A caller asking for more than tls= requires is fine.
    assert build(verify_ca, ssl_mode="VERIFY_IDENTITY")["ssl_mode"] == "VERIFY_IDENTITY"
    assert build(verify_ca, ssl_mode="VERIFY_CA")["ssl_mode"] == "VERIFY_CA"


def test_every_driver_keyword_is_classified() -> None:
    classified = adapter.POLICY.allowed | set(adapter.POLICY.owned)
    assert sorted(DRIVER_KEYWORDS - classified) == []


def test_through_the_connector_with_redacted_repr(ca_file: str) -> None:
    c = Connector(signer=StaticSigner("tok"), ca=ca_file, region="us-east-1")
    kwargs = c.connect_kwargs("10.1.2.3", "app", driver="mysqlclient", port=13306, database="d")
    assert kwargs == {
        "host": "10.1.2.3",
        "port": 13306,
        "user": "app",
        "password": "tok",
        "ssl": {"ca": ca_file},
        "ssl_mode": "VERIFY_IDENTITY",
        "database": "d",
    }
    assert "tok" not in repr(kwargs)
    # Each call builds its own ssl dict: mutating one result weakens no other.
    kwargs["ssl"].clear()
    assert c.connect_kwargs("10.1.2.3", "app", driver="mysqlclient")["ssl"] == {"ca": ca_file}
    assert get_adapter("mysqlclient").DEFAULT_PORT == 3306


def test_user_kwargs_merged(full: TlsSettings) -> None:
    cursor = cursors.DictCursor
    kwargs = build(
        full,
        database="app",
        connect_timeout=5,
        read_timeout=30,
        charset="utf8mb4",
        collation="utf8mb4_bin",
        sql_mode="ANSI",
        init_command="SET time_zone = '+00:00'",
        autocommit=True,
        local_infile=False,
        client_flag=0,
        use_unicode=True,
        binary_prefix=True,
        multi_statements=False,
        compress=True,
        cursorclass=cursor,
        conv={},
    )
    assert kwargs["database"] == "app"
    assert kwargs["connect_timeout"] == 5
    assert kwargs["cursorclass"] is cursor
    assert kwargs["compress"] is True
    assert kwargs["password"] == TOKEN
    assert kwargs["ssl_mode"] == "VERIFY_IDENTITY"


def test_none_and_compress_false_mean_the_default(full: TlsSettings) -> None:
    # MySQLdb enables compression for any compress value it receives, False included; None
    # for a C-level keyword would be a TypeError inside the driver.
    kwargs = build(full, compress=False, database=None, connect_timeout=None, ssl_mode=None)
    assert "compress" not in kwargs
    assert "database" not in kwargs
    assert "connect_timeout" not in kwargs
    assert kwargs["ssl_mode"] == "VERIFY_IDENTITY"
    assert build(full, autocommit=None)["autocommit"] is None  # None: the server's default


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ssl_mode", ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "verify_identity", ""]
)
def test_weaker_ssl_mode_refused_naming_tls(full: TlsSettings, ssl_mode: str) -> None:
    with pytest.raises(ConfigurationError, match="tls=") as info:
        build(full, ssl_mode=ssl_mode)
    assert repr(ssl_mode) in str(info.value)


@pytest.mark.parametrize("ssl_mode", ["DISABLED", "PREFERRED", "REQUIRED"])
def test_weaker_ssl_mode_refused_under_verify_ca(verify_ca: TlsSettings, ssl_mode: str) -> None:
    with pytest.raises(ConfigurationError, match="tls="):
        build(verify_ca, ssl_mode=ssl_mode)


@pytest.mark.parametrize(
    "value",
    [
        {"ca": "/tmp/rogue.pem"},
        {"capath": "/etc/ssl/certs"},
        {"cipher": "NULL"},
        {"cert": "/tmp/c.pem", "key": "/tmp/k.pem"},
        {},
        True,
        False,
    ],
    ids=["ca", "capath", "cipher", "cert-key", "empty", "True", "False"],
)
def test_ssl_dict_refused_naming_ca_and_tls(full: TlsSettings, value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"ca=.*tls="):
        build(full, ssl=value)


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("host", "host:port"),
        ("port", "host:port"),
        ("user", "host:port"),
        ("unix_socket", "host:port"),
        ("named_pipe", "host:port"),
        ("password", "IAM token"),
        ("passwd", "IAM token"),
        ("auth_plugin", "IAM token"),
        ("server_public_key_path", "IAM token"),
        ("read_default_file", "configuration file"),
        ("read_default_group", "configuration file"),
        ("ssl_ca", "ca="),
        ("ssl_capath", "ca="),
        ("ssl_cipher", "tls="),
        ("ssl_cert", "client certificates"),
        ("ssl_key", "client certificates"),
        ("ssl_disabled", "tls="),
        ("ssl_verify_cert", "tls="),
        ("tls_versions", "tls="),
        ("local_infile_dir", "local_infile="),
        ("executemany_fallback", "attribute instead"),
    ],
)
def test_owned_keywords_refused_by_name(full: TlsSettings, name: str, names: str) -> None:
    with pytest.raises(ConfigurationError, match=f"do not pass {name}=") as info:
        build(full, **{name: TOKEN})
    assert names in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("name", ["ssl_mode ", "SSL_MODE", "sslmode", "protocol", "bind_address"])
def test_unknown_keywords_refused(full: TlsSettings, name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown or unsupported keyword") as info:
        build(full, **{name: "x"})
    assert "Accepted: autocommit" in str(info.value)


def test_unknown_keyword_suggests_the_known_one(full: TlsSettings) -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'ssl_mode'"):
        build(full, **{"ssl_mode ": "DISABLED"})


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("connect_timeout", 1.5, "an int"),
        ("connect_timeout", "5", "an int"),
        ("connect_timeout", True, "an int"),
        ("read_timeout", -1, "an int"),
        ("client_flag", 2**31, "an int"),
        ("database", 3, "a str"),
        ("charset", b"utf8", "a str"),
        ("use_unicode", "yes", "a bool"),
        ("autocommit", 1, "a bool"),
        ("compress", 1, "a bool"),
        ("local_infile", "1", "a bool"),
        ("ssl_mode", 5, "a str"),
    ],
)
def test_wrong_value_types_refused(full: TlsSettings, name: str, value: object, kind: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}= must be {kind}"):
        build(full, **{name: value})


def test_control_characters_refused(full: TlsSettings) -> None:
    with pytest.raises(ConfigurationError, match="control character"):
        build(full, init_command="SELECT 1\x00; SET x=1")


def test_address_is_refused(full: TlsSettings, ca_file: str) -> None:
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    for call in (c.connect_kwargs, c.connect, c.creator):
        with pytest.raises(ConfigurationError, match="address= is not possible"):
            call(HOST, "app", driver="mysqlclient", address="127.0.0.1:3306")
    with pytest.raises(ConfigurationError, match="address= is not possible"):
        adapter.build_kwargs(
            host=HOST,
            port=3306,
            user="app",
            password=TOKEN,
            tls=full,
            address=Address("127.0.0.1", 3306),
            user_kwargs={},
        )
    assert adapter.SUPPORTS_ADDRESS is False


def test_localhost_is_refused(full: TlsSettings) -> None:
    # Connector/C dials a Unix socket for exactly "localhost", whatever port= says.
    with pytest.raises(ConfigurationError, match=r"Unix socket.*'127\.0\.0\.1'"):
        build(full, at="localhost")
    assert build(full, at="127.0.0.1")["host"] == "127.0.0.1"


@pytest.mark.parametrize("value", ["1", "", "0"])
def test_disable_peer_verification_variable_refused(
    full: TlsSettings, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Connector/C 3.4 skips verification when the variable exists, whatever its value.
    monkeypatch.setenv(adapter.DISABLE_VERIFICATION_ENV, value)
    with pytest.raises(ConfigurationError, match=adapter.DISABLE_VERIFICATION_ENV):
        build(full)


# --- the driver: refusal recognition, real exception classes ---------------------------------


@pytest.mark.parametrize(
    ("exc", "refused"),
    [
        (MySQLdb.OperationalError(1045, "Access denied for user 'app'@'x'"), True),
        (MySQLdb.OperationalError(2026, "TLS/SSL error: unable to get local issuer"), False),
        (MySQLdb.OperationalError(2002, "Can't connect"), False),
        (MySQLdb.OperationalError(), False),
        (MySQLdb.ProgrammingError(1045, "not a login"), False),
        (MySQLdb.InterfaceError(1045, "x"), False),
        (ConnectionRefusedError(1045, "x"), False),
    ],
)
def test_is_auth_refused(exc: BaseException, refused: bool) -> None:
    assert adapter.is_auth_refused(exc) is refused


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_driver_accepts_every_allowed_keyword(full: TlsSettings, closed_port: int) -> None:
    # Every keyword we let through is one MySQLdb knows, with a value type it parses: it gets
    # as far as dialling (a TypeError would mean the allowlist is wrong).
    kwargs = adapter.build_kwargs(
        host="127.0.0.1",
        port=closed_port,
        user="app",
        password=TOKEN,
        tls=full,
        address=None,
        user_kwargs={
            "database": "app",
            "db": "app",
            "charset": "utf8mb4",
            "collation": "utf8mb4_bin",
            "sql_mode": "ANSI",
            "init_command": "SELECT 1",
            "connect_timeout": 2,
            "read_timeout": 2,
            "write_timeout": 2,
            "client_flag": 0,
            "use_unicode": True,
            "binary_prefix": False,
            "multi_statements": True,
            "compress": True,
            "local_infile": 0,
            "autocommit": None,
            "conv": {},
            "cursorclass": cursors.Cursor,
        },
    )
    with pytest.raises(MySQLdb.OperationalError) as info:
        adapter.connect(kwargs)
    assert info.value.args[0] in (2002, 2003)
    assert TOKEN not in str(info.value)


def test_refused_then_accepted_retries_once(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    outcomes: list[Any] = [MySQLdb.OperationalError(1045, "Access denied"), "connection"]
    seen: list[str] = []

    def fake_connect(**kwargs: Any) -> Any:
        seen.append(kwargs["password"])
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(MySQLdb, "connect", fake_connect)
    with Connector(signer=StaticSigner(["t1", "t2"]), ca=ca_file, region="us-east-1") as c:
        assert c.connect(HOST, "app", driver="mysqlclient") == "connection"
        assert (c.stats.retries, c.stats.signings) == (1, 2)
    assert seen == ["t1", "t2"]


def test_missing_driver_named_by_creator(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # makes `import MySQLdb` raise ImportError
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    with pytest.raises(DriverNotInstalledError, match=r"rds-iam-auth\[mysqlclient\]") as info:
        c.creator(HOST, "app", driver="mysqlclient")
    assert isinstance(info.value, ImportError)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert adapter.is_auth_refused(Exception("x")) is False


def test_too_old_driver_named(monkeypatch: pytest.MonkeyPatch, ca_file: str) -> None:
    monkeypatch.setattr(MySQLdb, "version_info", (2, 1, 1, "final", 0))
    c = Connector(signer=StaticSigner("tok"), ca=ca_file)
    with pytest.raises(DriverNotInstalledError, match=r"mysqlclient >= 2\.2 \(found 2\.1\.1\)"):
        c.creator(HOST, "app", driver="mysqlclient")
