"""Where AWS credentials and the default region come from.

All botocore session and credential-provider imports live here and happen lazily, on first
use, so ``import rds_iam_auth`` stays cheap.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True, slots=True)
class FrozenCredentials:
    """One consistent snapshot of a key pair, its session token and its expiry."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(repr=False)
    expiry: datetime | None


# Profile settings that bring in a provider ahead of the shared credentials file in botocore's
# chain (assume role, web identity, SSO, login, credential_process).
_MAY_NEED_AWS_CALL = re.compile(r"role|sso|web_identity|credential_|source_profile|login")

_live_sources: weakref.WeakSet[CredentialSource] = weakref.WeakSet()


def _reset_after_fork() -> None:
    # A child forked mid-resolution inherits a lock held by a thread it does not have.
    for source in list(_live_sources):
        source._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


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
        self._sections: tuple[dict[str, str], dict[str, str], bool] | None = None
        self._sections_read = False
        _live_sources.add(self)

    def __repr__(self) -> str:
        source = "session" if self._session else "credentials" if self._explicit else None
        source = source or (f"profile={self._profile!r}" if self._profile else "default chain")
        return f"CredentialSource({source})"

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
        """Static keys from the environment, read as botocore's EnvProvider reads them.

        The EnvProvider heads botocore's default chain, so when it has keys the chain's answer
        is known without importing botocore.session (most of a cold start). Everything else
        (expiring env credentials, profiles, sessions) goes through botocore itself.
        """
        if self._session is not None or self._explicit is not None or self._profile is not None:
            return None
        env = os.environ
        if any(env.get(v) for v in ("AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE")):
            return None
        access_key = env.get("AWS_ACCESS_KEY_ID", "")
        secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
        if not access_key or not secret_key:
            return None
        token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
        return FrozenCredentials(access_key, secret_key, token, None)

    def _profile_name(self) -> str:
        # botocore's "profile" setting: the argument, then these variables, in this order.
        env = os.environ
        return (
            self._profile or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or "default"
        )

    def _profile_sections(self) -> tuple[dict[str, str], dict[str, str], bool] | None:
        """:meth:`_read_profile_sections`, read once: region() and get() both need them."""
        if not self._sections_read:
            self._sections = self._read_profile_sections()
            self._sections_read = True
        return self._sections

    def _read_profile_sections(self) -> tuple[dict[str, str], dict[str, str], bool] | None:
        """The profile's settings in the credentials file and the config file, and whether
        the profile exists at all; or None.

        None whenever botocore could answer differently: an unreadable file, or a profile that
        names a role, SSO, web identity, a process or a login, whose providers come earlier in
        botocore's chain than plain keys (and may call AWS).
        """
        import configparser

        env = os.environ
        if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") and self._profile is None:
            return None
        name = self._profile_name()
        files = (
            env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials",
            env.get("AWS_CONFIG_FILE") or "~/.aws/config",
        )
        sections: list[dict[str, str]] = []
        exists = False
        for index, path in enumerate(files):
            parser = configparser.RawConfigParser()
            try:
                parser.read([os.path.expanduser(os.path.expandvars(path))], encoding=None)
            except (configparser.Error, UnicodeDecodeError, OSError):
                return None
            merged: dict[str, str] = {}
            for section in parser.sections():
                if index == 0:
                    matches = section == name
                else:
                    parts = section.split()
                    matches = (section == "default" == name) or (
                        len(parts) == 2 and parts[0] == "profile" and parts[1] == name
                    )
                if matches:
                    exists = True
                    merged.update(parser.items(section))
            if any(_MAY_NEED_AWS_CALL.search(key) for key in merged):
                return None
            sections.append(merged)
        return sections[0], sections[1], exists

    def _profile_keys(self) -> FrozenCredentials | None:
        """Static keys of a profile in the shared credentials file, read as botocore would.

        botocore's SharedCredentialProvider returns them when no earlier provider applies;
        this reads them with configparser instead of importing botocore.session.
        """
        if self._session is not None or self._explicit is not None:
            return None
        if self._profile is None and os.environ.get("AWS_ACCESS_KEY_ID"):
            return None  # the environment provider comes first (and is handled elsewhere)
        sections = self._profile_sections()
        if sections is None:
            return None
        creds_section = sections[0]
        access_key = creds_section.get("aws_access_key_id", "")
        secret_key = creds_section.get("aws_secret_access_key", "")
        if not access_key or not secret_key:
            return None
        # botocore takes the first of these that is present, even when it is empty.
        token: str | None = None
        for option in ("aws_security_token", "aws_session_token"):
            if option in creds_section:
                token = creds_section[option]
                break
        return FrozenCredentials(access_key, secret_key, token, None)

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
                    self._static = self._environment_keys() or self._profile_keys()
            if self._static is not None:
                return self._static

        from botocore.exceptions import BotoCoreError

        creds = self._credentials_object()
        try:
            frozen = creds.get_frozen_credentials()
        except BotoCoreError as exc:
            raise CredentialsError(f"could not refresh AWS credentials: {exc}") from None
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
            if sections is not None:
                creds_section, config_section, exists = sections
                if exists or self._profile_name() == "default":
                    # Credentials-file settings override config-file ones, as in botocore.
                    section = creds_section if "region" in creds_section else config_section
                    region = section.get("region")
                    return region or os.environ.get("AWS_REGION") or None

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
