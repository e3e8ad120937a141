"""Exceptions raised by rds_iam_auth.

Our errors describe what went wrong *before* a driver is called: bad input, missing
credentials, a CA bundle we cannot find. A database refusing a login is reported with the
driver's own exception, which applications already handle.
"""

from __future__ import annotations

__all__ = [
    "CaBundleError",
    "ConfigurationError",
    "CredentialsError",
    "DriverNotInstalledError",
    "RdsIamAuthError",
    "RegionNotFoundError",
    "TokenGenerationError",
]


class RdsIamAuthError(Exception):
    """Root of every exception this library raises."""


class ConfigurationError(RdsIamAuthError, ValueError):
    """A parameter is invalid; the message names the parameter and how to fix it."""


class RegionNotFoundError(ConfigurationError):
    """No AWS region could be determined for an endpoint."""


class CredentialsError(RdsIamAuthError):
    """No usable AWS credentials: none found, expired, or they could not be refreshed."""


class TokenGenerationError(RdsIamAuthError):
    """Signing an authentication token failed."""


class CaBundleError(RdsIamAuthError):
    """The CA bundle used to verify the server is missing, unreadable or could not be fetched."""


class DriverNotInstalledError(RdsIamAuthError, ImportError):
    """The requested database driver is not installed; the message names the pip extra."""
