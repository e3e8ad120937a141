"""Bad input raises our typed errors, and each message names the parameter at fault."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.credentials import Credentials

import rds_iam_auth
from rds_iam_auth import (
    CaBundleError,
    ConfigurationError,
    Connector,
    ConnectorClosedError,
    CredentialsError,
    DriverNotInstalledError,
    RdsIamAuthError,
    RegionNotFoundError,
    SigV4Signer,
    TokenGenerationError,
    errors,
    generate_auth_token,
    parse_endpoint,
)
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.testing import FakeClock, StaticSigner

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
NAIVE = datetime(2024, 1, 2, 3, 4, 5)
CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def _generate(**overrides: Any) -> str:
    args: dict[str, Any] = {"host": HOST, "port": 5432, "user": "app"}
    kwargs: dict[str, Any] = {"credentials": CREDS, "now": NOW}
    for name, value in overrides.items():
        (args if name in args else kwargs)[name] = value
    return generate_auth_token(args["host"], args["port"], args["user"], **kwargs)


def _static_connector(**kwargs: Any) -> Connector:
    return Connector(signer=StaticSigner("tok"), region="us-east-1", ca="certifi", **kwargs)


def _raises(
    call: Callable[[], object], name: str, kind: type[Exception] = ConfigurationError
) -> Exception:
    with pytest.raises(kind) as info:
        call()
    assert name in str(info.value), f"{name!r} not named in {str(info.value)!r}"
    return info.value


# --- the hierarchy ---------------------------------------------------------------------------

ALL_ERRORS = [
    RdsIamAuthError,
    ConfigurationError,
    RegionNotFoundError,
    CredentialsError,
    TokenGenerationError,
    CaBundleError,
    DriverNotInstalledError,
    ConnectorClosedError,
]


@pytest.mark.parametrize("error", ALL_ERRORS)
def test_every_error_is_an_rds_iam_auth_error(error: type[Exception]) -> None:
    assert issubclass(error, RdsIamAuthError)
    assert issubclass(error, Exception)
    assert getattr(rds_iam_auth, error.__name__) is error
    assert error.__name__ in errors.__all__
    assert error.__name__ in rds_iam_auth.__all__


def test_errors_module_exports_exactly_these() -> None:
    assert sorted(errors.__all__) == sorted(e.__name__ for e in ALL_ERRORS)
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    assert defined == set(errors.__all__)


def test_configuration_errors_are_value_errors() -> None:
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(RegionNotFoundError, ConfigurationError)
    assert issubclass(RegionNotFoundError, ValueError)


def test_driver_not_installed_is_an_import_error() -> None:
    assert issubclass(DriverNotInstalledError, ImportError)
    assert not issubclass(DriverNotInstalledError, ValueError)


@pytest.mark.parametrize("error", [CredentialsError, TokenGenerationError, CaBundleError])
def test_runtime_errors_are_not_value_errors(error: type[Exception]) -> None:
    assert not issubclass(error, ValueError)
    assert not issubclass(error, ConfigurationError)
    assert not issubclass(error, ImportError)


# --- user ------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["", None, 5, b"app"])
def test_bad_user(user: object) -> None:
    _raises(lambda: _generate(user=user), "user")
    _raises(lambda: _static_connector().token(HOST, 5432, user), "user")  # type: ignore[arg-type]
    signer = SigV4Signer(CredentialSource(credentials=CREDS))
    endpoint = parse_endpoint(HOST, 5432)
    _raises(lambda: signer.sign(endpoint, user, now=NOW), "user")  # type: ignore[arg-type]
    _raises(
        lambda: _static_connector().connect_kwargs(HOST, user, driver="psycopg"),  # type: ignore[arg-type]
        "user",
    )


# --- port ------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_port_out_of_range(port: int) -> None:
    error = _raises(lambda: _generate(port=port), "port")
    assert str(port) in str(error)
    _raises(lambda: _static_connector().token(HOST, port, "app"), "port")
    _raises(
        lambda: _static_connector().connect_kwargs(HOST, "app", driver="psycopg", port=port), "port"
    )


@pytest.mark.parametrize("port", ["5432", 5432.0, True, None, [5432]])
def test_port_not_an_int(port: object) -> None:
    _raises(lambda: _generate(port=port), "port")
    _raises(lambda: _static_connector().token(HOST, port, "app"), "port")  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [1, 443, 65535])
def test_port_boundaries_are_accepted(port: int) -> None:
    assert _generate(port=port).startswith(f"{HOST}:{port}/?Action=connect&DBUser=app&")


# --- host ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "",
        None,
        "postgres://" + HOST,
        "https://" + HOST,
        HOST + "/db",
        HOST + ":5432",
        "admin@" + HOST,
        HOST + "?x=1",
        " " + HOST,
    ],
)
def test_bad_host(host: object) -> None:
    _raises(lambda: _generate(host=host), "host")
    _raises(lambda: _static_connector().token(host, 5432, "app"), "host")  # type: ignore[arg-type]
    _raises(
        lambda: _static_connector().connect_kwargs(host, "app", driver="psycopg"),  # type: ignore[arg-type]
        "host",
    )


def test_url_host_message_says_what_to_remove() -> None:
    error = _raises(lambda: _generate(host="postgresql://" + HOST + "/db"), "host")
    assert "scheme" in str(error)


def test_no_region_names_region() -> None:
    error = _raises(lambda: _generate(host="10.1.2.3"), "region=", RegionNotFoundError)
    assert "10.1.2.3" in str(error)
    _raises(lambda: _static_connector().token("10.1.2.3", 5432, "app", region="Bad"), "region")
    connector = Connector(signer=StaticSigner("tok"), ca="certifi")
    _raises(lambda: connector.token("10.1.2.3", 5432, "app"), "region=", RegionNotFoundError)


@pytest.mark.parametrize("region", ["", "US-EAST-1", "us_east_1", "earth", 1])
def test_bad_region(region: object) -> None:
    _raises(lambda: _generate(region=region), "region")
    _raises(lambda: Connector(signer=StaticSigner("t"), region=region), "region")  # type: ignore[arg-type]


# --- driver ----------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["mysql", "psycopg3", "PSYCOPG", "", None, 1])
def test_unknown_driver(driver: object) -> None:
    connector = _static_connector()
    for method in (connector.connect_kwargs, connector.connect, connector.creator):
        error = _raises(lambda m=method: m(HOST, "app", driver=driver), "driver")  # type: ignore[misc]
        assert "psycopg" in str(error)
        assert "pymysql" in str(error)


# --- expires_in_s ----------------------------------------------------------------------------


@pytest.mark.parametrize("expires_in_s", [0, 901, -1, 3600, True, False, 900.0, "900", None])
def test_bad_expires_in_s(expires_in_s: object) -> None:
    _raises(lambda: _generate(expires_in_s=expires_in_s), "expires_in_s")
    if expires_in_s in (901, 3600):
        # A SigV4Signer takes up to 604800 s (Aurora DSQL); for an RDS host signing refuses it.
        signer = SigV4Signer(CredentialSource(credentials=CREDS), expires_in_s=expires_in_s)  # type: ignore[arg-type]
        _raises(lambda: signer.sign(parse_endpoint(HOST, 5432), "app", now=NOW), "expires_in_s")
    else:
        _raises(lambda: SigV4Signer(expires_in_s=expires_in_s), "expires_in_s")  # type: ignore[arg-type]
    _raises(lambda: StaticSigner("t", expires_in_s=expires_in_s), "expires_in_s")  # type: ignore[arg-type]


@pytest.mark.parametrize("expires_in_s", [1, 60, 900])
def test_expires_in_s_boundaries(expires_in_s: int) -> None:
    token = _generate(expires_in_s=expires_in_s)
    assert f"&X-Amz-Expires={expires_in_s}&" in token
    signer = SigV4Signer(CredentialSource(credentials=CREDS), expires_in_s=expires_in_s)
    signed = signer.sign(parse_endpoint(HOST, 5432), "app", now=NOW)
    assert (signed.expires_at - signed.signed_at).total_seconds() == expires_in_s


# --- now -------------------------------------------------------------------------------------


def test_naive_now() -> None:
    error = _raises(lambda: _generate(now=NAIVE), "now")
    assert "timezone" in str(error)
    signer = SigV4Signer(CredentialSource(credentials=CREDS))
    endpoint = parse_endpoint(HOST, 5432)
    _raises(lambda: signer.sign(endpoint, "app", now=NAIVE), "now")
    _raises(lambda: StaticSigner("t").sign(endpoint, "app", now=NAIVE), "now")


@pytest.mark.parametrize("now", ["2024-01-02T03:04:05Z", 1704164645, 1704164645.0])
def test_now_not_a_datetime(now: object) -> None:
    _raises(lambda: _generate(now=now), "now")


def test_fake_clock_refuses_naive_times() -> None:
    _raises(lambda: FakeClock(NAIVE), "start")
    clock = FakeClock(NOW)
    _raises(lambda: clock.set(NAIVE), "when")


# --- credentials, session, profile -----------------------------------------------------------


def test_unknown_profile() -> None:
    # conftest points AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at empty paths.
    _raises(lambda: CredentialSource(profile="nope").get(), "nope")
    _raises(lambda: CredentialSource(profile="nope").get(), "profile")
    _raises(lambda: CredentialSource(profile="nope").region(), "profile")
    _raises(lambda: generate_auth_token(HOST, 5432, "app", profile="nope", now=NOW), "profile")
    _raises(lambda: generate_auth_token("localhost", 5432, "app", profile="nope"), "profile")
    _raises(lambda: Connector(profile="nope").token(HOST, 5432, "app"), "profile")
    _raises(lambda: Connector(profile="nope").token("localhost", 5432, "app"), "profile")


def test_profile_from_env_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ghost")
    with pytest.raises(ConfigurationError) as info:
        CredentialSource().get()
    # Fixed bug: credentials.py formats self._profile (None here) instead of the profile botocore
    # looked for, so the message reads "profile=None was not found ..." and never names 'ghost' /
    # AWS_PROFILE. Same in CredentialSource.region().
    assert "ghost" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        CredentialSource().region()
    assert "ghost" in str(info.value)  # fixed bug: same as above


def test_empty_profile() -> None:
    _raises(lambda: CredentialSource(profile=""), "profile")
    _raises(lambda: Connector(profile=""), "profile")


def test_no_credentials_at_all() -> None:
    error = _raises(lambda: CredentialSource().get(), "AWS_ACCESS_KEY_ID", CredentialsError)
    assert not isinstance(error, ConfigurationError)
    _raises(lambda: generate_auth_token(HOST, 5432, "app"), "credentials", CredentialsError)
    _raises(lambda: Connector().token(HOST, 5432, "app"), "credentials", CredentialsError)


def test_empty_access_key() -> None:
    creds = Credentials("", "secret")
    _raises(lambda: _generate(credentials=creds), "key", CredentialsError)


def test_more_than_one_credential_source() -> None:
    session = _botocore_session()
    error = _raises(lambda: CredentialSource(session=session, profile="p"), "session=")
    assert "profile" in str(error)
    _raises(lambda: CredentialSource(credentials=CREDS, profile="p"), "credentials=")
    _raises(lambda: generate_auth_token(HOST, 5432, "a", credentials=CREDS, profile="p"), "profile")
    _raises(lambda: Connector(credentials=CREDS, session=session), "session")


def _botocore_session() -> Any:
    from botocore.session import Session

    return Session()


@pytest.mark.parametrize("credentials", ["AKIA:secret", ("AKIA", "secret"), {"a": 1}])
def test_credentials_of_wrong_type(credentials: object) -> None:
    _raises(lambda: CredentialSource(credentials=credentials), "credentials")  # type: ignore[arg-type]
    _raises(lambda: _generate(credentials=credentials), "credentials")


def test_session_of_wrong_type() -> None:
    _raises(lambda: CredentialSource(session="default"), "session")
    _raises(lambda: Connector(session=object()), "session")


# --- Connector arguments ---------------------------------------------------------------------


@pytest.mark.parametrize("tls", ["disable", "require", "verify_full", "", None, True])
def test_bad_tls(tls: object) -> None:
    _raises(lambda: Connector(signer=StaticSigner("t"), tls=tls), "tls")  # type: ignore[arg-type]


@pytest.mark.parametrize("ca", ["", 5, b"/etc/ssl/cert.pem"])
def test_bad_ca(ca: object) -> None:
    _raises(lambda: Connector(signer=StaticSigner("t"), ca=ca), "ca")  # type: ignore[arg-type]


def test_missing_ca_file(tmp_path: Any) -> None:
    missing = str(tmp_path / "missing.pem")
    connector = Connector(signer=StaticSigner("t"), ca=missing)
    error = _raises(
        lambda: connector.connect_kwargs(HOST, "app", driver="psycopg"), missing, CaBundleError
    )
    assert "ca=" in str(error)


@pytest.mark.parametrize("refresh_before_s", [-1, 900, 1000, True, "300", None])
def test_bad_refresh_before_s(refresh_before_s: object) -> None:
    _raises(
        lambda: Connector(signer=StaticSigner("t"), refresh_before_s=refresh_before_s),  # type: ignore[arg-type]
        "refresh_before_s",
    )


@pytest.mark.parametrize("max_cached", [0, -1, True, 1.5, "10"])
def test_bad_max_cached(max_cached: object) -> None:
    _raises(lambda: Connector(signer=StaticSigner("t"), max_cached=max_cached), "max_cached")  # type: ignore[arg-type]


def test_bad_clock() -> None:
    _raises(lambda: Connector(signer=StaticSigner("t"), clock=12.0), "clock")  # type: ignore[arg-type]


def test_bad_signer() -> None:
    _raises(lambda: Connector(signer=object()), "signer")  # type: ignore[arg-type]
    _raises(lambda: Connector(signer=StaticSigner("t"), credentials=CREDS), "signer=")
    _raises(lambda: Connector(signer=StaticSigner("t"), profile="p"), "signer=")


def test_closed_connector() -> None:
    connector = _static_connector()
    connector.close()
    _raises(lambda: connector.token(HOST, 5432, "app"), "Connector", ConnectorClosedError)


@pytest.mark.parametrize("tokens", [[], [1], ["a", None]])
def test_bad_static_signer_tokens(tokens: Any) -> None:
    _raises(lambda: StaticSigner(tokens), "tokens")


def test_static_signer_runs_out() -> None:
    signer = StaticSigner(["only"])
    endpoint = parse_endpoint(HOST, 5432)
    assert signer.sign(endpoint, "app", now=NOW).value == "only"
    _raises(lambda: signer.sign(endpoint, "app", now=NOW), "StaticSigner", TokenGenerationError)


def test_errors_on_bad_input_are_raised_before_any_credential_lookup() -> None:
    # No credentials exist here: a bad parameter must still be reported as such.
    _raises(lambda: generate_auth_token(HOST, 0, "app"), "port")
    _raises(lambda: generate_auth_token(HOST, 5432, ""), "user")
    _raises(lambda: generate_auth_token("https://x", 5432, "app"), "host")
    _raises(lambda: generate_auth_token(HOST, 5432, "app", expires_in_s=0), "expires_in_s")
    _raises(lambda: generate_auth_token(HOST, 5432, "app", now=NAIVE), "now")
