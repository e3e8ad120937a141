"""Where AWS credentials and the default region come from.

All botocore session and credential-provider imports live here and happen lazily, on first
use, so ``import rds_iam_auth`` stays cheap.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import _fork, _profiles
from ._profiles import FrozenCredentials, ProfileSections
from .errors import ConfigurationError, CredentialsError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = ["CredentialSource", "FrozenCredentials"]

_WHERE_WE_LOOKED = (
    "environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), "
    "the shared credentials and config files (~/.aws/credentials, ~/.aws/config, "
    "AWS_PROFILE), web identity / SSO / process providers, and container / EC2 instance "
    "metadata"
)

# What botocore's RefreshableCredentials raises (a bare RuntimeError) when its refresh function
# returned credentials that have expired already: e.g. a stale SSO cache or an expired session.
_BOTOCORE_STILL_EXPIRED = "refreshed credentials are still expired"

_EXPIRED = (
    "the AWS credentials of {source!r} have expired, and refreshing them returned expired "
    "ones again; renew them where they come from (e.g. `aws sso login`, assume the role "
    "again, or fix the credential_process / refresh function) and retry"
)


def _reset_lock(source: CredentialSource) -> None:
    # A child forked mid-resolution inherits a lock held by a thread it does not have.
    source._lock = threading.Lock()


class CredentialSource:
    """Resolves AWS credentials once, lazily, from exactly one of the supported sources.

    Args:
        session: A ``boto3.Session`` or ``botocore.session.Session``.
        credentials: Explicit botocore ``Credentials`` (refreshable ones keep refreshing).
        profile: A profile name from the shared config / credentials files.

    With none of them, botocore's default provider chain is used.
    """

    def __init__(
        self,
        *,
        session: Any = None,
        credentials: Credentials | None = None,
        profile: str | None = None,
    ) -> None:
        given = [n for n, v in (("session", session), ("credentials", credentials)) if v]
        if profile is not None:
            if not isinstance(profile, str) or not profile:
                raise ConfigurationError("profile must be a non-empty string")
            given.append("profile")
        if len(given) > 1:
            raise ConfigurationError(
                f"pass only one of session=, credentials= or profile= (got {', '.join(given)})"
            )
        if session is not None and not hasattr(session, "get_credentials"):
            raise ConfigurationError(
                "session must be a boto3.Session or botocore.session.Session, "
                f"got {type(session).__name__}"
            )
        if credentials is not None and not hasattr(credentials, "get_frozen_credentials"):
            raise ConfigurationError(
                "credentials must be a botocore.credentials.Credentials object, "
                f"got {type(credentials).__name__}"
            )
        self._session = session
        self._explicit = credentials
        self._profile = profile
        self._lock = threading.Lock()
        self._botocore_session: Any = None
        self._resolved: Credentials | None = credentials
        self._static: FrozenCredentials | None = None  # keys read without botocore.session
        self._static_origin = ""  # botocore's method name for the provider they stand in for
        self._sections: ProfileSections | None = None
        self._sections_read = False
        _fork.register(self, _reset_lock)

    def __repr__(self) -> str:
        return f"CredentialSource({self._describe()})"

    def _describe(self) -> str:
        # repr() must work on an instance whose __init__ raised: error trackers render the
        # locals of the failing frame, and `self` is one of them.
        if not hasattr(self, "_sections_read"):  # the last attribute __init__ sets
            return "not initialised"
        if self._session:
            return "session"
        if self._explicit:
            return "credentials"
        return f"profile={self._profile!r}" if self._profile else "default chain"

    def _get_botocore_session(self) -> Any:
        if self._session is not None:
            return getattr(self._session, "_session", self._session)
        if self._botocore_session is None:
            from botocore.session import Session

            self._botocore_session = Session(profile=self._profile)
        return self._botocore_session

    def _credentials_object(self) -> Credentials:
        if self._resolved is None:
            with self._lock:
                if self._resolved is None:
                    self._resolved = self._resolve()
        return self._resolved

    def _profile_not_found(self, exc: Exception) -> ConfigurationError:
        # botocore names the profile it looked for; ours is None when it came from the
        # environment or from the caller's session.
        name = getattr(exc, "kwargs", {}).get("profile")
        if self._profile is not None:
            origin = f"profile={self._profile!r}"
        elif self._session is not None:
            origin = f"the session's profile {name!r}"
        elif os.environ.get("AWS_PROFILE"):
            origin = f"profile {name or os.environ['AWS_PROFILE']!r} (from AWS_PROFILE)"
        else:
            origin = f"profile {name!r}"
        return ConfigurationError(
            f"{origin} was not found in ~/.aws/config or ~/.aws/credentials (or the files "
            "named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
        )

    def _resolve(self) -> Credentials:
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        try:
            creds = self._get_botocore_session().get_credentials()
        except ProfileNotFound as exc:
            raise self._profile_not_found(exc) from None
        except BotoCoreError as exc:
            raise CredentialsError(f"could not load AWS credentials: {exc}") from None
        if creds is None:
            raise CredentialsError(f"no AWS credentials found; looked in {_WHERE_WE_LOOKED}")
        return creds  # type: ignore[no-any-return]

    def _environment_keys(self) -> FrozenCredentials | None:
        """Static keys from the environment when botocore's default chain would use them."""
        if self._session is not None or self._explicit is not None or self._profile is not None:
            return None
        return _profiles.environment_keys()

    def _profile_sections(self) -> ProfileSections | None:
        """The profile's settings in the shared files, read once (region() and get() both)."""
        if not self._sections_read:
            self._sections = _profiles.read_profile_sections(self._profile)
            self._sections_read = True
        return self._sections

    def _profile_keys(self) -> FrozenCredentials | None:
        """Static keys of the profile in the shared credentials file, if botocore uses them."""
        if self._session is not None or self._explicit is not None:
            return None
        if self._profile is None and os.environ.get("AWS_ACCESS_KEY_ID"):
            return None  # the environment provider comes first (and is handled elsewhere)
        sections = self._profile_sections()
        return None if sections is None else _profiles.profile_keys(sections)

    def _read_static_keys(self) -> None:
        keys = self._environment_keys()
        origin = "env"
        if keys is None:
            keys, origin = self._profile_keys(), "shared-credentials-file"
        if keys is not None:
            self._static_origin = origin
            self._static = keys

    def origin(self) -> str | None:
        """Where the credentials of the last :meth:`get` came from, or None before one.

        botocore's provider names: ``"env"`` (environment variables),
        ``"shared-credentials-file"``, ``"config-file"``, ``"sso"``, ``"assume-role"``,
        ``"assume-role-with-web-identity"``, ``"custom-process"``, ``"container-role"`` (ECS
        / EKS), ``"iam-role"`` (EC2 instance metadata), ...; ``"explicit"`` for credentials
        passed without one.
        """
        if self._static is not None:
            return self._static_origin
        if self._resolved is None:
            return None
        method = getattr(self._resolved, "method", None)
        return method if isinstance(method, str) and method else "explicit"

    def get(self) -> FrozenCredentials:
        """Return current credentials, refreshing temporary ones as botocore decides.

        Raises:
            CredentialsError: None found, or refreshing them failed.
        """
        if self._static is not None:
            return self._static
        if self._resolved is None:
            with self._lock:
                if self._resolved is None and self._static is None:
                    self._read_static_keys()
            if self._static is not None:
                return self._static

        from botocore.exceptions import BotoCoreError

        creds = self._credentials_object()
        try:
            frozen = creds.get_frozen_credentials()
        except BotoCoreError as exc:
            failure = f"could not refresh AWS credentials: {exc}"
        except RuntimeError as exc:
            if _BOTOCORE_STILL_EXPIRED not in str(exc):
                raise  # not botocore's refresh check: a bug, keep its traceback
            failure = _EXPIRED.format(source=self)
        else:
            failure = ""
        if failure:
            # Raised outside the except block, so botocore's exception is not even kept as
            # __context__: the frames of its refresh hold the keys.
            raise CredentialsError(failure)
        if not frozen.access_key or not frozen.secret_key:
            raise CredentialsError("the AWS credentials found have an empty access or secret key")
        # botocore keeps the expiry of refreshable credentials in a private attribute; there is
        # no public accessor, and without it tokens would outlive their credentials.
        expiry = getattr(creds, "_expiry_time", None)
        if isinstance(expiry, datetime):
            expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=timezone.utc)
        else:
            expiry = None
        return FrozenCredentials(frozen.access_key, frozen.secret_key, frozen.token, expiry)

    def region(self) -> str | None:
        """The session's or profile's region (botocore reads ``AWS_DEFAULT_REGION`` and the
        config file), else ``AWS_REGION``, else ``None``.

        Raises:
            ConfigurationError: The profile does not exist.
        """
        if self._session is None:
            region = os.environ.get("AWS_DEFAULT_REGION")  # botocore reads it before any file
            if region:
                return region
            sections = self._profile_sections()
            if sections is not None and (
                sections.exists or _profiles.profile_name(self._profile) == "default"
            ):
                # Credentials-file settings override config-file ones, as in botocore.
                files = sections.credentials, sections.config
                section = files[0] if "region" in files[0] else files[1]
                return section.get("region") or os.environ.get("AWS_REGION") or None

        from botocore.exceptions import BotoCoreError, ProfileNotFound

        region = getattr(self._session, "region_name", None)
        if not isinstance(region, str) or not region:
            try:
                region = self._get_botocore_session().get_config_variable("region")
            except ProfileNotFound as exc:
                raise self._profile_not_found(exc) from None
            except BotoCoreError:
                region = None
        return region or os.environ.get("AWS_REGION") or None
