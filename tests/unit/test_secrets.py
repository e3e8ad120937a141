"""No token, signature, secret key or session token in logs, reprs or error messages."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.credentials import Credentials

from rds_iam_auth import (
    ConfigurationError,
    Connector,
    RdsIamAuthError,
    SigV4Signer,
    Token,
    TokenGenerationError,
    generate_auth_token,
    parse_endpoint,
)
from rds_iam_auth.credentials import CredentialSource
from rds_iam_auth.testing import FakeClock, StaticSigner

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSION/+//TOKEN+abc=="
HOST = "MyDB.cluster-abc123.us-east-1.rds.amazonaws.com"
USER = "iam_app_user"
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
LOGGERS = ("", "botocore", "botocore.auth", "rds_iam_auth")


def _creds() -> Credentials:
    return Credentials(AKID, SECRET, SESSION_TOKEN)


def _secrets_of(token: str) -> list[str]:
    """Every secret a leak of ``token`` could expose: itself, its signature, the keys."""
    signature = parse_qs(urlsplit(f"https://{token}").query)["X-Amz-Signature"][0]
    assert len(signature) == 64
    return [
        token,
        signature,
        SECRET,
        quote(SECRET, safe=""),
        SESSION_TOKEN,
        quote(SESSION_TOKEN, safe="-_.~"),
    ]


def _static_secrets() -> list[str]:
    return [SECRET, quote(SECRET, safe=""), SESSION_TOKEN, quote(SESSION_TOKEN, safe="-_.~")]


def _assert_clean(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"secret {secret[:12]}... found in {where}: {text!r}"


def _assert_records_clean(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    for record in caplog.records:
        where = f"log record {record.name}:{record.levelname}"
        _assert_clean(record.getMessage(), secrets, where)
        _assert_clean(str(record.msg), secrets, where)
        _assert_clean(repr(record.args), secrets, where)
        if record.exc_info:
            _assert_clean("".join(traceback.format_exception(*record.exc_info)), secrets, where)
    _assert_clean(caplog.text, secrets, "caplog.text")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_capture_works_botocore_add_auth_does_log_the_signature(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    # Positive control: the plain botocore recipe leaks the signature at DEBUG, and our
    # capture sees it. (This is why the library does not call add_auth.)
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=f"https://{HOST}:5432/", data={"Action": "connect"})
    SigV4QueryAuth(_creds().get_frozen_credentials(), "rds-db", "us-east-1").add_auth(request)
    signature = parse_qs(urlsplit(request.url).query)["X-Amz-Signature"][0]
    assert signature in debug_logs.text


def test_generate_auth_token_logs_no_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    token = generate_auth_token(HOST, 5432, USER, credentials=_creds(), now=NOW)
    assert "X-Amz-Security-Token=" in token
    token_default_time = generate_auth_token(HOST, 5432, USER, credentials=_creds())
    _assert_records_clean(debug_logs, _secrets_of(token) + _secrets_of(token_default_time))


def test_generate_auth_token_from_environment_logs_no_secret(
    debug_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    token = generate_auth_token(HOST, 5432, USER, now=NOW)
    assert token == generate_auth_token(HOST, 5432, USER, credentials=_creds(), now=NOW)
    _assert_records_clean(debug_logs, _secrets_of(token))


def test_sigv4_signer_logs_no_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    source = CredentialSource(credentials=_creds())
    signer = SigV4Signer(source)
    token = signer.sign(parse_endpoint(HOST, 5432), USER, now=NOW)
    secrets = _secrets_of(token.value)
    _assert_records_clean(debug_logs, secrets)
    for obj in (token, signer, source, source.get(), parse_endpoint(HOST, 5432)):
        _assert_clean(repr(obj), secrets, f"repr({type(obj).__name__})")
        _assert_clean(str(obj), secrets, f"str({type(obj).__name__})")


def test_connector_logs_no_secret_and_logs_the_signing(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(NOW)
    connector = Connector(credentials=_creds(), clock=clock, ca="certifi")
    token = connector.token(HOST, 5432, USER)
    assert token.value == generate_auth_token(HOST, 5432, USER, credentials=_creds(), now=NOW)
    again = connector.token(HOST, 5432, USER)  # cache hit
    assert again is token
    clock.advance(700)  # inside the refresh window (refresh_before_s=300)
    refreshed = connector.token(HOST, 5432, USER)
    assert refreshed.value != token.value
    kwargs = connector.connect_kwargs(HOST, USER, driver="psycopg", dbname="app")
    assert kwargs["password"] == refreshed.value  # by design: it is for the driver
    pymysql_kwargs = connector.connect_kwargs(HOST, USER, driver="pymysql", port=3306)
    assert pymysql_kwargs["password"] != refreshed.value  # another port, another token

    secrets = (
        _secrets_of(token.value)
        + _secrets_of(refreshed.value)
        + _secrets_of(pymysql_kwargs["password"])
    )
    _assert_records_clean(debug_logs, secrets)
    for obj in (token, refreshed, connector, connector.stats, clock):
        _assert_clean(repr(obj), secrets, f"repr({type(obj).__name__})")
        _assert_clean(str(obj), secrets, f"str({type(obj).__name__})")

    signing_lines = [
        r
        for r in debug_logs.records
        if r.name == "rds_iam_auth" and r.levelno == logging.DEBUG and HOST in r.getMessage()
    ]
    assert len(signing_lines) >= 2, [r.getMessage() for r in debug_logs.records]
    for record in signing_lines:
        message = record.getMessage()
        assert USER in message
        assert HOST in message
        assert "5432" in message or "3306" in message
        assert "?Action=connect" not in message
        assert "X-Amz" not in message


def test_token_repr_and_str_hide_the_value() -> None:
    value = "host:5432/?Action=connect&DBUser=u&X-Amz-Signature=" + "ab" * 32
    token = Token(
        value=value,
        host="host",
        port=5432,
        user="u",
        region="us-east-1",
        signed_at=NOW,
        expires_at=NOW + timedelta(seconds=900),
    )
    for text in (repr(token), str(token), f"{token}", f"{token!r}"):
        assert value not in text
        assert "ab" * 32 not in text
        assert "X-Amz" not in text
        assert "host" in text
        assert "us-east-1" in text


def test_static_signer_and_its_connector_reprs_hide_tokens() -> None:
    signer = StaticSigner(["static-secret-token-1", "static-secret-token-2"])
    connector = Connector(signer=signer, region="us-east-1", ca="certifi")
    token = connector.token("10.0.0.1", 5432, USER)
    assert token.value == "static-secret-token-1"
    for obj in (signer, connector, token):
        assert "static-secret-token" not in repr(obj)
        assert "static-secret-token" not in str(obj)


def test_credential_reprs_hide_keys() -> None:
    for source in (
        CredentialSource(credentials=_creds()),
        CredentialSource(session=_botocore_session_with_creds()),
        CredentialSource(profile="somebody"),
        CredentialSource(),
    ):
        _assert_clean(repr(source), _static_secrets(), "repr(CredentialSource)")
    frozen = CredentialSource(credentials=_creds()).get()
    assert frozen.secret_key == SECRET
    assert frozen.token == SESSION_TOKEN
    _assert_clean(repr(frozen), _static_secrets(), "repr(FrozenCredentials)")
    _assert_clean(str(frozen), _static_secrets(), "str(FrozenCredentials)")
    signer = SigV4Signer(CredentialSource(credentials=_creds()))
    _assert_clean(repr(signer), _static_secrets(), "repr(SigV4Signer)")
    connector = Connector(credentials=_creds(), ca="certifi")
    connector.token(HOST, 5432, USER)
    _assert_clean(repr(connector), _static_secrets(), "repr(Connector)")


def _botocore_session_with_creds() -> Any:
    from botocore.session import Session

    session = Session()
    session.set_credentials(AKID, SECRET, SESSION_TOKEN)
    return session


def _exception_text(exc: BaseException) -> str:
    return "\n".join(
        [str(exc), repr(exc), *(str(a) for a in exc.args), *traceback.format_exception(exc)]
    )


BAD_CALLS = {
    "port": lambda: generate_auth_token(HOST, 0, USER, credentials=_creds(), now=NOW),
    "port-type": lambda: generate_auth_token(HOST, "5432", USER, credentials=_creds()),  # type: ignore[arg-type]
    "user": lambda: generate_auth_token(HOST, 5432, "", credentials=_creds(), now=NOW),
    "host": lambda: generate_auth_token(f"https://{HOST}", 5432, USER, credentials=_creds()),
    "expires": lambda: generate_auth_token(
        HOST, 5432, USER, credentials=_creds(), expires_in_s=901
    ),
    "now": lambda: generate_auth_token(
        HOST, 5432, USER, credentials=_creds(), now=datetime(2024, 1, 1)
    ),
    "region": lambda: generate_auth_token("10.0.0.1", 5432, USER, credentials=_creds()),
    "both": lambda: generate_auth_token(HOST, 5432, USER, credentials=_creds(), profile="p"),
    "connector-port": lambda: Connector(credentials=_creds()).token(HOST, 70000, USER),
    "connector-driver": lambda: Connector(credentials=_creds()).connect_kwargs(
        HOST, USER, driver="nope"
    ),
    "connector-tls": lambda: Connector(credentials=_creds(), tls="disable"),
    "connector-sslmode": lambda: Connector(credentials=_creds(), ca="certifi").connect_kwargs(
        HOST, USER, driver="psycopg", sslmode="disable"
    ),
    "connector-password": lambda: Connector(credentials=_creds(), ca="certifi").connect_kwargs(
        HOST, USER, driver="psycopg", password=SECRET
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_errors_on_bad_input_carry_no_secret(
    case: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigurationError) as info:
        BAD_CALLS[case]()
    _assert_clean(_exception_text(info.value), _static_secrets(), f"error for {case}")
    _assert_records_clean(debug_logs, _static_secrets())


def test_signing_failure_does_not_expose_the_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    # A secret key that blows up inside botocore's signing step, with the secret in the
    # exception text and in the frames' locals.
    from botocore.credentials import ReadOnlyCredentials

    class _ExplodingSecret:
        def __format__(self, spec: str) -> str:
            raise RuntimeError(f"cannot format {SECRET} / {SESSION_TOKEN}")

    class _Source:
        def get_frozen_credentials(self) -> ReadOnlyCredentials:
            return ReadOnlyCredentials(AKID, _ExplodingSecret(), SESSION_TOKEN)

    bad: Any = _Source()
    with pytest.raises(TokenGenerationError) as info:
        generate_auth_token(HOST, 5432, USER, credentials=bad, now=NOW)
    # Not chained, and not even kept as the hidden __context__: its frames hold the secret.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    _assert_clean(_exception_text(info.value), _static_secrets(), "TokenGenerationError")
    _assert_records_clean(debug_logs, _static_secrets())


class _FlakySigner:
    """Signs once through SigV4, then fails with an exception whose text is a secret."""

    def __init__(self) -> None:
        self._inner = SigV4Signer(CredentialSource(credentials=_creds()))
        self.calls = 0

    def sign(self, endpoint: Any, user: str, *, now: datetime) -> Token:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError(f"backend said: {SECRET} {SESSION_TOKEN}")
        return self._inner.sign(endpoint, user, now=now)


def test_failed_refresh_warning_carries_no_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(NOW)
    connector = Connector(signer=_FlakySigner(), clock=clock, ca="certifi")
    token = connector.token(HOST, 5432, USER)
    clock.advance(700)  # refresh due, token still valid: the failure is logged, token served
    assert connector.token(HOST, 5432, USER) is token
    warnings = [r for r in debug_logs.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name == "rds_iam_auth"
    assert HOST in warnings[0].getMessage()
    _assert_records_clean(debug_logs, _secrets_of(token.value))


def test_rds_iam_auth_error_str_of_credentials_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # With only half a key pair in the environment botocore finds nothing usable.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    with pytest.raises(RdsIamAuthError) as info:
        generate_auth_token(HOST, 5432, USER, now=NOW)
    _assert_clean(_exception_text(info.value), _static_secrets(), "credentials error")
