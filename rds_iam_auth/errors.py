"""Exceptions raised by rds_iam_auth.

::

    RdsIamAuthError                       root of everything we raise
      ConfigurationError (ValueError)     bad host/port/user/region/keyword; names what to fix
        RegionNotFoundError               no region for this endpoint
      CredentialsError                    no usable AWS credentials (none, expired, refresh failed)
      TokenGenerationError                signing failed
      CaBundleError                       CA bundle missing, unreadable or not fetchable
      DriverNotInstalledError (ImportError)   names the pip extra to install
      ConnectorClosedError                the Connector was closed

Our errors describe what went wrong *before* a driver is called: bad input, missing
credentials, a CA bundle we cannot find. A database refusing a login is reported with the
driver's own exception, which applications already handle.
"""

from __future__ import annotations

__all__ = [
    "CaBundleError",
    "ConfigurationError",
    "ConnectorClosedError",
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


class ConnectorClosedError(RdsIamAuthError):
    """The Connector was closed; build a new one."""
