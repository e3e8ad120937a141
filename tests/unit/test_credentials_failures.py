"""CredentialSource when things go wrong: expired refreshable credentials, a failed __init__."""

from __future__ import annotations

import traceback
from datetime import datetime, timedelta, timezone

import pytest
from botocore.credentials import RefreshableCredentials

from rds_iam_auth import ConfigurationError, Connector, CredentialsError
from rds_iam_auth.credentials import CredentialSource

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "SESSIONTOKEN/+="
HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def _metadata(expiry: datetime) -> dict[str, str]:
    return {
        "access_key": AKID,
        "secret_key": SECRET,
        "token": SESSION_TOKEN,
        "expiry_time": expiry.isoformat(),
    }


def expired_refreshable(refresh_error: BaseException | None = None) -> RefreshableCredentials:
    """Credentials that expired an hour ago and whose refresh hands out expired ones again
    (a stale SSO cache, a role session that cannot be renewed) or raises ``refresh_error``."""
    expired = datetime.now(timezone.utc) - timedelta(hours=1)

    def refresh() -> dict[str, str]:
        if refresh_error is not None:
            raise refresh_error
        return _metadata(expired)

    return RefreshableCredentials.create_from_metadata(
        metadata=_metadata(expired), refresh_using=refresh, method="test"
    )


def test_still_expired_after_refresh_is_a_credentials_error_that_says_how_to_fix_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Fixed bug: botocore's RuntimeError("Credentials were refreshed, but the refreshed
    # credentials are still expired.") escaped as is, past `except RdsIamAuthError`.
    source = CredentialSource(credentials=expired_refreshable())
    with pytest.raises(CredentialsError) as info:
        source.get()
    error = info.value
    message = str(error)
    assert "expired" in message
    assert "aws sso login" in message
    assert "assume the role again" in message
    assert "CredentialSource(credentials)" in message
    # Nothing of botocore's failure stays reachable: its frames hold the keys.
    assert error.__context__ is None
    assert error.__cause__ is None
    rendered = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    for secret in (SECRET, SESSION_TOKEN):
        assert secret not in message
        assert secret not in rendered
        assert secret not in caplog.text


def test_still_expired_credentials_fail_a_connector_token_with_credentials_error() -> None:
    c = Connector(credentials=expired_refreshable(), region="us-east-1", ca="certifi")
    with pytest.raises(CredentialsError, match="expired"):
        c.token(HOST, 5432, "app")


def test_other_runtime_errors_from_a_refresh_are_not_disguised() -> None:
    # A RuntimeError that is not botocore's expiry check is a bug somewhere: keep it as it is.
    bug = RuntimeError("refresh function is broken")
    source = CredentialSource(credentials=expired_refreshable(refresh_error=bug))
    with pytest.raises(RuntimeError) as info:
        source.get()
    assert info.value is bug
    assert not isinstance(info.value, CredentialsError)


# --- repr of a half-built CredentialSource ---------------------------------------------------


def test_repr_of_an_instance_whose_init_never_ran() -> None:
    # Fixed bug: repr() raised AttributeError on a half-initialised instance.
    assert repr(object.__new__(CredentialSource)) == "CredentialSource(not initialised)"


class Recording(CredentialSource):
    """Keeps the instance whose __init__ raised, as an error tracker holding frames would."""

    built: list[CredentialSource] = []  # noqa: RUF012 - test-local registry

    def __init__(self, **kwargs: object) -> None:
        Recording.built.append(self)
        super().__init__(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"session": object()}, {"profile": ""}, {"credentials": (AKID, SECRET)}],
    ids=["bad-session", "empty-profile", "credentials-tuple"],
)
def test_repr_of_an_instance_whose_init_raised(kwargs: dict[str, object]) -> None:
    Recording.built.clear()
    with pytest.raises(ConfigurationError):
        Recording(**kwargs)
    (half_built,) = Recording.built
    text = repr(half_built)
    assert text == "CredentialSource(not initialised)"
    assert SECRET not in text


def test_rendering_the_locals_of_a_failed_init_works_and_shows_no_secret() -> None:
    # What Sentry-style error trackers do: render every frame's locals, `self` included.
    with pytest.raises(ConfigurationError) as info:
        CredentialSource(credentials=(AKID, SECRET))  # type: ignore[arg-type]
    rendered = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert "self = CredentialSource(not initialised)" in rendered
    assert "ConfigurationError: credentials must be" in rendered
