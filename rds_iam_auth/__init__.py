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

import logging

from ._default import connect, connect_async
from ._dsql import dsql_host
from ._version import __version__
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

logging.getLogger("rds_iam_auth").addHandler(logging.NullHandler())
