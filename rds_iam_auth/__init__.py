"""IAM database authentication for Amazon RDS, Aurora, RDS Proxy and Aurora DSQL.

Signs SigV4 tokens (byte-identical to boto3's ``generate_db_auth_token``) without an RDS
client, caches them until shortly before they expire, and connects psycopg, psycopg2, pg8000,
PyMySQL, mysql.connector or mysqlclient over verified TLS::

    import rds_iam_auth

    conn = rds_iam_auth.connect(
        "mydb.abc123.us-east-1.rds.amazonaws.com", "app_user", driver="psycopg", dbname="app"
    )

Importing this package imports no database driver and no boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._default import connect, connect_async
    from ._dsql import dsql_host
    from .connector import Connector, Stats
    from .endpoint import Endpoint, parse_endpoint
    from .errors import (
        CaBundleError,
        ConfigurationError,
        ConnectorClosedError,
        CredentialsError,
        DriverNotInstalledError,
        RdsIamAuthError,
        RegionNotFoundError,
        TokenGenerationError,
    )
    from .signer import SigV4Signer, generate_auth_token, generate_dsql_token
    from .token import Signer, Token

__all__ = [
    "CaBundleError",
    "ConfigurationError",
    "Connector",
    "ConnectorClosedError",
    "CredentialsError",
    "DriverNotInstalledError",
    "Endpoint",
    "RdsIamAuthError",
    "RegionNotFoundError",
    "SigV4Signer",
    "Signer",
    "Stats",
    "Token",
    "TokenGenerationError",
    "__version__",
    "connect",
    "connect_async",
    "dsql_host",
    "generate_auth_token",
    "generate_dsql_token",
    "parse_endpoint",
]

# The public names load on first use (PEP 562): `rds-iam-auth token` then imports only the
# signer, not the connector, TLS and driver machinery (a third of its process time).
_LAZY: dict[str, str] = {
    "connect": "._default",
    "connect_async": "._default",
    "dsql_host": "._dsql",
    "Connector": ".connector",
    "Stats": ".connector",
    "Endpoint": ".endpoint",
    "parse_endpoint": ".endpoint",
    "SigV4Signer": ".signer",
    "generate_auth_token": ".signer",
    "generate_dsql_token": ".signer",
    "Signer": ".token",
    "Token": ".token",
    **dict.fromkeys(
        (
            "CaBundleError",
            "ConfigurationError",
            "ConnectorClosedError",
            "CredentialsError",
            "DriverNotInstalledError",
            "RdsIamAuthError",
            "RegionNotFoundError",
            "TokenGenerationError",
        ),
        ".errors",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
