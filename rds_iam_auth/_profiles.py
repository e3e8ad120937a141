"""Static keys and the region, read from the environment and the shared config files the way
botocore reads them, without importing ``botocore.session`` (most of a cold start).

Each function answers only when botocore's answer is certain; otherwise it returns None and
the caller asks botocore itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "FrozenCredentials",
    "ProfileSections",
    "environment_keys",
    "profile_keys",
    "profile_name",
    "read_profile_sections",
]


@dataclass(frozen=True, slots=True)
class FrozenCredentials:
    """One consistent snapshot of a key pair, its session token and its expiry."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(repr=False)
    expiry: datetime | None


@dataclass(frozen=True, slots=True)
class ProfileSections:
    """A profile's settings in the credentials file and in the config file."""

    credentials: dict[str, str] = field(repr=False)  # may hold the secret key
    config: dict[str, str] = field(repr=False)
    exists: bool  # the profile appears in either file


# Profile settings that bring in a provider ahead of the shared credentials file in botocore's
# chain (assume role, web identity, SSO, login, credential_process).
_MAY_NEED_AWS_CALL = re.compile(r"role|sso|web_identity|credential_|source_profile|login")


def environment_keys() -> FrozenCredentials | None:
    """Static keys from the environment, read as botocore's EnvProvider reads them.

    The EnvProvider heads botocore's default chain, so when it has keys the chain's answer
    is known. Expiring environment credentials and a profile chosen by ``AWS_PROFILE`` are
    left to botocore.
    """
    env = os.environ
    if any(env.get(v) for v in ("AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE")):
        return None
    access_key = env.get("AWS_ACCESS_KEY_ID", "")
    secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key or not secret_key:
        return None
    token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
    return FrozenCredentials(access_key, secret_key, token, None)


def profile_name(profile: str | None) -> str:
    """botocore's "profile" setting: the argument, then these variables, in this order."""
    env = os.environ
    return profile or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE") or "default"


def read_profile_sections(profile: str | None) -> ProfileSections | None:
    """The settings of ``profile`` (None: the one botocore would pick) in both files, or None.

    None whenever botocore could answer differently: an unreadable file, or a profile that
    names a role, SSO, web identity, a process or a login, whose providers come earlier in
    botocore's chain than plain keys (and may call AWS).
    """
    import configparser

    env = os.environ
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") and profile is None:
        return None
    name = profile_name(profile)
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
    return ProfileSections(sections[0], sections[1], exists)


def profile_keys(sections: ProfileSections) -> FrozenCredentials | None:
    """Static keys of a profile in the shared credentials file, read as botocore would.

    botocore's SharedCredentialProvider returns them when no earlier provider applies.
    """
    creds_section = sections.credentials
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
